/**
 * `flotilla up`: a whole cluster on one machine. Joins the NATS server it is given, or
 * runs `nats-server -js` on the data folder; as root with the node's packages it runs
 * containerd, supervised, for a real node (this machine); then runs each service as its
 * own supervised process, waits for the apiserver to be ready, writes a kubeconfig and
 * prints `export KUBECONFIG=<path>`. SIGINT/SIGTERM stop the services (in reverse start
 * order), then remove the real node's pods, stop containerd and remove the pod network,
 * then stop nats-server, leaving no process behind.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BUCKET } from '../lib/store/kvstore.js';
import {
  CLI_MAIN,
  choosePort,
  natsServerArgs,
  natsServerBinary,
  natsStoreDir,
  processes,
  readState,
  resolveDataDir,
  runningCluster,
  strayNatsServers,
  terminate,
  waitForListener,
  writeState,
  type ClusterState,
} from './datafolder.js';
import { serverUrl, writeKubeconfig } from './kubeconfig.js';
import { SupervisedProcess, type SupervisorOutput } from './supervisor.js';
import { APISERVER_NODE_FLAGS } from '../services/apiserver/nodeflags.js';
import { SCHEDULER_NODE_FLAGS } from '../services/scheduler/nodeflags.js';
import { durationFlag, intFlag, portFlag } from '../lib/process/flags.js';
import { ADDONS, parseAddons } from './addons.js';
import { DEFAULT_PROMETHEUS_PORT, PrometheusAddon } from './prometheus/addon.js';
import { DEFAULT_DASHBOARD_PORT } from '../services/dashboard/server.js';
import { TRACING_FLAG_OPTIONS, tracingArgs, tracingFlags } from '../lib/tracing/mod.js';
import { ContainerdLauncher, waitForCri } from '../services/kubelet/containerd/launcher.js';
import { requireNodeHost } from '../services/kubelet/host/prerequisites.js';
import { BridgeNetwork, parseIPv4CIDR } from '../services/kubelet/cni/bridge.js';
import { existingNatTables, NAT_TABLES, removeLeftoverNatTables } from '../services/kubelet/cni/nattables.js';
import { CriClient } from '../services/kubelet/cri/client.js';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_CNI_BRIDGE, DEFAULT_CNI_NETWORK } from '../services/kubelet/server.js';
import { formatCidr, intToIp, parseCidr } from '../lib/net/mod.js';
import { DEFAULT_CNI_CONF_DIR } from '../services/kubelet/main.js';
import { LOCAL_REGISTRY_PORT } from '../services/kubelet/containerd/config.js';
import { LocalRegistry, REGISTRY_BIN, waitForRegistry } from '../services/kubelet/images/registry.js';
import { CONTROL_PLANE_MODES, STATIC_POD_COMPONENTS, manifestsDir, writeControlPlaneManifests, type ControlPlaneMode, type StaticPodComponent } from './staticcontrolplane.js';
import { clusterDnsIP } from '../services/dns/registration.js';
import { DEFAULT_LOAD_BALANCER_IP_RANGE } from '../services/cloud-controller-manager/cloudprovider/local/loadbalancer.js';
import { DEFAULT_SERVICE_CIDR } from '../services/proxy/server.js';
import { checkCoreAvailable, defaultCoreKind } from '../services/scheduler/core/mod.js';
import { natsMemoryLimitEnv, natsServerEnv } from '../lib/nats/server.js';
import {
  checkNodeLinkCIDR,
  DEFAULT_NODE_LINK_CIDR,
  machineNetworksOverlapping,
  MAX_REAL_NODES,
  NetnsNodeRuntime,
  netnsNodeNames,
  removeNetnsNode,
  type NetnsNodeContext,
} from './netnsnodes.js';

export const DEFAULT_API_PORT = 6443;

/** What a service's command line may depend on. */
export interface ServiceContext {
  natsUrl: string;
  bucket: string;
  /** the apiserver's HTTP bind address and port */
  host: string;
  apiPort: number;
  dataDir: string;
  /** dist/cli/main.js: services run as `node <cli> <verb> ...` */
  cli: string;
  /** how many hollow nodes the kubelet process carries (0: no kubelet) */
  hollowNodes: number;
  /** --hollow-log-rate: lines a second each running hollow container prints into the log stream */
  hollowLogRate: number;
  /** the pods' address range: node IPAM gives every Node a /24 of it */
  clusterCIDR: string;
  /** the real node's kubelet flags, when this machine runs one */
  realNode?: RealNodeContext;
  /** real nodes 2..N (--nodes N), each in a network namespace of its own (cli/netnsnodes.ts) */
  netnsNodes: NetnsNodeContext[];
  /** static-pods: the real node's kubelet runs apiserver, scheduler and controller-manager from <data>/manifests */
  controlPlane: ControlPlaneMode;
  /** the addons --addons picked (cli/addons.ts) */
  addons: string[];
  /** the --tracing-* flags up was given, passed on to the traced components */
  tracingArgs: string[];
  /** --service-cluster-ip-range / --service-node-port-range, passed on to the apiserver */
  serviceRangeArgs: string[];
  /** --node-monitor-grace-period, passed on to the controller-manager */
  nodeLifecycleArgs: string[];
  /** the kube-dns Service's address (the 10th of the Service range): the dns service's and every real kubelet's */
  clusterDnsIP: string;
  /** the dashboard's port on 127.0.0.1, when the dashboard addon runs */
  dashboardPort: number;
}

export interface RealNodeContext {
  /** unix://<socket> of containerd's CRI */
  endpoint: string;
  rootDir: string;
  cniConfDir: string;
  /** --pod-cidr given to up: the real node's podCIDR; otherwise node IPAM gives one */
  podCIDR?: string;
  network: string;
  bridge: string;
  /** the local registry's port on 127.0.0.1 (images localhost:<port>/NAME) */
  registryPort: number;
}

export interface ServiceDef {
  name: string;
  /** arguments to `node` */
  args: (c: ServiceContext) => string[];
  /** run only when this says so (default: always) */
  enabled?: (c: ServiceContext) => boolean;
  /** a per-node service: its arguments for each namespaced node too (run as `<name>-<node>`) */
  netnsNode?: (c: ServiceContext, n: NetnsNodeContext) => string[];
}

