/**
 * One real node for a suite: a containerd of its own (test/node.ts), a real nats-server
 * and apiserver, and `kubelet --runtime cri` in this process. Every suite that runs pods
 * on containerd starts from here, so the set-up and the cleanup live once. `stop()`
 * removes everything even when a test failed.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, connectNats, Resources } from '../lib/client/mod.js';
import { CriClient } from '../services/kubelet/cri/client.js';
import { startKubelet, type RunningKubelet, type StartKubeletOptions } from '../services/kubelet/server.js';
import { testApiServer } from './apiserver.js';
import type { ApiServerOptions } from '../services/apiserver/server.js';
import { cleanUpTestNetnsNodeHost, cleanUpTestNodeHost, startTestNetnsNodeHost, startTestNodeHost, type TestNetnsNodeHost, type TestNodeHost } from './node.js';
import { waitFor } from './wait.js';

export interface RealNode {
  host: TestNodeHost;
  api: Awaited<ReturnType<typeof testApiServer>>;
  nc: NatsConnection;
  client: ApiClient;
  cri: CriClient;
  nodeName: string;
  /** the running kubelet; undefined between stopKubelet and startKubelet */
  kubelet: RunningKubelet | undefined;
  /** the options the kubelet runs with (a test may start it again with them) */
  options(): StartKubeletOptions;
  startKubelet(): Promise<RunningKubelet>;
  stopKubelet(): Promise<void>;
  /** creates a pod bound to this node in `default`, named `<prefix><n>` unless the metadata names it */
  createPod(spec: Partial<NonNullable<Pod['spec']>>, metadata?: NonNullable<Pod['metadata']>): Promise<Pod>;
  getPod(name: string): Promise<Pod>;
  /** waits until the pod reaches the phase and returns it */
  podIn(name: string, phase: string, timeoutMs?: number): Promise<Pod>;
  sandboxesOf(uid: string): ReturnType<CriClient['listPodSandbox']>;
  /**
   * Waits until the node's bridge and its pods' veths carry no tentative IPv6 address:
   * each new veth's link-local address finishes duplicate address detection ~1.5 s after
   * the pod started, and that change of the host's addresses is a network change to a
   * browser (Chromium cancels its pending requests with net::ERR_NETWORK_CHANGED).
   */
  networkSettled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RealNodeOptions {
  /** the pod name prefix (default `rn`) */
  prefix?: string;
  /** kubelet options laid over the defaults */
  kubelet?: (o: StartKubeletOptions) => StartKubeletOptions;
  /** apiserver options (e.g. tracing) */
  api?: Partial<ApiServerOptions>;
}

const execFileAsync = promisify(execFile);

export const PODS_DEFAULT = { ...Resources.pods, namespace: 'default' };

/** The CRI id of the pod's container named `name` (default: its first), from the pod's status. */
export function containerIdOf(pod: Pod, name?: string): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const st = name === undefined ? statuses[0] : statuses.find((s) => s.name === name);
  if (!st?.containerID) throw new Error(`pod ${pod.metadata?.name} has no container ${name ?? '(first)'} with an id in its status`);
  return st.containerID.replace('containerd://', '');
}

/** curl from the host (3 s at most): the body, or curl's exit code (7: refused or unreachable). */
export async function curlFromHost(url: string): Promise<{ body: string; code: number }> {
  try {
    const { stdout } = await execFileAsync('curl', ['-sS', '--max-time', '3', url]);
    return { body: stdout.trim(), code: 0 };
  } catch (e) {
    return { body: '', code: (e as { code?: number }).code ?? -1 };
  }
}

/** Runs cmd in the pod's first container over CRI ExecSync (10 s); its output as text. */
export async function execInPod(cri: CriClient, pod: Pod, cmd: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = await cri.execSync(containerIdOf(pod), cmd, 10);
  return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode };
}

/** `kubelet --runtime cri` on a test host (its containerd, folders, pod network and podCIDR), relisting and renewing its lease often */
function criKubeletOptions(natsUrl: string, host: TestNodeHost, nodeName: string): StartKubeletOptions {
  return {
    natsUrl,
    runtime: 'cri',
    cri: {
      endpoint: `unix://${host.launcher.paths.socket}`,
      rootDir: path.join(host.dir, 'kubelet'),
      cniConfDir: host.cniConfDir,
      podCIDR: host.subnet,
      nodeName,
      network: host.network,
      bridge: host.bridge,
      relistIntervalMs: 200,
    },
    node: { leaseRenewIntervalMs: 500 },
    pod: { flushMs: 20 },
    log: () => {},
  };
}

