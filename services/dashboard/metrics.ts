/**
 * The charts' data, one source for every tab: while any tab watches a chart, one tick
 * every 5 s reads what the watched charts need once and sends it to each of them.
 *
 * Where the readings come from is decided here, at each tick: the Prometheus of the
 * monitoring addon when there is one (`--prometheus-url`, else the `prometheus` target
 * `flotilla up` announces over NATS), else the components themselves (scrape.ts: the
 * scheduler's and the apiserver's /metrics, the kubelets' resource readings over NATS).
 * Requests, capacity and allocatable are the dashboard's own informers' (allocation.ts).
 *
 * Scopes (the browser's {op: 'metrics', scope, ...}):
 * - overview: time series of the last 10 minutes (a point per tick, the Prometheus
 *   history filled in when the overview starts): pods scheduled per second, the
 *   scheduler's pending pods, the apiserver's requests per second and p99 latency, the
 *   cluster's CPU and memory use against requests and allocatable;
 * - nodes: per node (the 40 most requested, or the one named) capacity, allocatable,
 *   requests and use, now;
 * - pod: each container's CPU and memory over the last 10 minutes.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { discoverTargets, type ScrapeTarget } from '../../lib/metrics/mod.js';
import type { Allocation, NodeAllocation, Resources } from './allocation.js';
import { PROMQL, PrometheusApi, scalarOf, type PromSeries } from './prometheus.js';
import { ComponentScraper, KubeletUsage, type ContainerUsage } from './scrape.js';

export type MetricsScope = { scope: 'overview' } | { scope: 'nodes'; name?: string } | { scope: 'pod'; namespace: string; name: string };

export type Source = 'prometheus' | 'components';

export const OVERVIEW_SERIES = ['scheduled', 'pending', 'apiRate', 'apiP99', 'cpuUsage', 'cpuRequests', 'cpuAllocatable', 'memUsage', 'memRequests', 'memAllocatable'] as const;
type OverviewName = (typeof OVERVIEW_SERIES)[number];
const FROM_SOURCE = ['scheduled', 'pending', 'apiRate', 'apiP99', 'cpuUsage', 'memUsage'] as const;

export interface MetricsOptions {
  nc: NatsConnection;
  allocation: Allocation;
  /** a Prometheus to ask; false: never (the components only); undefined: the one announced over NATS */
  prometheusUrl?: string | false;
  /** default 5 s */
  intervalMs?: number;
  /** the history kept and sent (default 10 min) */
  windowMs?: number;
}

/** Gets each message as JSON text: encoded once per tick, whatever the number of tabs. */
type Send = (json: string) => void;

/** Points in time, oldest first, at most `cap` of them, and a value per series for each. */
class Ring {
  t: number[] = [];
  series = new Map<string, Array<number | null>>();
  constructor(private readonly cap: number) {}

  push(t: number, values: Record<string, number | null>): void {
    const n = this.t.length;
    this.t.push(t);
    for (const [k, v] of Object.entries(values)) {
      let s = this.series.get(k);
      if (!s) this.series.set(k, (s = new Array<number | null>(n).fill(null)));
      s.push(v);
    }
    for (const s of this.series.values()) if (s.length < this.t.length) s.push(null);
    if (this.t.length > this.cap) {
      const drop = this.t.length - this.cap;
      this.t.splice(0, drop);
      for (const s of this.series.values()) s.splice(0, drop);
    }
  }

  json(): { t: number[]; series: Record<string, Array<number | null>> } {
    return { t: this.t, series: Object.fromEntries(this.series) };
  }
}

interface PodWatch {
  namespace: string;
  name: string;
  subs: Set<Send>;
  /** the components' readings, a point per tick (Prometheus answers a range instead) */
  ring: Ring;
  data?: PodData;
  json?: string;
}

const TARGETS_MAX_AGE_MS = 15_000;
/** the nodes list's bars: a page of bars, not one per node of a 5,000-node cluster */
export const MAX_BARS = 40;