/** The cluster's services in start order (stopped in reverse). Later components add one line each. */
export const SERVICES: ServiceDef[] = [
  {
    name: 'apiserver',
    enabled: (c) => c.controlPlane === 'processes',
    args: (c) => [...APISERVER_NODE_FLAGS, c.cli, 'apiserver', '--nats', c.natsUrl, '--bucket', c.bucket, '--host', c.host, '--port', String(c.apiPort), ...c.serviceRangeArgs, ...c.tracingArgs],
  },
  { name: 'scheduler', enabled: (c) => c.controlPlane === 'processes', args: (c) => [...SCHEDULER_NODE_FLAGS, c.cli, 'scheduler', '--nats', c.natsUrl, ...c.tracingArgs] },
  { name: 'controller-manager', enabled: (c) => c.controlPlane === 'processes', args: (c) => [c.cli, 'controller-manager', '--nats', c.natsUrl, '--allocate-node-cidrs', '--cluster-cidr', c.clusterCIDR, ...c.nodeLifecycleArgs] },
  {
    name: 'kubelet',
    enabled: (c) => c.realNode !== undefined,
    args: (c) => criKubeletArgs(c, c.realNode!, c.controlPlane === 'static-pods' ? ['--pod-manifest-path', manifestsDir(c.dataDir)] : []),
    // its pods in the node's namespace (containerd runs there); the local cloud routes its podCIDR to --node-ip
    netnsNode: (c, n) => criKubeletArgs(c, n, ['--hostname-override', n.nodeName, '--node-ip', n.nodeIP, '--netns', n.netns]),
  },
  // the local cloud: initializes the kubelets' Nodes (they run with --cloud-provider=external), LoadBalancer IPs, podCIDR routes
  { name: 'cloud-controller-manager', args: (c) => [c.cli, 'cloud-controller-manager', '--nats', c.natsUrl, '--cloud-provider', 'local', '--allocate-node-cidrs', '--cluster-cidr', c.clusterCIDR] },
  // the real node's Services; its table goes when it stops, so Ctrl-C leaves no rule
  {
    name: 'proxy',
    enabled: (c) => c.realNode !== undefined,
    args: (c) => [c.cli, 'proxy', '--nats', c.natsUrl, '--cluster-cidr', c.clusterCIDR, '--table', proxyTable(c.realNode!.bridge), '--cleanup-on-exit', ...serviceCidrArgs(c.serviceRangeArgs)],
    // a namespaced node's table goes inside its namespace; the proxy itself stays here, on NATS
    netnsNode: (c, n) => [c.cli, 'proxy', '--nats', c.natsUrl, '--hostname-override', n.nodeName, '--cluster-cidr', c.clusterCIDR, '--table', proxyTable(DEFAULT_CNI_BRIDGE), '--netns', n.netns, '--cleanup-on-exit', ...serviceCidrArgs(c.serviceRangeArgs)],
  },
  { name: 'kube-state-metrics', enabled: (c) => c.addons.includes('kube-state-metrics'), args: (c) => [c.cli, 'kube-state-metrics', '--nats', c.natsUrl] },
  {
    name: 'hollow-kubelet',
    enabled: (c) => c.hollowNodes > 0,
    args: (c) => [c.cli, 'kubelet', '--nats', c.natsUrl, '--runtime', 'hollow', '--nodes', String(c.hollowNodes), '--cloud-provider', 'external', ...(c.hollowLogRate ? ['--synthetic-log-rate', String(c.hollowLogRate)] : []), ...c.tracingArgs],
  },
  // after the first service (up waits for the apiserver there); shippers retry until its stream exists
  { name: 'logging', enabled: (c) => c.addons.includes('logging'), args: (c) => [c.cli, 'logging', '--nats', c.natsUrl] },
  // resource metrics for `kubectl top`: registers its APIService v1beta1.metrics.k8s.io itself
  { name: 'metrics', enabled: (c) => c.addons.includes('metrics-server'), args: (c) => [c.cli, 'metrics', '--nats', c.natsUrl, '--register-apiservice'] },
  // the web UI (services/dashboard) on the loopback port up chose and prints
  { name: 'dashboard', enabled: (c) => c.addons.includes('dashboard'), args: (c) => [c.cli, 'dashboard', '--nats', c.natsUrl, '--port', String(c.dashboardPort), '--apiserver', serverUrl(c.host, c.apiPort)] },
  // cluster DNS: port 53 on 127.0.0.1 and the node's address as root (else a free port); registers kube-dns itself
  { name: 'dns', enabled: (c) => c.addons.includes('dns'), args: (c) => [c.cli, 'dns', '--nats', c.natsUrl, '--cluster-ip', c.clusterDnsIP] },
];

/** a real node's kubelet: containerd's CRI, its folders and pod network names, the cluster's DNS and the local cloud */
function criKubeletArgs(c: ServiceContext, r: Omit<RealNodeContext, 'podCIDR'> & { podCIDR?: string }, extra: string[]): string[] {
  return [c.cli, 'kubelet', '--nats', c.natsUrl, '--runtime', 'cri', '--container-runtime-endpoint', r.endpoint, '--root-dir', r.rootDir,
    '--cni-conf-dir', r.cniConfDir, ...(r.podCIDR ? ['--pod-cidr', r.podCIDR] : []), '--cni-network', r.network, '--cni-bridge', r.bridge, '--registry-port', String(r.registryPort), `--ship-logs=${c.addons.includes('logging')}`, '--cloud-provider', 'external',
    ...(c.addons.includes('dns') ? ['--cluster-dns', c.clusterDnsIP, '--cluster-domain', 'cluster.local'] : []),
    ...extra, ...c.tracingArgs];
}

/** the proxy's nftables table: flotilla-proxy beside the default bridge, named after another bridge (a second cluster, a test) */
export function proxyTable(bridge: string): string {
  return bridge === DEFAULT_CNI_BRIDGE ? 'flotilla-proxy' : `flotilla-proxy-${bridge}`;
}

