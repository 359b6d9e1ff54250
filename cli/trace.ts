/**
 * `flotilla trace pod NAME [-n NS]`: a pod's trace as a tree with durations, read from the
 * JetStream trace stream. The pod's annotation (KEP-5915's tracing.k8s.io/traceparent,
 * written by the apiserver when the create was sampled) names the trace; the spans come
 * from every component that took part: create, scheduling and binding cycles, the
 * kubelet's sandbox and container starts.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseArgs } from 'node:util';
import { NotFoundError } from '../lib/api/errors.js';
import { ApiClient, connectNats, Resources } from '../lib/client/mod.js';
import { DEFAULT_NATS_URL } from '../lib/process/flags.js';
import {
  ATTR_K8S_CONTAINER_NAME,
  ATTR_K8S_NODE_NAME,
  readTrace,
  traceIdOf,
  TRACEPARENT_ANNOTATION,
  type SpanRecord,
} from '../lib/tracing/mod.js';
import { resolveDataDir, runningCluster } from './datafolder.js';

export const TRACE_USAGE = `usage: flotilla trace pod NAME [-n NAMESPACE] [--nats URL | --data DIR]

Prints the pod's trace (create, scheduling cycle, binding cycle, sandbox, container
starts) as a tree: each span's start after the trace's first span and its duration.
A pod has a trace when its create was sampled: --tracing-sampling-rate of the
components (default 0.01), or a caller's sampled traceparent header.

  -n, --namespace NS  the pod's namespace (default "default")
  --nats URL          the cluster's NATS (default $NATS_URL, else the running cluster
                      of the data folder, else ${DEFAULT_NATS_URL})
  --data DIR          the data folder of \`flotilla up\` (default ~/.flotilla)`;

/** The steps of a pod's start, in order, and the span of each (its duration is the step's). */
const MILESTONES: Array<[string, (s: SpanRecord) => boolean]> = [
  ['create', (s) => s.name === 'Create'],
  ['scheduled', (s) => s.name === 'schedulingCycle' && !s.status],
  ['bound', (s) => s.name === 'bindingCycle' && !s.status],
  ['sandbox', (s) => s.name.endsWith('/RunPodSandbox') && !s.status],
  ['started', (s) => s.name === 'syncPod' && !s.status],
];

export async function runTrace(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n', default: 'default' },
      nats: { type: 'string' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(TRACE_USAGE);
    return 0;
  }
  const [what, name, ...extra] = positionals;
  if (what !== 'pod' || !name || extra.length) {
    console.error(TRACE_USAGE);
    return 2;
  }
  const natsUrl = values.nats ?? (process.env.NATS_URL || undefined) ?? runningCluster(resolveDataDir(values.data))?.natsUrl ?? DEFAULT_NATS_URL;
  const nc = await connectNats(natsUrl, { name: 'flotilla-trace' });
  const client = new ApiClient(nc);
  try {
    const namespace = values.namespace!;
    let pod: Pod;
    try {
      pod = await client.get<Pod>({ ...Resources.pods, namespace, name });
    } catch (e) {
      if (e instanceof NotFoundError) {
        console.error(`flotilla trace: pod ${namespace}/${name} not found`);
        return 1;
      }
      throw e;
    }
    const traceparent = pod.metadata?.annotations?.[TRACEPARENT_ANNOTATION];
    const traceId = traceIdOf(traceparent);
    if (!traceId) {
      console.error(
        `flotilla trace: pod ${namespace}/${name} has no trace: its create was not sampled (no ${TRACEPARENT_ANNOTATION} annotation). ` +
          'Creates are sampled at --tracing-sampling-rate (default 0.01): start the cluster with `flotilla up --tracing-sampling-rate 1`, ' +
          `or create the pod with a sampled traceparent (a traceparent header, or the annotation ${TRACEPARENT_ANNOTATION}: 00-<trace id>-<span id>-01).`,
      );
      return 1;
    }
    const spans = await readTrace(nc, traceId);
    if (spans.length === 0) {
      console.error(`flotilla trace: trace ${traceId} of pod ${namespace}/${name} has no spans in the stream (retention dropped them, or they are not exported yet)`);
      return 1;
    }
    console.log(formatTrace(traceId, `pod ${namespace}/${name}`, spans));
    return 0;
  } finally {
    client.close();
    await nc.close();
  }
}

function ms(fromNs: bigint, toNs: bigint): string {
  const v = Number(toNs - fromNs) / 1e6;
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
}

/** What a span's line shows besides its name: the node or container it concerns. */
function detail(s: SpanRecord): string {
  const parts: string[] = [];
  const node = s.attributes[ATTR_K8S_NODE_NAME];
  const container = s.attributes[ATTR_K8S_CONTAINER_NAME];
  if (container) parts.push(`container=${container}`);
  else if (node) parts.push(`node=${node}`);
  if (s.status) parts.push(`ERROR: ${s.status.message ?? ''}`.trim());
  return parts.join(' ');
}

/** The tree (children under their parent, by start time) and the pod's steps in one line. */
export function formatTrace(traceId: string, what: string, spans: SpanRecord[]): string {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId)) children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
    else roots.push(s);
  }
  const start = (s: SpanRecord) => BigInt(s.startTimeUnixNano);
  const end = (s: SpanRecord) => BigInt(s.endTimeUnixNano);
  const byStart = (a: SpanRecord, b: SpanRecord) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : 0);
  const t0 = spans.map(start).reduce((a, b) => (b < a ? b : a));
  const tEnd = spans.map(end).reduce((a, b) => (b > a ? b : a));
  const rows: Array<[string, string, string, string, string]> = [];
  const walk = (s: SpanRecord, prefix: string, last: boolean, top: boolean) => {
    const branch = top ? '' : last ? '└─ ' : '├─ ';
    rows.push([`${prefix}${branch}${s.name}`, s.service, `+${ms(t0, start(s))}`, ms(start(s), end(s)), detail(s)]);
    const kids = (children.get(s.spanId) ?? []).sort(byStart);
    const next = top ? prefix : prefix + (last ? '   ' : '│  ');
    kids.forEach((k, i) => walk(k, next, i === kids.length - 1, false));
  };
  for (const r of roots.sort(byStart)) walk(r, '', true, true);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => [...r[i]!].length), ['SPAN', 'SERVICE', 'START', 'DURATION'][i]!.length));
  const pad = (v: string, i: number) => (i === 2 || i === 3 ? v.padStart(widths[i]!) : v + ' '.repeat(widths[i]! - [...v].length));
  const lines = [`trace ${traceId} (${what}): ${spans.length} spans over ${ms(t0, tEnd)}`, ''];
  lines.push(['SPAN', 'SERVICE', 'START', 'DURATION'].map(pad).join('  ') + '  DETAIL');
  for (const r of rows) lines.push([r[0], r[1], r[2], r[3]].map(pad).join('  ') + (r[4] ? `  ${r[4]}` : ''));
  let last: SpanRecord | undefined;
  const steps = MILESTONES.map(([step, match]) => {
    const s = spans.filter(match).sort(byStart)[0];
    if (s && (!last || end(s) > end(last))) last = s;
    return s ? `${step} ${ms(start(s), end(s))}` : `${step} (no span yet)`;
  });
  lines.push('', `${steps.join(' → ')}${last ? ` (${ms(t0, end(last))} in all)` : ''}`);
  return lines.join('\n');
}
