/**
 * The charts' readings when no Prometheus runs: the components' own /metrics (found as
 * Prometheus finds them, over NATS: lib/metrics discoverTargets) and the kubelets'
 * resource readings (one NATS scrape of every kubelet process, as the metrics service
 * takes them: lib/stats). Rates are the change between two reads, as Prometheus' rate()
 * over the two samples would be; a counter that went down (a restarted component) counts
 * from zero.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ScrapeTarget } from '../../lib/metrics/mod.js';
import { scrapeKubelets } from '../../lib/stats/mod.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Prometheus' text format: every sample line (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * The q-quantile of a histogram's bucket counts (cumulative, by upper bound, +Inf last),
 * as Prometheus' histogram_quantile interpolates it; null without observations.
 */
export function histogramQuantile(q: number, buckets: Array<{ le: number; count: number }>): number | null {
  const b = [...buckets].sort((x, y) => x.le - y.le);
  const total = b.at(-1)?.count ?? 0;
  if (!b.length || total <= 0 || b.at(-1)!.le !== Infinity) return null;
  const rank = q * total;
  let i = b.findIndex((x) => x.count >= rank);
  if (i === b.length - 1) return b.length > 1 ? b[b.length - 2]!.le : null;
  const lower = i === 0 ? 0 : b[i - 1]!.le;
  const below = i === 0 ? 0 : b[i - 1]!.count;
  const inBucket = b[i]!.count - below;
  return inBucket <= 0 ? lower : lower + (b[i]!.le - lower) * ((rank - below) / inBucket);
}

/** A counter's increase between reads; a decrease (the process restarted) counts from zero. */
const increase = (now: number, before: number | undefined) => (before === undefined ? undefined : now >= before ? now - before : now);

/** The overview's control-plane readings at one instant; null where there is nothing to tell yet. */
export interface ComponentReadings {
  scheduled: number | null;
  pending: number | null;
  apiRate: number | null;
  apiP99: number | null;
}

/** What one target's /metrics said, kept until the next read. */
interface TargetRead {
  at: number;
  scheduled?: number;
  requests?: number;
  buckets?: Map<number, number>;
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return text;
}

/** Reads the scheduler's and the apiserver's /metrics and turns two reads into rates. */
export class ComponentScraper {
  private last = new Map<string, TargetRead>();

  constructor(private readonly timeoutMs = 3000) {}

  async read(targets: ScrapeTarget[]): Promise<ComponentReadings> {
    const out: ComponentReadings = { scheduled: null, pending: null, apiRate: null, apiP99: null };
    const next = new Map<string, TargetRead>();
    const want = targets.filter((t) => t.job === 'kube-scheduler' || t.job === 'apiserver');
    const texts = await Promise.all(want.map((t) => fetchText(`http://${t.address}/metrics`, this.timeoutMs).then(parseExposition, () => undefined)));
    const bucketDeltas = new Map<number, number>();
    let sawApi = false;
    want.forEach((t, i) => {
      const samples = texts[i];
      if (!samples) return;
      const key = `${t.job} ${t.address}`;
      const before = this.last.get(key);
      const read: TargetRead = { at: performance.now() };
      next.set(key, read);
      const seconds = before ? (read.at - before.at) / 1000 : 0;
      if (t.job === 'kube-scheduler') {
        read.scheduled = 0;
        for (const s of samples) {
          if (s.name === 'scheduler_schedule_attempts_total' && s.labels.result === 'scheduled') read.scheduled += s.value;
          else if (s.name === 'scheduler_pending_pods') out.pending = (out.pending ?? 0) + s.value;
        }
        const inc = increase(read.scheduled, before?.scheduled);
        if (inc !== undefined && seconds > 0) out.scheduled = (out.scheduled ?? 0) + inc / seconds;
      } else {
        read.requests = 0;
        read.buckets = new Map();
        for (const s of samples) {
          if (s.name === 'apiserver_request_total') read.requests += s.value;
          else if (s.name === 'apiserver_request_duration_seconds_bucket' && s.labels.verb !== 'WATCH' && s.labels.verb !== 'CONNECT') {
            const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
            read.buckets.set(le, (read.buckets.get(le) ?? 0) + s.value);
          }
        }
        const inc = increase(read.requests, before?.requests);
        if (inc !== undefined && seconds > 0) {
          out.apiRate = (out.apiRate ?? 0) + inc / seconds;
          sawApi = true;
          for (const [le, count] of read.buckets) bucketDeltas.set(le, (bucketDeltas.get(le) ?? 0) + (increase(count, before!.buckets?.get(le)) ?? 0));
        }
      }
    });
    if (sawApi) out.apiP99 = histogramQuantile(0.99, [...bucketDeltas].map(([le, count]) => ({ le, count })));
    this.last = next;
    return out;
  }
}

/** One container's usage: CPU in cores (null until it has two readings), memory in bytes. */
export interface ContainerUsage {
  node: string;
  namespace: string;
  pod: string;
  container: string;
  cpu: number | null;
  memory: number;
}

/** Every kubelet's containers, read over NATS; CPU as the rate between two scrapes. */
export class KubeletUsage {
  private last = new Map<string, { cpu: number; at: number; start: number }>();
  private expected = new Set<string>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 3000,
  ) {}

  async read(): Promise<ContainerUsage[]> {
    const out: ContainerUsage[] = [];
    const next = new Map<string, { cpu: number; at: number; start: number }>();
    const result = await scrapeKubelets(this.nc, { expected: this.expected, timeoutMs: this.timeoutMs, quietMs: 200 }, (nodes) => {
      for (const n of nodes) {
        for (const p of n.pods) {
          for (const c of p.containers) {
            const key = `${p.namespace}/${p.name}/${c.name}`;
            const before = this.last.get(key);
            const now = { cpu: c.cpu, at: p.timestamp, start: c.startTime };
            next.set(key, now);
            // metrics-server's rule: a restarted container (its CPU went down) waits for its next reading
            const cpu = before && before.start === now.start && now.at > before.at && now.cpu >= before.cpu ? (now.cpu - before.cpu) / ((now.at - before.at) / 1000) : null;
            out.push({ node: n.node, namespace: p.namespace, pod: p.name, container: c.name, cpu, memory: c.memory });
          }
        }
      }
    });
    this.expected = new Set(result.processes.keys());
    this.last = next;
    return out;
  }
}