function serviceCidrArgs(serviceRangeArgs: string[]): string[] {
  const i = serviceRangeArgs.indexOf('--service-cluster-ip-range');
  return i >= 0 ? serviceRangeArgs.slice(i, i + 2) : [];
}

export interface UpOptions {
  dataDir: string;
  /** join this NATS instead of running nats-server */
  natsUrl?: string;
  /** the soft memory limit (Go's GOMEMLIMIT, e.g. "2GiB") of the nats-server up runs; refused with natsUrl, as up runs none then */
  natsMemoryLimit?: string;
  /** apiserver HTTP port; undefined = 6443, 0 = any free port; a busy port is replaced by a free one */
  port?: number;
  host?: string;
  bucket?: string;
  /** simulated nodes run by a `kubelet --runtime hollow` process (default 0: none) */
  hollowNodes?: number;
  /** synthetic log lines a second per running hollow container (default 0: none) */
  hollowLogRate?: number;
  /**
   * Run a real node (this machine) beside the hollow ones: containerd, a `kubelet
   * --runtime cri`, a CNI bridge. Default false here; `flotilla up` turns it on unless
   * told --no-real-node. When the machine cannot (not root, packages missing) the
   * launcher says why in one line and runs hollow nodes only.
   */
  realNode?: boolean;
  /**
   * real nodes (default 1: this machine): nodes 2..N each in a network namespace of its
   * own, with a containerd, kubelet and proxy of its own (cli/netnsnodes.ts); needs the real node
   */
  nodes?: number;
  /** the /30s joining namespaced nodes to this machine (default 10.250.0.0/24) */
  nodeLinkCIDR?: string;
  /** --tracing-* flags for the apiserver, scheduler and kubelets */
  tracingArgs?: string[];
  /** the apiserver's --service-cluster-ip-range and --service-node-port-range (default: its own defaults) */
  serviceClusterIPRange?: string;
  serviceNodePortRange?: string;
  /** a running containerd's CRI endpoint to use instead of starting one */
  containerRuntimeEndpoint?: string;
  /** the real node's podCIDR (default: node IPAM gives one) and CNI names (defaults flotilla, flt0) */
  podCIDR?: string;
  /** node IPAM's range (default: --pod-cidr's /16, or 10.244.0.0/16; wider when the nodes need more /24s) */
  clusterCIDR?: string;
  cniNetwork?: string;
  cniBridge?: string;
  /** the local registry's port on 127.0.0.1 (default 5000; a busy port is replaced by a free one) */
  registryPort?: number;
  /** static-pods: the control plane as static pods of the real node (kubeadm's layout); needs the real node */
  controlPlane?: ControlPlaneMode;
  /** how long to wait for the apiserver's /readyz */
  readyTimeoutMs?: number;
  /** addons to run (cli/addons.ts; default all) */
  addons?: string[];
  /** Prometheus' port (default 9090; a busy port is replaced by a free one; 0 = any) */
  prometheusPort?: number;
  /** Prometheus' scrape interval (default 15 s) */
  scrapeIntervalMs?: number;
  /** the dashboard's port on 127.0.0.1 (default 8090; a busy port is replaced by a free one; 0 = any) */
  dashboardPort?: number;
  /**
   * the controller-manager's --node-monitor-grace-period, a Go duration (default its own, 40s): how long
   * a node may go unheard of before it is marked Unknown and its pods evicted
   */
  nodeMonitorGracePeriod?: string;
  out?: SupervisorOutput;
}

export const stdOutput: SupervisorOutput = {
  stdout: process.stdout,
  stderr: process.stderr,
  log: (line) => process.stderr.write(`flotilla: ${line}\n`),
};

export class Launcher {
  readonly dataDir: string;
  readonly host: string;
  readonly bucket: string;
  natsUrl = '';
  apiserverUrl = '';
  /** the dashboard's URL, when the dashboard addon runs */
  dashboardUrl = '';
  kubeconfig = '';
  nats: SupervisedProcess | undefined;
  /** containerd for the real node, when the launcher runs it */
  containerd: SupervisedProcess | undefined;
  /** the nat tables that existed before containerd started: the ones the portmap plugin adds go at stop when empty */
  private natTablesBefore = new Set<string>(NAT_TABLES);
  /** the real node's local registry (docker-registry) */
  registry: SupervisedProcess | undefined;
  realNode: RealNodeContext | undefined;
  /** real nodes 2..N, in network namespaces of their own */
  readonly netnsNodes: NetnsNodeRuntime[] = [];
  readonly services: SupervisedProcess[] = [];
  /** Prometheus, when --addons has it and it is installed */
  prometheus: PrometheusAddon | undefined;
  private readonly out: SupervisorOutput;
  private stopping: Promise<void> | undefined;
  private state: ClusterState | undefined;

