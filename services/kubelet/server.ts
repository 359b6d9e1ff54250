/**
 * One kubelet process assembled. With the `hollow` runtime it registers N simulated
 * Nodes, keeps their Leases and statuses fresh, and runs the pods bound to them through
 * the upstream lifecycle. With the `cri` runtime it is one real node, this machine: pods
 * run on containerd through CRI, with IPs from a CNI bridge over the node's podCIDR.
 * startKubelet is what `flotilla kubelet` (main.ts) and the tests use.
 */
import { startTracing, type Tracing, type TracingOptions } from '../../lib/tracing/mod.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, componentUserAgent, connectNats, EventRecorder, metaNamespaceKey } from '../../lib/client/mod.js';
import { PodEvents } from './events.js';
import { HollowRuntime } from './hollow.js';
import { BridgeNetwork } from './cni/bridge.js';
import { CriClient } from './cri/client.js';
import { CriRuntime } from './cri/runtime.js';
import { findNoHostPortHandler, waitForHandlerNetwork } from './cri/nohostport.js';
import { hostNodeSpec } from './hostnode.js';
import { StaticPodSource } from './staticpods/manifests.js';
import { MirrorPods } from './staticpods/mirror.js';
import { DEFAULT_EVICTION_HARD, NodeHealth, type NodeReadings, nodeAllocatable, parseEvictionHard, parseReserved, readNodeReadings } from './nodehealth.js';
import { ensureLocalImages } from './images/local.js';
import { ImagePuller, type ImagePullerOptions } from './images/puller.js';
import { NodeManager, type HostNodeSpec, type NodeManagerOptions } from './nodes.js';
import { announceInstances, instanceType, type LocalInstance } from '../../lib/localcloud/mod.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { PodManager, type PodManagerOptions } from './pods.js';
import { PodSetup } from './podsetup.js';
import { DEFAULT_CLUSTER_DOMAIN, hostDnsConfig } from './dnsconfig.js';
import type { ContainerRuntime } from './runtime.js';
import { logAcceptor } from './logs/server.js';
import { LogShipper } from './logs/shipper.js';
import { SyntheticLogs } from './logs/synthetic.js';
import { ContainerLogManager, criRotatingRuntime, DEFAULT_CONTAINER_LOG_MAX_FILES, DEFAULT_CONTAINER_LOG_MAX_SIZE } from './logs/rotation.js';
import { StreamingAcceptor } from './streaming/acceptor.js';
import { serveNodeStreams } from './streams.js';
import type { StreamServer } from '../../lib/stream/mod.js';
import { serveKubeletStats } from '../../lib/stats/mod.js';
import { announceTargets, targetAddress } from '../../lib/metrics/mod.js';
import { randomUUID } from 'node:crypto';
import { KubeletMetrics } from './stats/kubeletmetrics.js';
import { StatsProvider } from './stats/provider.js';
import { serveKubeletEndpoints, type KubeletEndpoints } from './stats/server.js';

/** The pod network Flotilla's real node makes unless told otherwise: its own names, removed when the cluster stops. */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
export const DEFAULT_CNI_NETWORK = 'flotilla';
export const DEFAULT_CNI_BRIDGE = 'flt0';