export async function startRealNode(what: string, opts: RealNodeOptions = {}): Promise<RealNode> {
  const parts: Partial<RealNode> = {};
  let n = 0;
  const stop = async () => {
    await parts.kubelet?.stop().catch(() => undefined);
    parts.cri?.close();
    parts.client?.close();
    await parts.nc?.close().catch(() => undefined);
    await parts.api?.stop();
    if (parts.host) await cleanUpTestNodeHost(parts.host);
  };
  try {
    const host = (parts.host = await startTestNodeHost(what));
    const nodeName = `flt-node-${host.suffix}`;
    const api = (parts.api = await testApiServer(opts.api));
    const nc = (parts.nc = await connectNats(api.natsUrl, { name: `${opts.prefix ?? 'rn'}-test` }));
    const client = (parts.client = new ApiClient(nc));
    const cri = (parts.cri = new CriClient(host.launcher.paths.socket));
    const base = (): StartKubeletOptions => criKubeletOptions(api.natsUrl, host, nodeName);
    const node: RealNode = Object.assign(parts as RealNode, {
      nodeName,
      options: () => (opts.kubelet ? opts.kubelet(base()) : base()),
      async startKubelet() {
        node.kubelet = await startKubelet(node.options());
        return node.kubelet;
      },
      async stopKubelet() {
        const k = node.kubelet;
        node.kubelet = undefined;
        await k?.stop();
      },
      createPod: (spec: Partial<NonNullable<Pod['spec']>>, metadata?: NonNullable<Pod['metadata']>) =>
        client.create<Pod>(PODS_DEFAULT, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `${opts.prefix ?? 'rn'}${++n}`, ...metadata },
          spec: { nodeName, containers: [], ...spec },
        }),
      getPod: (name: string) => client.get<Pod>({ ...PODS_DEFAULT, name }),
      podIn: (name: string, phase: string, timeoutMs = 30_000) =>
        waitFor(`pod ${name} ${phase}`, async () => {
          const p = await client.get<Pod>({ ...PODS_DEFAULT, name });
          return p.status?.phase === phase && p;
        }, timeoutMs),
      sandboxesOf: async (uid: string) => (await cri.listPodSandbox()).filter((s) => s.metadata.uid === uid),
      networkSettled: async (timeoutMs = 15_000) => {
        await waitFor(`no tentative IPv6 address on ${host.bridge} or its ports`, async () => host.podNetwork.tentativeInterfaces().length === 0 || undefined, timeoutMs);
      },
      stop,
    });
    await node.startKubelet();
    return node;
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/** A second real node beside a RealNode: its containerd and pods in a network namespace of their own. */
export interface NetnsNode {
  host: TestNetnsNodeHost;
  nodeName: string;
  cri: CriClient;
  kubelet: RunningKubelet;
  /** creates a pod bound to this node in `default` */
  createPod(spec: Partial<NonNullable<Pod['spec']>>, metadata: NonNullable<Pod['metadata']>): Promise<Pod>;
  stop(): Promise<void>;
}

/**
 * Node 2 for a suite on `rn`'s apiserver (root): startTestNetnsNodeHost's namespace and
 * containerd, and `kubelet --runtime cri` in this process with --hostname-override,
 * --node-ip (its end of the veth), --netns and --cloud-provider=external, as `flotilla up
 * --nodes 2` runs it. `stop()` removes everything even when a test failed.
 */
export async function startNetnsNode(rn: RealNode, opts: { linkCIDR: string; podCIDR: string; kubelet?: (o: StartKubeletOptions) => StartKubeletOptions }): Promise<NetnsNode> {
  const host = await startTestNetnsNodeHost('a second real node', opts);
  const nodeName = `flt-node2-${host.suffix}`;
  const cri = new CriClient(host.launcher.paths.socket);
  const common = criKubeletOptions(rn.api.natsUrl, host, nodeName);
  const base: StartKubeletOptions = { ...common, cloudProvider: 'external', cri: { ...common.cri!, nodeIP: host.netns.nodeIP, netns: host.netns.name } };
  let kubelet: RunningKubelet | undefined;
  const stop = async () => {
    await kubelet?.stop().catch(() => undefined);
    cri.close();
    await cleanUpTestNetnsNodeHost(host);
  };
  try {
    kubelet = await startKubelet(opts.kubelet ? opts.kubelet(base) : base);
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return {
    host,
    nodeName,
    cri,
    kubelet,
    createPod: (spec, metadata) => rn.client.create<Pod>(PODS_DEFAULT, { apiVersion: 'v1', kind: 'Pod', metadata, spec: { nodeName, containers: [], ...spec } }),
    stop,
  };
}