  constructor(private readonly opts: UpOptions) {
    this.dataDir = path.resolve(opts.dataDir);
    this.host = opts.host ?? '127.0.0.1';
    this.bucket = opts.bucket ?? DEFAULT_BUCKET;
    this.out = opts.out ?? stdOutput;
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  async start(): Promise<void> {
    const log = this.out.log;
    mkdirSync(this.dataDir, { recursive: true });
    const other = runningCluster(this.dataDir);
    if (other) throw new Error(`a cluster is already running on data folder ${this.dataDir} (launcher pid ${other.pid}); stop it first`);
    const previous = readState(this.dataDir);
    const nodes = this.opts.nodes ?? 1;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_REAL_NODES) throw new Error(`--nodes: 1 to ${MAX_REAL_NODES} real nodes, not ${nodes}`);
    if (nodes > 1 && !this.opts.realNode) throw new Error('--nodes N needs the real node (node 1 is this machine): drop --no-real-node');
    const linkCIDR = this.opts.nodeLinkCIDR ?? DEFAULT_NODE_LINK_CIDR;
    const netnsNames = Array.from({ length: nodes - 1 }, (_, i) =>
      netnsNodeNames(this.dataDir, this.opts.cniBridge ?? DEFAULT_CNI_BRIDGE, this.opts.cniNetwork ?? DEFAULT_CNI_NETWORK, i + 2, linkCIDR));
    const width = Math.max('nats-server'.length, ...SERVICES.map((s) => s.name.length), ...netnsNames.map((n) => `containerd-${n.name}`.length));
    // what a killed launcher recorded stays recorded until it is removed
    const leftovers = previous?.netnsNodes ?? [];

    if (this.opts.natsUrl) {
      if (this.opts.natsMemoryLimit !== undefined) throw new Error(natsMemoryLimitJoinError(this.opts.natsUrl, this.opts.natsMemoryLimit));
      await checkNats(this.opts.natsUrl);
      this.natsUrl = this.opts.natsUrl;
      this.state = { natsUrl: this.natsUrl, managedNats: false, natsPort: previous?.natsPort, bucket: this.bucket, pid: process.pid, netnsNodes: leftovers };
      writeState(this.dataDir, this.state);
      log(`joining NATS at ${this.natsUrl}`);
    } else {
      const bin = natsServerBinary();
      for (const stray of strayNatsServers(this.dataDir)) {
        log(`stopping nats-server pid ${stray.pid}, left running on this data folder by a launcher that was killed`);
        await terminate(stray.pid);
      }
      const { port, moved } = await choosePort(previous?.natsPort ?? 0);
      if (moved) log(`NATS port ${previous?.natsPort} (used last time) is busy; using ${port}`);
      this.natsUrl = `nats://127.0.0.1:${port}`;
      this.state = { natsUrl: this.natsUrl, managedNats: true, natsPort: port, bucket: this.bucket, pid: process.pid, netnsNodes: leftovers };
      // Written before nats-server starts so a second launcher on this folder refuses to start.
      writeState(this.dataDir, this.state);
      mkdirSync(natsStoreDir(this.dataDir), { recursive: true });
      // the limit and the processors in nats-server's environment only: containerd, the registry and prometheus are Go programs too
      const env = natsServerEnv(this.opts.natsMemoryLimit);
      this.nats = new SupervisedProcess({ name: 'nats-server', command: bin, args: natsServerArgs(this.dataDir, port), env }, this.out, width);
      this.nats.start();
      await waitForListener(port, this.nats.child, 'nats-server');
      const limit = this.opts.natsMemoryLimit === undefined ? '' : ` and a soft memory limit of ${this.opts.natsMemoryLimit} (GOMEMLIMIT)`;
      log(`nats-server listening on ${this.natsUrl} with its data in ${natsStoreDir(this.dataDir)}, GOMAXPROCS ${env.GOMAXPROCS}${limit}`);
    }
    this.throwIfStopping();

    const wanted = this.opts.port ?? DEFAULT_API_PORT;
    const { port: apiPort, moved } = await choosePort(wanted, this.host);
    if (moved) log(`port ${wanted} is busy; the apiserver uses port ${apiPort}`);
    const addons = this.opts.addons ?? [...ADDONS];
    let dashboardPort = 0;
    if (addons.includes('dashboard')) {
      const wantedUi = this.opts.dashboardPort ?? DEFAULT_DASHBOARD_PORT;
      const chosen = await choosePort(wantedUi);
      if (chosen.moved) log(`port ${wantedUi} is busy; the dashboard uses port ${chosen.port}`);
      dashboardPort = chosen.port;
      this.dashboardUrl = `http://127.0.0.1:${dashboardPort}/`;
    }
    const ctx: ServiceContext = {
      natsUrl: this.natsUrl,
      bucket: this.bucket,
      host: this.host,
      apiPort,
      dataDir: this.dataDir,
      cli: CLI_MAIN,
      hollowNodes: this.opts.hollowNodes ?? 0,
      hollowLogRate: this.opts.hollowLogRate ?? 0,
      clusterCIDR: clusterCidrFor(this.opts.clusterCIDR, this.opts.podCIDR, (this.opts.hollowNodes ?? 0) + nodes),
      netnsNodes: [],
      controlPlane: this.opts.controlPlane ?? 'processes',
      addons,
      tracingArgs: this.opts.tracingArgs ?? [],
      serviceRangeArgs: [
        ...(this.opts.serviceClusterIPRange ? ['--service-cluster-ip-range', this.opts.serviceClusterIPRange] : []),
        ...(this.opts.serviceNodePortRange ? ['--service-node-port-range', this.opts.serviceNodePortRange] : []),
      ],
      nodeLifecycleArgs: this.opts.nodeMonitorGracePeriod ? ['--node-monitor-grace-period', this.opts.nodeMonitorGracePeriod] : [],
      clusterDnsIP: clusterDnsIP(this.opts.serviceClusterIPRange),
      dashboardPort,
    };
    log(`node IPAM gives each Node a /24 of ${ctx.clusterCIDR}`);
    ctx.realNode = this.realNode = await this.startNodeRuntime(width);
    this.throwIfStopping();
    await this.removeNetnsNodeLeftovers();
    if (netnsNames.length && !ctx.realNode) log(`no real node on this machine: nodes 2..${nodes} (network namespaces) need it and are left out`);
    else if (netnsNames.length && ctx.realNode) {
      checkNodeLinkCIDR(linkCIDR, nodes, [['the cluster CIDR', ctx.clusterCIDR], ['the Service range', this.opts.serviceClusterIPRange ?? DEFAULT_SERVICE_CIDR], ['the load balancer range', DEFAULT_LOAD_BALANCER_IP_RANGE]]);
      const taken = machineNetworksOverlapping(linkCIDR);
      if (taken.length) throw new Error(`--node-link-cidr ${linkCIDR} overlaps this machine's ${taken.join(', ')}: pick another range with --node-link-cidr`);
      ctx.netnsNodes = await this.startNetnsNodes(netnsNames, ctx.realNode.registryPort, width);
    }
    this.apiserverUrl = serverUrl(this.host, apiPort);
    if (ctx.controlPlane === 'static-pods') {
      if (!ctx.realNode) throw new Error('--control-plane static-pods needs the real node (the kubelet runs the control plane), and this machine runs none');
      const byName = new Map(SERVICES.map((d) => [d.name, d]));
      const commands = Object.fromEntries(STATIC_POD_COMPONENTS.map((c) => [c, [process.execPath, ...byName.get(c)!.args(ctx)]])) as Record<StaticPodComponent, string[]>;
      const files = writeControlPlaneManifests(manifestsDir(this.dataDir), commands);
      log(`control plane as static pods of the real node: ${files.length} manifests in ${manifestsDir(this.dataDir)}`);
    }
    // the apiserver first (with static pods: the kubelet that runs it): the components
    // after it talk to it from their first moment
    for (const [i, def] of SERVICES.filter((d) => d.enabled?.(ctx) ?? true).entries()) {
      const p = new SupervisedProcess({ name: def.name, command: process.execPath, args: def.args(ctx) }, this.out, width);
      this.services.push(p);
      p.start();
      if (i === 0) {
        await this.waitReady(this.opts.readyTimeoutMs ?? 120_000);
        this.throwIfStopping();
      }
      for (const n of def.netnsNode ? ctx.netnsNodes : []) {
        const q = new SupervisedProcess({ name: `${def.name}-${n.nodeName}`, command: process.execPath, args: def.netnsNode!(ctx, n) }, this.out, width);
        this.services.push(q);
        q.start();
      }
    }

    if (ctx.addons.includes('prometheus')) {
      const prometheus = new PrometheusAddon({ dataDir: this.dataDir, natsUrl: this.natsUrl, port: this.opts.prometheusPort, scrapeIntervalMs: this.opts.scrapeIntervalMs ?? 15_000, out: this.out, prefixWidth: width });
      this.prometheus = prometheus;
      if (!(await prometheus.start())) this.prometheus = undefined;
      this.throwIfStopping();
    }

    this.kubeconfig = writeKubeconfig(path.join(this.dataDir, 'kubeconfig'), this.apiserverUrl);
    this.state = { ...this.state, apiserverUrl: this.apiserverUrl, containerRuntimeEndpoint: this.realNode?.endpoint, prometheusUrl: this.prometheus?.url, dashboardUrl: this.dashboardUrl || undefined };
    writeState(this.dataDir, this.state);
    log(`cluster ready: apiserver ${this.apiserverUrl}, NATS ${this.natsUrl}, bucket ${this.bucket}`);
  }