/** The real node's settings (`--runtime cri`). */
export interface CriNodeOptions {
  /** containerd's CRI socket: a path or unix://path */
  endpoint: string;
  /** the kubelet's folder: image archives under images/, pod logs under pods/ */
  rootDir: string;
  /** the CNI config folder containerd reads (its conf_dir) */
  cniConfDir: string;
  /**
   * --pod-cidr: the node's spec.podCIDR when it registers (an existing Node keeps its
   * own). Without it the kubelet waits for the node IPAM controller to give one.
   */
  podCIDR?: string;
  /** default: the hostname */
  nodeName?: string;
  /** --node-ip: the node's InternalIP (default: this machine's address on its default-route interface) */
  nodeIP?: string;
  /**
   * --netns: the node's pods live in this network namespace (its containerd runs there,
   * flotilla up --nodes 2): with --cloud-provider=external it is a `netns` machine of the
   * local cloud, whose podCIDR the route controller routes to nodeIP
   */
  netns?: string;
  /** CNI network and bridge names (defaults flotilla, flt0) */
  network?: string;
  bridge?: string;
  relistIntervalMs?: number;
  /** --system-reserved, --kube-reserved ("cpu=500m,memory=1Gi") and --eviction-hard: subtracted from allocatable */
  systemReserved?: string;
  kubeReserved?: string;
  evictionHard?: string;
  /** --pod-manifest-path: static pods run from this folder (created if missing) */
  podManifestPath?: string;
  /** the machine's readings (tests inject their own) */
  readNode?: () => NodeReadings | Promise<NodeReadings>;
  /** image pulls: the local registry's hosts (default localhost:5000, 127.0.0.1:5000) and the back-off (tests shorten it) */
  images?: Pick<ImagePullerOptions, 'registries' | 'backoffInitialMs' | 'backoffMaxMs' | 'errImagePullResyncMs'>;
  /** log rotation (upstream --container-log-max-size, --container-log-max-files; 10 MiB, 5) and how often it checks (10 s) */
  containerLogMaxSize?: number;
  containerLogMaxFiles?: number;
  containerLogMonitorPeriodMs?: number;
  /** ship every container's log into the log stream (logs/shipper.ts; `flotilla kubelet --ship-logs`) */
  shipLogs?: boolean;
  /** --cluster-dns, --cluster-domain, --resolv-conf: pods' resolv.conf (dnsconfig.ts); absent: containerd copies the host's */
  dns?: { clusterDNS: string[]; clusterDomain?: string; resolvConf?: string };
}

export interface StartKubeletOptions {
  natsUrl: string;
  runtime?: 'hollow' | 'cri';
  /** hollow nodes carried (the `hollow` runtime) */
  nodes?: number;
  cri?: CriNodeOptions;
  namePrefix?: string;
  firstIndex?: number;
  cpu?: string;
  memory?: string;
  pods?: number;
  zones?: number;
  startDelayMs?: number;
  /** hollow nodes: each running container prints this many synthetic lines a second into the log stream (default 0: none) */
  syntheticLogRate?: number;
  /** heartbeat and status-writing knobs (tests shorten them) */
  node?: Partial<
    Pick<NodeManagerOptions, 'leaseDurationSeconds' | 'leaseRenewIntervalMs' | 'statusReportIntervalMs' | 'statusUpdateIntervalMs' | 'retryMs' | 'tickMs' | 'concurrency'>
  >;
  pod?: Omit<PodManagerOptions, 'startDelayMs' | 'log' | 'events'>;
  log?: (line: string) => void;
  /** trace the first sync of pods whose create was sampled (absent: no tracing; the `kubelet` command always passes it) */
  tracing?: Omit<TracingOptions, 'service' | 'nc'>;
  /**
   * The read-only HTTP port (/metrics, /metrics/resource, /metrics/cadvisor, /stats/summary)
   * on readOnlyHost (default 127.0.0.1): absent means any free port, 0 none (as upstream).
   * Its nodes advertise it as status.daemonEndpoints.kubeletEndpoint.Port.
   */
  readOnlyPort?: number;
  readOnlyHost?: string;
  /** when readOnlyPort is taken (another kubelet on this machine), serve on any free port instead of failing */
  readOnlyPortFallback?: boolean;
  /**
   * --cloud-provider=external: the nodes are instances of the `local` cloud (announced on
   * NATS, lib/localcloud) and the cloud-controller-manager initializes their Nodes
   */
  cloudProvider?: 'external';
}

export interface RunningKubelet {
  readonly client: ApiClient;
  readonly nodes: NodeManager;
  readonly pods: PodManager;
  readonly runtime: ContainerRuntime;
  /** the real node's pod network (`cri`) */
  readonly network?: BridgeNetwork;
  /** the read-only endpoints (unless readOnlyPort was 0) */
  readonly endpoints?: KubeletEndpoints;
  /** this process's id in the NATS stats scrape */
  readonly statsProcessId: string;
  stop(): Promise<void>;
}