export class ClusterMetrics {
  private readonly interval: number;
  private readonly cap: number;
  private readonly overviewSubs = new Set<Send>();
  private readonly nodeSubs = new Map<Send, string | undefined>();
  private readonly pods = new Map<string, PodWatch>();
  private overview: Ring;
  private overviewJson = '';
  private nodesNow: Array<NodeAllocation & { usage: Resources | null }> = [];
  /** who answered the last tick; null before the first */
  private source: Source | null = null;
  private error = '';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private targets: { at: number; list: ScrapeTarget[] } | undefined;
  private components = new ComponentScraper();
  private kubelets: KubeletUsage;
  private stopped = false;

  constructor(private readonly opts: MetricsOptions) {
    this.interval = opts.intervalMs ?? 5000;
    this.cap = Math.ceil((opts.windowMs ?? 600_000) / this.interval);
    this.overview = new Ring(this.cap);
    this.kubelets = new KubeletUsage(opts.nc, Math.min(3000, this.interval * 0.9));
  }

  /** Calls send with the scope's data now (when there is some) and after every tick; returns the unsubscribe. */
  subscribe(scope: MetricsScope, send: Send): () => void {
    let stop: () => void;
    if (scope.scope === 'overview') {
      this.overviewSubs.add(send);
      if (this.overviewJson) send(this.overviewJson);
      stop = () => {
        this.overviewSubs.delete(send);
        // the next overview starts afresh (with Prometheus' history), not after a gap
        if (!this.overviewSubs.size) (this.overview = new Ring(this.cap)), (this.overviewJson = '');
      };
    } else if (scope.scope === 'nodes') {
      this.nodeSubs.set(send, scope.name);
      // capacity and requests are the informers': on screen at once, use follows at the tick
      if (!this.nodesNow.length) this.setNodes(undefined, undefined);
      send(this.nodesJson(scope.name));
      stop = () => this.nodeSubs.delete(send);
    } else {
      const key = `${scope.namespace}/${scope.name}`;
      let w = this.pods.get(key);
      if (!w) this.pods.set(key, (w = { namespace: scope.namespace, name: scope.name, subs: new Set(), ring: new Ring(this.cap) }));
      w.subs.add(send);
      if (w.json) send(w.json);
      const watch = w;
      stop = () => {
        watch.subs.delete(send);
        if (!watch.subs.size) this.pods.delete(key);
      };
    }
    this.schedule(0);
    return () => {
      stop();
      if (!this.watched()) this.idle();
    };
  }

  private watched(): boolean {
    return this.overviewSubs.size + this.nodeSubs.size + this.pods.size > 0;
  }

  /** Nobody watches: no more ticks, and no readings kept (the next rate starts from a fresh read). */
  private idle(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nodesNow = [];
    this.components = new ComponentScraper();
    this.kubelets = new KubeletUsage(this.opts.nc, Math.min(3000, this.interval * 0.9));
  }