  /**
   * The real node's container runtime: containerd under <data>/containerd, supervised,
   * answering CRI before the kubelet starts. Undefined (after one line saying why) when
   * this machine cannot run containers.
   */
  private async startNodeRuntime(width: number): Promise<RealNodeContext | undefined> {
    if (!this.opts.realNode) return undefined;
    const log = this.out.log;
    const names = {
      rootDir: path.join(this.dataDir, 'kubelet'),
      podCIDR: this.opts.podCIDR,
      network: this.opts.cniNetwork ?? DEFAULT_CNI_NETWORK,
      bridge: this.opts.cniBridge ?? DEFAULT_CNI_BRIDGE,
    };
    if (names.podCIDR) parseIPv4CIDR(names.podCIDR);
    if (this.opts.containerRuntimeEndpoint) {
      await waitForCri(this.opts.containerRuntimeEndpoint.replace(/^unix:\/\//, ''), 5000);
      log(`real node on the container runtime at ${this.opts.containerRuntimeEndpoint}`);
      return { ...names, endpoint: this.opts.containerRuntimeEndpoint, cniConfDir: DEFAULT_CNI_CONF_DIR, registryPort: await this.startRegistry(width) };
    }
    try {
      requireNodeHost('a real node');
    } catch (e) {
      log(`real node disabled: ${(e as Error).message}; running hollow nodes only`);
      return undefined;
    }
    const cniConfDir = path.join(this.dataDir, 'cni', 'net.d');
    const registryPort = await this.startRegistry(width);
    const launcher = new ContainerdLauncher({ dir: path.join(this.dataDir, 'containerd'), cniConfDir, registryPort });
    for (const pid of strayContainerds(launcher.paths.config)) {
      log(`stopping containerd pid ${pid}, left running on this data folder by a launcher that was killed`);
      await terminate(pid);
    }
    this.natTablesBefore = existingNatTables();
    // containerd's info level prints a line per sandbox and container step: only warnings go to the terminal
    const spec = launcher.processSpec();
    this.containerd = new SupervisedProcess({ ...spec, args: [...spec.args, '--log-level', 'warn'] }, this.out, width);
    this.containerd.start();
    try {
      await waitForCri(launcher.paths.socket, 30_000, () => this.containerd?.running ?? false);
    } catch (e) {
      await this.containerd.stop();
      this.containerd = undefined;
      await this.registry?.stop();
      this.registry = undefined;
      log(`real node disabled: ${(e as Error).message}; running hollow nodes only (its output is above)`);
      return undefined;
    }
    log(`containerd's CRI answers on ${launcher.paths.socket}`);
    return { ...names, endpoint: `unix://${launcher.paths.socket}`, cniConfDir, registryPort };
  }

  /** Removes the namespaced nodes a killed launcher left on this data folder (its state names them). */
  private async removeNetnsNodeLeftovers(): Promise<void> {
    const records = this.state?.netnsNodes ?? [];
    if (!records.length) return;
    const left: typeof records = [];
    for (const r of records) {
      this.out.log(`removing node ${r.name} (network namespace, veth ${r.hostInterface}, containerd), left by a launcher that was killed`);
      try {
        await removeNetnsNode(r, this.out.log, strayContainerds);
      } catch (e) {
        left.push(r);
        this.out.log(`removing node ${r.name}: ${(e as Error).message}`);
      }
    }
    this.state = { ...this.state!, netnsNodes: left };
    writeState(this.dataDir, this.state);
    if (left.length) throw new Error(`what a killed launcher left of nodes ${left.map((r) => r.name).join(', ')} cannot be removed (above)`);
  }

  /** Real nodes 2..N: namespace, veth and containerd each, recorded in the state before they are made. */
  private async startNetnsNodes(names: ReturnType<typeof netnsNodeNames>[], registryPort: number, width: number): Promise<NetnsNodeContext[]> {
    for (const n of names) {
      const r = new NetnsNodeRuntime(n, this.out, width);
      if (r.netns.namespaceExists() || r.netns.interfaceExists()) {
        throw new Error(`network namespace ${n.name} or interface ${n.hostInterface} exists and is not this data folder's (another cluster's? a cluster with --cni-bridge NAME gets names of its own); if it is a leftover: ip netns del ${n.name}; ip link del ${n.hostInterface}`);
      }
    }
    this.state = { ...this.state!, netnsNodes: names.map(({ name, hostInterface, linkCIDR, dir }) => ({ name, hostInterface, linkCIDR, dir })) };
    writeState(this.dataDir, this.state);
    const out: NetnsNodeContext[] = [];
    for (const n of names) {
      const r = new NetnsNodeRuntime(n, this.out, width);
      this.netnsNodes.push(r);
      out.push(await r.start(registryPort));
      this.throwIfStopping();
    }
    return out;
  }

  /** The local registry (docker-registry on 127.0.0.1, data under <data>/registry), supervised; returns its port. */
  private async startRegistry(width: number): Promise<number> {
    const log = this.out.log;
    const dir = path.join(this.dataDir, 'registry');
    for (const pid of strayRegistries(LocalRegistry.configPath(dir))) {
      log(`stopping docker-registry pid ${pid}, left running on this data folder by a launcher that was killed`);
      await terminate(pid);
    }
    const wanted = this.opts.registryPort ?? LOCAL_REGISTRY_PORT;
    const { port, moved } = await choosePort(wanted);
    if (moved) log(`registry port ${wanted} is busy; the local registry uses port ${port}`);
    this.registry = new SupervisedProcess(new LocalRegistry(dir, port).processSpec(), this.out, width);
    this.registry.start();
    try {
      await waitForRegistry(port, 15_000, () => this.registry?.running ?? false);
      log(`local registry on 127.0.0.1:${port}: push with skopeo copy oci-archive:FILE docker://localhost:${port}/NAME --dest-tls-verify=false`);
    } catch (e) {
      log(`local registry not running: ${(e as Error).message}; pods can still use imported images (flotilla image import)`);
    }
    return port;
  }

  /**
   * After the kubelet stopped and before containerd stops: the pods' sandboxes go (their
   * network namespaces, mounts and shims with them); after containerd, the bridge, the
   * conflist and the address leases. Only when this launcher ran containerd: a runtime it
   * was given is someone else's.
   */
  private async stopNodeRuntime(): Promise<void> {
    const r = this.realNode;
    if (!r || !this.containerd) return;
    const log = this.out.log;
    if (this.containerd.running) {
      const client = new CriClient(r.endpoint);
      try {
        const removed = await client.removeAllPodSandboxes();
        if (removed) log(`removed the ${removed} pod sandboxes of the real node`);
      } catch (e) {
        log(`removing the real node's pods: ${(e as Error).message}`);
      } finally {
        client.close();
      }
    }
    await this.containerd.stop();
    try {
      // the range only names what to remove: the conflist, bridge and leases go whatever it is
      new BridgeNetwork({ confDir: r.cniConfDir, name: r.network, bridge: r.bridge, podCIDR: r.podCIDR ?? DEFAULT_CLUSTER_CIDR }).tearDown();
    } catch (e) {
      log(`removing the pod network: ${(e as Error).message}`);
    }
    for (const t of removeLeftoverNatTables(this.natTablesBefore)) log(`removed table ${t}, which the CNI portmap plugin left behind`);
  }

  /** After the kubelets stopped: each namespaced node's pods, containerd, veth and namespace; the state forgets those removed. */
  private async stopNetnsNodes(): Promise<void> {
    if (!this.netnsNodes.length) return;
    const left = new Set((this.state?.netnsNodes ?? []).map((r) => r.name));
    for (const n of [...this.netnsNodes].reverse()) {
      try {
        await n.stop(this.out.log);
        left.delete(n.record.name);
      } catch (e) {
        this.out.log(`removing node ${n.record.name}: ${(e as Error).message}; the next start removes it`);
      }
    }
    if (this.state) this.state = { ...this.state, netnsNodes: this.state.netnsNodes?.filter((r) => left.has(r.name)) };
  }

  private throwIfStopping(): void {
    if (this.stopping) throw new Error('stopped while starting');
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.throwIfStopping();
      try {
        const res = await fetch(this.apiserverUrl + '/readyz', { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`the apiserver at ${this.apiserverUrl} is not ready after ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Services in reverse start order, then nats-server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.prometheus?.stop();
      for (const p of [...this.services].reverse()) await p.stop();
      await this.stopNodeRuntime();
      await this.stopNetnsNodes();
      await this.registry?.stop();
      await this.nats?.stop();
      if (this.state) writeState(this.dataDir, { ...this.state, pid: undefined });
    })();
    return this.stopping;
  }

  /** Synchronous last resort for process exit paths. */
  killNow(): void {
    this.prometheus?.killNow();
    for (const p of this.services) p.killNow();
    this.containerd?.killNow();
    for (const n of this.netnsNodes) n.killNow();
    this.registry?.killNow();
    this.nats?.killNow();
  }
}

/**
 * Node IPAM's range: --cluster-cidr, else the /16 around --pod-cidr (so the real node's
 * block lies in it), else 10.244.0.0/16; without --cluster-cidr, widened (10.244.0.0/14,
 * 10.240.0.0/12, ...) until it holds a /24 for every node.
 */
export function clusterCidrFor(clusterCIDR: string | undefined, podCIDR: string | undefined, nodes: number): string {
  if (clusterCIDR) return formatCidr(parseCidr(clusterCIDR));
  const { base } = parseCidr(podCIDR ?? DEFAULT_CLUSTER_CIDR);
  let prefix = 16;
  while (prefix > 8 && 2 ** (24 - prefix) < nodes) prefix--;
  return formatCidr(parseCidr(`${intToIp(base)}/${prefix}`));
}

/** containerd processes running with this config file (a launcher killed outright left them). */
export function strayContainerds(config: string): number[] {
  return processes()
    .filter(({ argv }) => argv[0]?.endsWith('containerd') && argv[argv.indexOf('--config') + 1] === config)
    .map(({ pid }) => pid);
}

/** docker-registry processes serving this config file (a launcher killed outright left them). */
export function strayRegistries(config: string): number[] {
  return processes()
    .filter(({ argv }) => argv[0] === REGISTRY_BIN && argv[1] === 'serve' && argv[2] === config)
    .map(({ pid }) => pid);
}

/** Why --nats-memory-limit is refused when up joins a NATS server: it limits only a nats-server up starts. */
function natsMemoryLimitJoinError(natsUrl: string, limit: string, from = '--nats'): string {
  const unset = from === '$NATS_URL' ? ', or unset NATS_URL to have up start its own' : '';
  return `--nats-memory-limit ${limit}: up joins the NATS server at ${natsUrl} (${from}) and starts no nats-server, so there is nothing to limit; set GOMEMLIMIT=${limit} in the environment of the nats-server you started${unset}`;
}

/** Fails with the reason when url is not a reachable NATS server with JetStream. */
async function checkNats(url: string): Promise<void> {
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 5000, maxReconnectAttempts: 0, name: 'flotilla-up-check' });
  } catch (e) {
    throw new Error(`cannot connect to NATS at ${url}: ${(e as Error).message}`);
  }
  try {
    await jetstreamManager(nc);
  } catch (e) {
    throw new Error(`NATS at ${url} has no JetStream (start it with -js): ${(e as Error).message}`);
  } finally {
    await nc.close();
  }
}

export const UP_USAGE = `usage: flotilla up [--data DIR] [--nats URL | --nats-memory-limit SIZE] [--port N] [--host ADDR] [--bucket NAME] [--hollow-nodes N] [--hollow-log-rate R]
                  [--no-real-node] [--nodes N] [--node-link-cidr CIDR] [--container-runtime-endpoint unix://PATH] [--cluster-cidr CIDR] [--pod-cidr CIDR]
                  [--service-cluster-ip-range CIDR] [--service-node-port-range A-B] [--node-monitor-grace-period D]
                  [--cni-bridge NAME] [--registry-port N] [--control-plane processes|static-pods]
                  [--addons LIST] [--prometheus-port N] [--scrape-interval D] [--dashboard-port N]
                  [--tracing-sampling-rate R] [--tracing-endpoint URL] [--tracing-retention D] [--tracing-max-bytes N]

Starts an all-in-one cluster and prints "export KUBECONFIG=<path>". Ctrl-C stops it.
As root with the node's Debian packages, this machine joins as a real node: containerd
runs pods with IPs from a CNI bridge; otherwise up says why and runs hollow nodes only.

  --data DIR     data folder (default $FLOTILLA_DATA or <project>/.flotilla/data)
  --nats URL     join this NATS server (default $NATS_URL) instead of running nats-server
  --nats-memory-limit SIZE  the soft memory limit of the nats-server up runs (Go's GOMEMLIMIT: bytes with an
                    optional unit B, KiB, MiB, GiB or TiB, e.g. 2GiB; default none): its collector works harder as
                    its heap nears SIZE instead of letting it grow to twice what is live. Not with --nats or $NATS_URL:
                    up starts no nats-server then, and refuses the flag (set GOMEMLIMIT where that server is started)
  --port N       apiserver HTTP port (default ${DEFAULT_API_PORT}; a busy port is replaced by a free one; 0 = any)
  --host ADDR    apiserver bind address (default 127.0.0.1)
  --bucket NAME  JetStream KV bucket holding the objects (default ${DEFAULT_BUCKET})
  --hollow-nodes N  also run N simulated nodes in one kubelet process (default 0)
  --hollow-log-rate R  each running hollow container prints R synthetic lines a second into the log stream (default 0)
  --no-real-node    hollow nodes only, even as root
  --nodes N         N real nodes (default 1, this machine; at most ${MAX_REAL_NODES}): nodes 2..N each live in a network
                    namespace of their own (flt-node2, ...; a veth to this machine, its own containerd, kubelet and
                    proxy); the cloud-controller-manager routes their podCIDRs through the veths, so pods on
                    different nodes reach each other by pod IP. All of it is removed when the cluster stops
  --node-link-cidr CIDR  the /30s joining nodes 2..N to this machine (default ${DEFAULT_NODE_LINK_CIDR}: node i gets
                    block i-2, this machine's end its first address, the node's end, its InternalIP, the second)
  --container-runtime-endpoint URL  use this running containerd instead of starting one (its CNI conf_dir must be ${DEFAULT_CNI_CONF_DIR})
  --cluster-cidr CIDR  the pods' addresses: node IPAM (controller-manager --allocate-node-cidrs) gives every
                    Node a /24 of it (default: --pod-cidr's /16, or ${DEFAULT_CLUSTER_CIDR}, wider for many hollow nodes)
  --pod-cidr CIDR   the real node's pod network, instead of the /24 node IPAM gives it
  --service-cluster-ip-range CIDR  Services' cluster IPs (default 10.96.0.0/12), passed to the apiserver
  --service-node-port-range A-B    node ports of NodePort/LoadBalancer Services (default 30000-32767), passed to the apiserver
  --node-monitor-grace-period D    a node unheard of this long gets Ready=Unknown and the unreachable taints, a Go
                    duration (default 40s), passed to the controller-manager; kubelets renew their Lease every
                    10 s, so keep it well above that (20s at the least)
  --cni-bridge NAME the real node's bridge (default ${DEFAULT_CNI_BRIDGE}; removed when the cluster stops)
  --registry-port N the real node's local registry on 127.0.0.1 (default ${LOCAL_REGISTRY_PORT}): images pushed there
                    run as localhost:N/NAME; nothing is pulled from anywhere else
  --control-plane static-pods  kubeadm's layout: apiserver, scheduler and controller-manager run as static pods
                    of the real node (manifests in <data>/manifests, mirror pods in kube-system) instead of
                    processes of up; nats-server stays up's (default: processes)
  --addons LIST     addons to run beside the cluster, comma-separated (default all: ${ADDONS.join(',')}; none for none):
                    kube-state-metrics serves the objects' state as kube_* metrics; prometheus runs Debian's
                    prometheus (config and data in <data>/prometheus) scraping every component it discovers
                    over NATS; when it is not installed up prints the apt-get command and runs without it;
                    metrics-server (flotilla metrics) scrapes every kubelet and serves metrics.k8s.io for kubectl top;
                    logging runs \`flotilla logging\` (the log stream, Loki's API on :3100) and the real node ships logs;
                    dashboard runs the web UI (\`flotilla dashboard\`) on 127.0.0.1 and up prints its URL;
                    dns runs \`flotilla dns\` (kube-dns at 10.96.0.10; the real node's pods get it in resolv.conf)
  --prometheus-port N  Prometheus' port on 127.0.0.1 (default ${DEFAULT_PROMETHEUS_PORT}; a busy port is replaced by a free one)
  --scrape-interval D  Prometheus' scrape and rule interval, a Go duration (default 15s)
  --dashboard-port N   the dashboard's port on 127.0.0.1 (default ${DEFAULT_DASHBOARD_PORT}; a busy port is replaced by a free one)
  --tracing-*       passed on to the apiserver, scheduler and kubelets (docs/monitoring.md#tracing)`;

export async function runUp(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      nats: { type: 'string' },
      'nats-memory-limit': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      bucket: { type: 'string' },
      'hollow-nodes': { type: 'string' },
      'hollow-log-rate': { type: 'string' },
      'no-real-node': { type: 'boolean' },
      nodes: { type: 'string' },
      'node-link-cidr': { type: 'string' },
      'container-runtime-endpoint': { type: 'string' },
      'pod-cidr': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'service-cluster-ip-range': { type: 'string' },
      'service-node-port-range': { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      'cni-bridge': { type: 'string' },
      'registry-port': { type: 'string' },
      'control-plane': { type: 'string' },
      addons: { type: 'string' },
      'prometheus-port': { type: 'string' },
      'scrape-interval': { type: 'string' },
      'dashboard-port': { type: 'string' },
      ...TRACING_FLAG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(UP_USAGE);
    return 0;
  }
  const port = portFlag(values.port);
  const hollowNodes = values['hollow-nodes'] === undefined ? 0 : Number(values['hollow-nodes']);
  if (!Number.isInteger(hollowNodes) || hollowNodes < 0) throw new Error(`--hollow-nodes: not a node count: ${values['hollow-nodes']}`);
  const controlPlane = (values['control-plane'] ?? 'processes') as ControlPlaneMode;
  if (!CONTROL_PLANE_MODES.includes(controlPlane)) throw new Error(`--control-plane: ${values['control-plane']} is none of ${CONTROL_PLANE_MODES.join(', ')}`);
  if (controlPlane === 'static-pods' && values['no-real-node']) throw new Error('--control-plane static-pods needs the real node (the kubelet runs the control plane): drop --no-real-node');
  tracingFlags(values); // refused here, not by each child
  const natsUrl = values.nats ?? (process.env.NATS_URL || undefined);
  const natsMemoryLimit = values['nats-memory-limit'];
  if (natsMemoryLimit !== undefined) {
    // refused here, before anything starts, not by Go when nats-server starts
    try {
      natsMemoryLimitEnv(natsMemoryLimit);
    } catch (e) {
      throw new Error(`--nats-memory-limit: ${(e as Error).message}`);
    }
    if (natsUrl) throw new Error(natsMemoryLimitJoinError(natsUrl, natsMemoryLimit, values.nats ? '--nats' : '$NATS_URL'));
  }
  durationFlag(values['node-monitor-grace-period'], '--node-monitor-grace-period'); // refused here, not by the controller-manager
  // The scheduler (a child process or a static pod) loads its core at start; a clone whose core
  // was never built is stopped here with the command that builds it.
  checkCoreAvailable(defaultCoreKind());
  const launcher = new Launcher({
    dataDir: resolveDataDir(values.data),
    tracingArgs: tracingArgs(values),
    natsUrl,
    natsMemoryLimit,
    port,
    host: values.host,
    bucket: values.bucket,
    hollowNodes,
    hollowLogRate: intFlag(values['hollow-log-rate'], '--hollow-log-rate', 0, 100_000),
    realNode: !values['no-real-node'],
    nodes: intFlag(values.nodes, '--nodes', 1, MAX_REAL_NODES),
    nodeLinkCIDR: values['node-link-cidr'],
    containerRuntimeEndpoint: values['container-runtime-endpoint'],
    podCIDR: values['pod-cidr'],
    clusterCIDR: values['cluster-cidr'],
    serviceClusterIPRange: values['service-cluster-ip-range'],
    serviceNodePortRange: values['service-node-port-range'],
    nodeMonitorGracePeriod: values['node-monitor-grace-period'],
    cniBridge: values['cni-bridge'],
    registryPort: portFlag(values['registry-port'], '--registry-port'),
    controlPlane,
    addons: parseAddons(values.addons),
    prometheusPort: portFlag(values['prometheus-port'], '--prometheus-port'),
    scrapeIntervalMs: durationFlag(values['scrape-interval'], '--scrape-interval'),
    dashboardPort: portFlag(values['dashboard-port'], '--dashboard-port'),
  });

  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (firstSignalAt) {
      // `npm start` forwards the terminal's Ctrl-C that also reached us: a duplicate.
      if (Date.now() - firstSignalAt < 2000) return;
      stdOutput.log(`${sig} again: killing everything now`);
      launcher.killNow();
      process.exit(130);
    }
    firstSignalAt = Date.now();
    stdOutput.log(`${sig}: stopping the cluster`);
    launcher.stop().then(
      () => process.exit(0),
      (e) => {
        stdOutput.log(`stop failed: ${(e as Error).message}`);
        launcher.killNow();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', () => launcher.killNow());

  try {
    await launcher.start();
  } catch (e) {
    if (launcher.stopped) return await new Promise<number>(() => undefined); // the signal handler exits
    stdOutput.log(`cannot start the cluster: ${(e as Error).message}`);
    await launcher.stop();
    return 1;
  }
  if (launcher.dashboardUrl) console.log(`dashboard: ${launcher.dashboardUrl}`);
  console.log(`export KUBECONFIG=${launcher.kubeconfig}`);
  // Runs until a signal: the supervised children keep the event loop alive.
  return await new Promise<number>(() => undefined);
}
