/**
 * One kubelet process assembled: many nodes on one runtime. With the `hollow` runtime (the
 * only one so far) it registers N simulated Nodes, keeps their Leases and statuses fresh,
 * and runs the pods bound to them through the upstream lifecycle. startKubelet is what
 * `flotilla kubelet` (main.ts) and the tests use.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, componentUserAgent, connectNats } from '../../lib/client/mod.js';
import { HollowRuntime } from './hollow.js';
import { NodeManager, type NodeManagerOptions } from './nodes.js';
import { PodManager, type PodManagerOptions } from './pods.js';
import type { ContainerRuntime } from './runtime.js';

export interface StartKubeletOptions {
  natsUrl: string;
  runtime?: 'hollow';
  nodes: number;
  namePrefix?: string;
  firstIndex?: number;
  cpu?: string;
  memory?: string;
  pods?: number;
  zones?: number;
  startDelayMs?: number;
  /** heartbeat and status-writing knobs (tests shorten them) */
  node?: Partial<
    Pick<NodeManagerOptions, 'leaseDurationSeconds' | 'leaseRenewIntervalMs' | 'statusReportIntervalMs' | 'statusUpdateIntervalMs' | 'retryMs' | 'tickMs' | 'concurrency'>
  >;
  pod?: Omit<PodManagerOptions, 'startDelayMs' | 'log'>;
  log?: (line: string) => void;
}

export interface RunningKubelet {
  readonly client: ApiClient;
  readonly nodes: NodeManager;
  readonly pods: PodManager;
  readonly runtime: ContainerRuntime;
  stop(): Promise<void>;
}

export async function startKubelet(opts: StartKubeletOptions): Promise<RunningKubelet> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`kubelet: ${line}\n`));
  if ((opts.runtime ?? 'hollow') !== 'hollow') throw new Error(`--runtime: only "hollow" exists so far, got "${opts.runtime}"`);
  const namePrefix = opts.namePrefix ?? 'hollow-';
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `kubelet/${namePrefix}*` });
  const client = new ApiClient(nc, { userAgent: componentUserAgent('kubelet') });
  const runtime = new HollowRuntime();
  const nodes = new NodeManager(client, {
    namePrefix,
    count: opts.nodes,
    firstIndex: opts.firstIndex,
    cpu: opts.cpu ?? '4',
    memory: opts.memory ?? '16Gi',
    pods: opts.pods ?? 110,
    zones: opts.zones ?? 3,
    runtimeVersion: runtime.runtimeVersion,
    log,
    ...opts.node,
  });
  const pods = new PodManager(client, runtime, nodes, { ...opts.pod, startDelayMs: opts.startDelayMs, log });
  const stop = async () => {
    await nodes.stop();
    await pods.stop();
    await runtime.close();
    client.close();
    await nc.close();
  };
  try {
    await nodes.register();
    nodes.start();
    await pods.start();
  } catch (e) {
    await stop();
    throw e;
  }
  return { client, nodes, pods, runtime, stop };
}