/** CRI's Status says NetworkReady once containerd has loaded the conflist (it watches the folder). */
async function waitForNetworkReady(client: CriClient, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { conditions } = await client.status();
    const net = conditions.find((c) => c.type === 'NetworkReady');
    if (net?.status) return;
    if (Date.now() > deadline) throw new Error(`the container runtime's network is not ready after ${timeoutMs} ms: ${net?.reason ?? ''} ${net?.message ?? ''}`.trim());
    await sleep(100);
  }
}

/** The real node's runtime: containerd's CRI with the local images imported (never pulled). */
async function connectCri(o: CriNodeOptions): Promise<CriRuntime> {
  const socket = o.endpoint.replace(/^unix:\/\//, '');
  const client = new CriClient(socket);
  try {
    await ensureLocalImages({ cacheDir: path.join(o.rootDir, 'images'), socket, client });
    return await CriRuntime.connect({ client, podLogDir: path.join(o.rootDir, 'pods'), relistIntervalMs: o.relistIntervalMs });
  } catch (e) {
    client.close();
    throw new Error(`container runtime at ${o.endpoint}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Why the node is not Ready, in upstream's words, or undefined when it is: the runtime
 * answers and says RuntimeReady and NetworkReady, and the kubelet wrote the pod network.
 */
async function runtimeNotReady(client: CriClient, networkUp: boolean): Promise<string | undefined> {
  let conditions;
  try {
    ({ conditions } = await client.status());
  } catch (e) {
    return `container runtime is down: ${(e as Error).message}`;
  }
  const rt = conditions.find((c) => c.type === 'RuntimeReady');
  if (!rt?.status) return `container runtime not ready: RuntimeReady=false reason:${rt?.reason ?? ''} message:${rt?.message ?? ''}`;
  const net = conditions.find((c) => c.type === 'NetworkReady');
  if (!net?.status) return `container runtime network not ready: NetworkReady=false reason:${net?.reason ?? ''} message:${net?.message ?? ''}`;
  if (!networkUp) return 'container runtime network not ready: waiting for the node\'s podCIDR';
  return undefined;
}

export async function startKubelet(opts: StartKubeletOptions): Promise<RunningKubelet> {
  let markNetworkUp = () => {};
  const log = opts.log ?? ((line: string) => process.stderr.write(`kubelet: ${line}\n`));
  const kind = opts.runtime ?? 'hollow';
  if (kind !== 'hollow' && kind !== 'cri') throw new Error(`--runtime: "hollow" or "cri", got "${opts.runtime}"`);
  if (kind === 'cri' && !opts.cri) throw new Error('the cri runtime needs its options (endpoint, rootDir, cniConfDir)');
  const cri = opts.cri!;
  const runtime: ContainerRuntime = kind === 'cri' ? await connectCri(cri) : new HollowRuntime();
  const host =
    kind === 'cri'
      ? hostNodeSpec({ name: cri.nodeName, internalIP: cri.nodeIP, podCIDR: cri.podCIDR, containerRuntimeVersion: `${runtime.runtimeName}://${runtime.runtimeVersion}`, dataDir: cri.rootDir, maxPods: opts.pods })
      : undefined;
  if (host) {
    const evictionHard = parseEvictionHard(cri.evictionHard ?? DEFAULT_EVICTION_HARD);
    host.allocatable = nodeAllocatable(host.capacity, parseReserved('--system-reserved', cri.systemReserved ?? ''), parseReserved('--kube-reserved', cri.kubeReserved ?? ''), evictionHard);
    let networkUp = false;
    host.health = new NodeHealth({
      read: cri.readNode ?? (() => readNodeReadings(cri.rootDir)),
      evictionHard,
      runtimeNotReady: () => runtimeNotReady((runtime as CriRuntime).client, networkUp),
    });
    await host.health.refresh();
    markNetworkUp = () => (networkUp = true);
  }
  const namePrefix = opts.namePrefix ?? 'hollow-';
  let nodeNames: () => Iterable<string> = () => [];
  let provider: StatsProvider | undefined;
  const metrics = new KubeletMetrics(() => nodeNames(), () => provider?.running() ?? { pods: 0, containers: new Map() });
  if (runtime instanceof CriRuntime) runtime.onRelist = (s) => metrics.relisted(s);
  let endpoints: KubeletEndpoints | undefined;
  if (opts.readOnlyPort !== 0) {
    try {
      const serve = (port: number) => serveKubeletEndpoints(port, opts.readOnlyHost ?? '127.0.0.1', metrics);
      endpoints = await serve(opts.readOnlyPort ?? 0).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EADDRINUSE' || !opts.readOnlyPortFallback) throw e;
        log(`read-only port ${opts.readOnlyPort} is taken: serving on a free port instead`);
        return serve(0);
      });
    } catch (e) {
      await runtime.close();
      throw new Error(`the kubelet's read-only port ${opts.readOnlyPort ?? 0}: ${(e as Error).message}`, { cause: e });
    }
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats(opts.natsUrl, { name: host ? `kubelet/${host.name}` : `kubelet/${namePrefix}*` });
  } catch (e) {
    await endpoints?.stop();
    await runtime.close();
    throw e;
  }
  // rest_client_* beside the kubelet_* series: the kubelet dashboard's API request panels
  const client = new ApiClient(nc, { userAgent: componentUserAgent('kubelet'), registry: metrics.registry });
  let tracing: Tracing | undefined;
  try {
    tracing = opts.tracing ? await startTracing({ ...opts.tracing, service: 'kubelet', nc }) : undefined;
  } catch (e) {
    await runtime.close();
    await nc.close();
    throw e;
  }
  const nodes = new NodeManager(client, {
    namePrefix,
    host,
    count: opts.nodes ?? 0,
    firstIndex: opts.firstIndex,
    cpu: opts.cpu ?? '4',
    memory: opts.memory ?? '16Gi',
    pods: opts.pods ?? 110,
    zones: opts.zones ?? 3,
    runtimeVersion: runtime.runtimeVersion,
    log,
    kubeletPort: endpoints?.port,
    externalCloudProvider: opts.cloudProvider === 'external',
    ...opts.node,
  });
  nodeNames = () => nodes.nodes.keys();
  // the real node's events, as upstream's kubelet (hollow nodes at scale record none)
  const events = host ? new PodEvents(new EventRecorder({ client, reportingController: 'kubelet', reportingInstance: host.name })) : undefined;
  // a real node resolves env sources, volumes and security settings for its containers
  const setup = host ? new PodSetup({ client, rootDir: cri.rootDir, allocatable: () => host.allocatable ?? host.capacity, events, log, dns: cri.dns && { clusterDNS: cri.dns.clusterDNS, clusterDomain: cri.dns.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN, host: hostDnsConfig(cri.dns.resolvConf) } }) : undefined;
  const images = events && runtime instanceof CriRuntime ? new ImagePuller({ ...cri.images, service: runtime.client, events }) : undefined;
  const pods = new PodManager(client, metrics.instrument(runtime), nodes, { ...opts.pod, events, startDelayMs: opts.startDelayMs, log, setup, images, tracer: tracing?.tracer, metrics });
  provider = new StatsProvider({ pods, nodes, runtime, cri: host && runtime instanceof CriRuntime ? { client: runtime.client, nodeName: host.name } : undefined });
  const statsProcessId = randomUUID();
  let statsSub: ReturnType<typeof serveKubeletStats> | undefined;
  // Prometheus finds this process's endpoints over NATS: one target per process, hollow series carry their node
  const announced = endpoints
    ? announceTargets(nc, () => [{ job: 'kubelet', address: targetAddress(endpoints.url), paths: ['/metrics', '/metrics/cadvisor'], ...(host ? { labels: { node: host.name } } : {}) }])
    : undefined;
  // the machines exist before their Nodes register: the cloud knows them when it initializes the Nodes
  const instances = opts.cloudProvider === 'external' ? announceInstances(nc, statsProcessId, () => localInstances(nodes, host, opts)) : undefined;
  let streams: StreamServer | undefined;
  let logRotation: ContainerLogManager | undefined;
  let shipper: LogShipper | undefined;
  let synthetic: SyntheticLogs | undefined;
  const stop = async () => {
    instances?.stop();
    statsSub?.unsubscribe();
    announced?.stop();
    await endpoints?.stop();
    await streams?.stop();
    await shipper?.stop();
    await synthetic?.stop();
    await logRotation?.stop();
    await nodes.stop();
    await pods.stop();
    await setup?.stop();
    await events?.stop();
    await runtime.close();
    client.close();
    await tracing?.shutdown();
    await nc.close();
  };
  const running: RunningKubelet = { client, nodes, pods, runtime, network: undefined, endpoints, statsProcessId, stop };
  const setUpNetwork = async (podCIDR: string) => {
    const rt = runtime as CriRuntime;
    // pods without hostPorts skip portmap where containerd has a handler for them (cri/nohostport.ts)
    const noHostPort = await findNoHostPortHandler(rt.client);
    const network = new BridgeNetwork({ confDir: cri.cniConfDir, name: cri.network ?? DEFAULT_CNI_NETWORK, bridge: cri.bridge ?? DEFAULT_CNI_BRIDGE, podCIDR, noHostPortConfDir: noHostPort?.cniConfDir });
    network.setUp();
    await waitForNetworkReady(rt.client);
    if (noHostPort && (await waitForHandlerNetwork(rt.client, noHostPort.handler))) rt.useNoHostPortHandler(noHostPort.handler);
    else if (noHostPort) log(`containerd did not load the network of runtime handler ${noHostPort.handler} (${noHostPort.cniConfDir}): every pod keeps the chain with portmap`);
    (running as { network?: BridgeNetwork }).network = network;
    markNetworkUp();
  };
  const connect = async () => {
    await nodes.register();
    nodes.start();
    // the Node's podCIDR: --pod-cidr, the one an existing Node kept, or node IPAM's
    if (host && runtime instanceof CriRuntime && !running.network) await setUpNetwork(await nodes.waitForPodCIDR(host.name));
    await pods.start();
    if (endpoints) endpoints.provider = provider;
    const stats = provider!;
    statsSub ??= serveKubeletStats(nc, statsProcessId, () => stats.read(), (e) => log(`reading stats for a scrape: ${e.message}`));
    staticPods?.mirrors.start();
    if (host && runtime instanceof CriRuntime) {
      // logs (and exec, attach, port-forward) reach the node over NATS: no inbound port
      const streaming = new StreamingAcceptor(runtime.client);
      const accept = (req: Parameters<StreamingAcceptor['accept']>[0]) => streaming.accept(req);
      streams = await serveNodeStreams(nc, host.name, {
        log: logAcceptor({ pods, runtime, podLogDir: path.join(cri.rootDir, 'pods') }),
        exec: accept,
        attach: accept,
        portforward: accept,
      });
      const policy = { maxSize: cri.containerLogMaxSize ?? DEFAULT_CONTAINER_LOG_MAX_SIZE, maxFiles: cri.containerLogMaxFiles ?? DEFAULT_CONTAINER_LOG_MAX_FILES };
      logRotation = new ContainerLogManager(criRotatingRuntime(runtime), policy, cri.containerLogMonitorPeriodMs, log);
      logRotation.start();
      if (cri.shipLogs) {
        const labels = (namespace: string, name: string, uid: string) => {
          const p = pods.podStatus(namespace, name);
          return p?.uid === uid ? (p.pod.metadata?.labels ?? {}) : undefined;
        };
        shipper = new LogShipper({ nc, nodeName: host.name, podLogDir: path.join(cri.rootDir, 'pods'), stateDir: path.join(cri.rootDir, 'log-shipper'), pods: { labels }, log });
        shipper.start();
      }
    }
    if (runtime instanceof HollowRuntime && opts.syntheticLogRate) {
      const hollow = runtime;
      const pod = (namespace: string, name: string, uid: string) => {
        const p = pods.podStatus(namespace, name);
        return p?.uid === uid ? { node: p.pod.spec?.nodeName ?? '', labels: p.pod.metadata?.labels ?? {} } : undefined;
      };
      synthetic = new SyntheticLogs({ nc, rate: opts.syntheticLogRate, containers: () => hollow.runningContainers(), pod, log });
      synthetic.start();
    }
    // Ready as soon as the network is: not on the next 10 s health check
    await nodes.recheckHealth();
  };
  let staticPods: StaticPods | undefined;
  try {
    if (!(host && cri.podManifestPath)) {
      await connect();
      return running;
    }
    // static pods run before, and without, the apiserver: hostNetwork ones at once, the
    // others once the pod network is up (at once with --pod-cidr)
    if (cri.podCIDR) await setUpNetwork(cri.podCIDR);
    staticPods = startStaticPods(cri.podManifestPath, host.name, client, pods, nodes, () => running.network !== undefined, log);
  } catch (e) {
    await stop();
    throw e;
  }
  const sp = staticPods;
  const stopStatic = running.stop;
  let stopping = false;
  running.stop = async () => {
    stopping = true;
    sp.stop();
    await stopStatic();
  };
  void (async () => {
    // the apiserver may not answer yet (it may be one of the static pods): try until it does
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await connect();
        log(`node ${host.name} registered; mirror pods follow its static pods`);
        return;
      } catch (e) {
        if (stopping) return;
        if (attempt === 1 || attempt % 10 === 0) log(`registering node ${host.name}: ${(e as Error).message}; static pods run meanwhile, trying again every second`);
        await sleep(1000);
      }
    }
  })();
  return running;
}

