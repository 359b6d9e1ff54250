/**
 * `flotilla kubelet`: one process carrying many nodes on one runtime. With the `hollow`
 * runtime (the only one so far) it registers N simulated Nodes, keeps their Leases and
 * statuses fresh, and runs the pods bound to them through the upstream lifecycle.
 * startKubelet is what the command and the tests use.
 */
import { parseArgs } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, connectNats } from '../../lib/client/mod.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { intFlag } from '../../lib/process/flags.js';
import { runUntilStopped } from '../../lib/process/lifecycle.js';
import { HollowRuntime } from './hollow.js';
import { NodeManager, type NodeManagerOptions } from './nodes.js';
import { PodManager, type PodManagerOptions } from './pods.js';
import { MAX_NODE_CIDRS } from './podip.js';
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
  const client = new ApiClient(nc);
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

export const KUBELET_USAGE = `usage: flotilla kubelet --runtime hollow --nodes N [--nats URL] [--name-prefix hollow-] [--first-index 0]
                        [--cpu 4] [--memory 16Gi] [--pods 110] [--zones 3] [--start-delay-ms 0]

  --nats URL          NATS server(s), comma-separated (default $NATS_URL or nats://127.0.0.1:4222)
  --runtime hollow    simulated nodes and containers (like KWOK); the only runtime so far
  --nodes N           how many nodes this process carries (named <prefix><index>)
  --name-prefix P     node name prefix (default hollow-)
  --first-index I     the first node's index: processes with one prefix carry disjoint ranges (default 0)
  --cpu, --memory, --pods   each node's capacity and allocatable
  --zones Z           nodes are spread over topology.kubernetes.io/zone zone-0 .. zone-(Z-1)
  --start-delay-ms D  how long a pod stays Pending before its containers run

A hollow container runs until its pod is deleted, unless the pod's annotations say
flotilla.io/hollow-run-seconds (exit after that long) and flotilla.io/hollow-exit-code.`;

function quantityFlag(v: string | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined;
  try {
    parseQuantity(v);
  } catch (e) {
    throw new Error(`${flag}: ${(e as Error).message}`);
  }
  return v;
}

export async function runKubelet(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      runtime: { type: 'string', default: 'hollow' },
      nodes: { type: 'string' },
      'name-prefix': { type: 'string' },
      'first-index': { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      pods: { type: 'string' },
      zones: { type: 'string' },
      'start-delay-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(KUBELET_USAGE);
    return 0;
  }
  if (values.runtime !== 'hollow') throw new Error(`--runtime: only "hollow" exists so far, got "${values.runtime}"`);
  const nodes = intFlag(values.nodes, '--nodes', 1, MAX_NODE_CIDRS);
  if (nodes === undefined) throw new Error(`--nodes N is required\n\n${KUBELET_USAGE}`);
  const natsUrl = values.nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const t0 = Date.now();
  const running = await startKubelet({
    natsUrl,
    runtime: 'hollow',
    nodes,
    namePrefix: values['name-prefix'],
    firstIndex: intFlag(values['first-index'], '--first-index', 0, MAX_NODE_CIDRS - nodes),
    cpu: quantityFlag(values.cpu, '--cpu'),
    memory: quantityFlag(values.memory, '--memory'),
    pods: intFlag(values.pods, '--pods', 1, 250),
    zones: intFlag(values.zones, '--zones', 1, 1000),
    startDelayMs: intFlag(values['start-delay-ms'], '--start-delay-ms', 0),
  });
  console.log(`kubelet: ${nodes} hollow nodes registered in ${Date.now() - t0} ms (NATS ${natsUrl})`);
  return runUntilStopped('kubelet', () => running.stop());
}