  private schedule(delay: number): void {
    if (this.timer || this.running || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick()
        .catch((e: Error) => void (this.error = e.message))
        .finally(() => {
          this.running = undefined;
          if (this.watched()) this.schedule(this.interval);
        });
    }, delay);
  }

  private async discovered(): Promise<ScrapeTarget[]> {
    if (!this.targets || Date.now() - this.targets.at > TARGETS_MAX_AGE_MS) this.targets = { at: Date.now(), list: await discoverTargets(this.opts.nc, 300) };
    return this.targets.list;
  }

  private async prometheus(): Promise<PrometheusApi | undefined> {
    if (this.opts.prometheusUrl === false) return undefined;
    if (this.opts.prometheusUrl) return new PrometheusApi(this.opts.prometheusUrl);
    const t = (await this.discovered()).find((x) => x.job === 'prometheus');
    return t ? new PrometheusApi(`http://${t.address}`) : undefined;
  }

  private async tick(): Promise<void> {
    const now = Date.now() / 1000;
    const prom = await this.prometheus();
    this.error = '';
    let done = false;
    if (prom) {
      try {
        await this.tickPrometheus(prom, now);
        this.source = 'prometheus';
        done = true;
      } catch (e) {
        // Prometheus gone or failing: this tick reads the components
        this.error = (e as Error).message;
        this.targets = undefined;
      }
    }
    if (!done) {
      await this.tickComponents(now);
      this.source = 'components';
    }
    this.publish();
  }

  private async tickPrometheus(prom: PrometheusApi, now: number): Promise<void> {
    const step = this.interval / 1000;
    const jobs: Array<Promise<void>> = [];
    if (this.overviewSubs.size) {
      if (!this.overview.t.length) await this.backfill(prom, now, step);
      jobs.push(
        Promise.all(FROM_SOURCE.map((k) => prom.query(PROMQL[k], now))).then((answers) => {
          const values: Record<string, number | null> = {};
          FROM_SOURCE.forEach((k, i) => (values[k] = scalarOf(answers[i]!)));
          this.overview.push(now, { ...values, ...this.allocated() });
        }),
      );
    }
    if (this.nodeSubs.size) {
      jobs.push(
        Promise.all([prom.query(PROMQL.nodeCpu, now), prom.query(PROMQL.nodeMemory, now)]).then(([cpu, mem]) => {
          const by = (s: PromSeries[]) => new Map(s.map((x) => [x.metric.node ?? '', x.values[0]?.[1] ?? 0]));
          this.setNodes(by(cpu), by(mem));
        }),
      );
    }
    for (const w of this.pods.values()) {
      const start = now - this.cap * step;
      jobs.push(
        Promise.all([prom.queryRange(PROMQL.podCpu(w.namespace, w.name), start, now, step), prom.queryRange(PROMQL.podMemory(w.namespace, w.name), start, now, step)]).then(([cpu, mem]) => {
          w.data = podSeries(cpu, mem);
        }),
      );
    }
    await Promise.all(jobs);
  }

  /** The overview's first points: Prometheus' last window, a point per step. */
  private async backfill(prom: PrometheusApi, now: number, step: number): Promise<void> {
    const start = now - (this.cap - 1) * step;
    const answers = await Promise.all(FROM_SOURCE.map((k) => prom.queryRange(PROMQL[k], start, now - step, step)));
    const byTime = new Map<number, Record<string, number | null>>();
    for (let t = start; t < now - step / 2; t += step) byTime.set(Math.round(t * 1000) / 1000, {});
    FROM_SOURCE.forEach((k, i) => {
      for (const [t, v] of answers[i]![0]?.values ?? []) {
        const row = byTime.get(Math.round(t * 1000) / 1000);
        if (row) row[k] = Number.isNaN(v) ? null : v;
      }
    });
    for (const [t, row] of byTime) if (Object.keys(row).length) this.overview.push(t, row);
  }

  private async tickComponents(now: number): Promise<void> {
    const usage = this.overviewSubs.size || this.nodeSubs.size || this.pods.size ? this.kubelets.read() : Promise.resolve([]);
    const control = this.overviewSubs.size ? this.discovered().then((t) => this.components.read(t)) : undefined;
    const [containers, c] = await Promise.all([usage, control]);
    if (this.overviewSubs.size) {
      let cpu: number | null = null;
      let memory = 0;
      for (const u of containers) {
        if (u.cpu !== null) cpu = (cpu ?? 0) + u.cpu;
        memory += u.memory;
      }
      this.overview.push(now, { ...c!, cpuUsage: cpu, memUsage: containers.length ? memory : null, ...this.allocated() });
    }
    if (this.nodeSubs.size) {
      const cpu = new Map<string, number>();
      const mem = new Map<string, number>();
      for (const u of containers) {
        cpu.set(u.node, (cpu.get(u.node) ?? 0) + (u.cpu ?? 0));
        mem.set(u.node, (mem.get(u.node) ?? 0) + u.memory);
      }
      this.setNodes(cpu, mem);
    }
    if (this.pods.size) {
      const byPod = new Map<string, ContainerUsage[]>();
      for (const u of containers) {
        const key = `${u.namespace}/${u.pod}`;
        if (this.pods.has(key)) byPod.set(key, [...(byPod.get(key) ?? []), u]);
      }
      for (const [key, w] of this.pods) {
        const values: Record<string, number | null> = {};
        for (const u of byPod.get(key) ?? []) (values[`cpu/${u.container}`] = u.cpu), (values[`memory/${u.container}`] = u.memory);
        w.ring.push(now, values);
        w.data = ringPodSeries(w.ring);
      }
    }
  }

  private allocated(): Partial<Record<OverviewName, number>> {
    const { allocatable, requests } = this.opts.allocation.totals();
    return { cpuRequests: requests.cpu, cpuAllocatable: allocatable.cpu, memRequests: requests.memory, memAllocatable: allocatable.memory };
  }

  /** The nodes' bars with the use read now (undefined: not read yet). */
  private setNodes(cpu: Map<string, number> | undefined, mem: Map<string, number> | undefined): void {
    this.nodesNow = this.opts.allocation.nodes().map((n) => ({ ...n, usage: cpu?.has(n.name) || mem?.has(n.name) ? { cpu: cpu?.get(n.name) ?? 0, memory: mem?.get(n.name) ?? 0 } : null }));
  }

  private message(scope: string, data: object): string {
    return JSON.stringify({ type: 'metrics', scope, source: this.source, error: this.error || undefined, ...data });
  }

  /** One node's, or the MAX_BARS most requested (CPU) nodes' bars, by name, and how many nodes there are. */
  private nodesJson(only: string | undefined): string {
    if (only !== undefined) return this.message('nodes', { nodes: this.nodesNow.filter((n) => n.name === only), total: 1 });
    const top = this.nodesNow.length <= MAX_BARS ? this.nodesNow : [...this.nodesNow].sort((a, b) => b.requests.cpu - a.requests.cpu || a.name.localeCompare(b.name)).slice(0, MAX_BARS).sort((a, b) => a.name.localeCompare(b.name));
    return this.message('nodes', { nodes: top, total: this.nodesNow.length });
  }

  private publish(): void {
    if (this.overviewSubs.size) {
      this.overviewJson = this.message('overview', this.overview.json());
      for (const s of this.overviewSubs) s(this.overviewJson);
    }
    if (this.nodeSubs.size) {
      const all = this.nodesJson(undefined);
      for (const [s, only] of this.nodeSubs) s(only === undefined ? all : this.nodesJson(only));
    }
    for (const w of this.pods.values()) {
      if (!w.data) continue;
      w.json = this.message('pod', w.data);
      for (const s of w.subs) s(w.json);
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

/** One pod's containers' CPU (cores) and memory (bytes) on one time axis (seconds). */
interface PodData {
  t: number[];
  containers: Array<{ name: string; cpu: Array<number | null>; memory: Array<number | null> }>;
}

/** Prometheus' ranges of one pod as PodData. */
function podSeries(cpu: PromSeries[], mem: PromSeries[]): PodData {
  const times = [...new Set([...cpu, ...mem].flatMap((s) => s.values.map(([t]) => t)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const names = [...new Set([...cpu, ...mem].map((s) => s.metric.container ?? ''))].sort();
  const column = (list: PromSeries[], name: string) => {
    const out = new Array<number | null>(times.length).fill(null);
    for (const [t, v] of list.find((s) => s.metric.container === name)?.values ?? []) out[at.get(t)!] = Number.isNaN(v) ? null : v;
    return out;
  };
  return { t: times, containers: names.map((name) => ({ name, cpu: column(cpu, name), memory: column(mem, name) })) };
}

function ringPodSeries(ring: Ring): PodData {
  const { t, series } = ring.json();
  const names = [...new Set(Object.keys(series).map((k) => k.slice(k.indexOf('/') + 1)))].sort();
  return { t, containers: names.map((name) => ({ name, cpu: series[`cpu/${name}`] ?? [], memory: series[`memory/${name}`] ?? [] })) };
}