/** This process's nodes as machines of the local cloud. */
function localInstances(nodes: NodeManager, host: HostNodeSpec | undefined, opts: StartKubeletOptions): LocalInstance[] {
  if (host) {
    const network = opts.cri?.netns ? 'netns' : 'host';
    return [{ name: host.name, internalIP: host.internalIP, instanceType: instanceType('host', host.capacity.cpu ?? '1', Number(parseQuantity(host.capacity.memory ?? '0').value())), network }];
  }
  const type = instanceType('hollow', opts.cpu ?? '4', Number(parseQuantity(opts.memory ?? '16Gi').value()));
  return [...nodes.nodes.values()].map((n) => ({ name: n.name, internalIP: n.internalIP, zone: n.zone, instanceType: type, network: 'none' }));
}

interface StaticPods {
  source: StaticPodSource;
  mirrors: MirrorPods;
  stop(): void;
}

/** --pod-manifest-path: the folder's pods run on this node; mirror pods once the apiserver answers. */
function startStaticPods(dir: string, nodeName: string, client: ApiClient, pods: PodManager, nodes: NodeManager, networkUp: () => boolean, log: (line: string) => void): StaticPods {
  mkdirSync(dir, { recursive: true });
  const waiting = new Map<string, Pod>();
  let timer: NodeJS.Timeout | undefined;
  const run = (pod: Pod) => {
    if (!pod.spec?.hostNetwork && !networkUp()) {
      waiting.set(metaNamespaceKey(pod), pod);
      timer ??= setInterval(() => {
        if (!networkUp()) return;
        clearInterval(timer);
        for (const p of waiting.values()) run(p);
        waiting.clear();
      }, 200);
      return;
    }
    pods.runStaticPod(pod).then(
      () => mirrors.syncSoon(),
      (e) => log(`static pod ${metaNamespaceKey(pod)}: ${(e as Error).message}`),
    );
  };
  const source = new StaticPodSource(dir, nodeName, {
    add: run,
    remove: (key) => {
      waiting.delete(key);
      pods.stopStaticPod(key).then(
        () => mirrors.syncSoon(),
        (e) => log(`stopping static pod ${key}: ${(e as Error).message}`),
      );
    },
  }, log);
  const mirrors = new MirrorPods(client, pods, nodes, nodeName, source, log);
  source.start();
  return {
    source,
    mirrors,
    stop() {
      clearInterval(timer);
      source.stop();
      mirrors.stop();
    },
  };
}
