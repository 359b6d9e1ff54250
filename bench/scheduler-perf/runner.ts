/**
 * Runs one workload's ops against a cluster through its API, as an outside
 * high-throughput client would: objects are created with pipelined batch creates, pod
 * progress is read from a pod watch (PodTracker), scheduler latencies from the
 * scheduler's /metrics. The op marked collectMetrics is the measured one, as upstream.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { AlreadyExistsError, type ApiClient, type KubeObject, NotFoundError, type ResourceRef, Resources, StatusError } from '../../lib/client/mod.js';
import type { BarrierOp, ChurnOp, CreateAnyOp, CreateNamespacesOp, CreateNodesOp, CreatePodsOp, DeletePodsOp, Op, Workload } from './config.js';
import { aggregate, histogramDataItem, histogramDelta, parseHistograms, ThroughputSampler, throughputDataItem, type DataItem } from './stats.js';
import { makeAny, makeNamespace, makeNode, makePod, RUN_LABEL } from './templates.js';
import type { PodTracker } from './tracker.js';
import { cpuPerOpUs, sampleCpu, sampleSyscalls, syscallsPerOp, type CpuSample, type SyscallSample } from '../cpu.js';
import { natsPerOp, sampleNats, type NatsSample, type RoleOf } from '../natsstats.js';
import { gcPerOp, sampleGc, type GcPerOp, type GcSample, type MetricsSource } from '../gcstats.js';

export interface RunnerEnv {
  client: ApiClient;
  tracker: PodTracker;
  /** the scheduler's /metrics; without it only the throughput is reported */
  schedulerMetricsUrl?: string;
  /** labels every created object, for cleaning up a shared cluster */
  runId?: string;
  /** one line of progress */
  log: (line: string) => void;
  /** objects per batch create request */
  batchSize?: number;
  /** batch requests in flight */
  inFlight?: number;
  /** give up waiting when no pod was scheduled for this long */
  stallTimeoutMs?: number;
  /** processes whose CPU time per measured pod is reported (bench client, nats-server, apiserver, scheduler) */
  pids?: Record<string, number | undefined>;
  /** nats-server's HTTP monitoring: NATS messages and bytes per measured pod (server totals, and by connection role) */
  natsMonitor?: { url: string; roleOf: RoleOf };
  /** the Node processes' metrics by role (bench, apiserver, scheduler): their garbage collection per measured pod */
  gcMetrics?: Record<string, MetricsSource>;
}

export interface MeasuredOp {
  op: number;
  pods: number;
  seconds: number;
  /** pods divided by the time from the first create to the last pod scheduled */
  podsPerSecond: number;
  /** CPU µs each process spent per measured pod, from the op's start until all its pods were scheduled */
  cpuUsPerPod?: Record<string, number | null>;
  /** read and write system calls of each process per measured pod (socket reads and writes, mostly) */
  syscallsPerPod?: Record<string, { reads: number; writes: number } | null>;
  /** NATS messages and bytes per measured pod, from nats-server's /varz and /connz */
  natsPerPod?: NatsSample;
  /** each Node process's collector pauses per measured pod, by kind (nodejs_gc_duration_seconds) */
  gcPerPod?: GcPerOp;
  /** the measured op on the monotonic clock V8's CPU profiles use (µs), to cut a profile to it */
  window?: { startUs: number; endUs: number };
}

export interface WorkloadResult {
  workload: Workload;
  dataItems: DataItem[];
  measured?: MeasuredOp;
  /** set when the workload is below its threshold */
  thresholdFailure?: string;
  seconds: number;
  peakMemory?: Record<string, number>;
  error?: string;
  notes: string[];
}

/** What upstream's default metrics collector gathers, and how each splits into items. */
const COLLECTED_METRICS: Array<{ name: string; splitBy?: string; values?: string[] }> = [
  { name: 'scheduler_scheduling_attempt_duration_seconds', splitBy: 'result', values: ['scheduled', 'unschedulable', 'error'] },
  { name: 'scheduler_pod_scheduling_sli_duration_seconds' },
  { name: 'scheduler_framework_extension_point_duration_seconds', splitBy: 'extension_point' },
];

interface Collection {
  op: CreatePodsOp;
  namespaces: string[];
  metricsBefore?: string;
  sampler: ThroughputSampler;
  timer: NodeJS.Timeout;
  startMs: number;
  /** scheduled count in the namespaces that ends the measurement */
  target: number;
  baseline: number;
  endMs?: number;
  cpuBefore?: CpuSample;
  cpuAtEnd?: CpuSample;
  syscallsBefore?: SyscallSample;
  syscallsAtEnd?: SyscallSample;
  natsBefore?: NatsSample;
  natsAtEnd?: Promise<NatsSample | undefined>;
  gcBefore?: GcSample;
  gcAtEnd?: Promise<GcSample | undefined>;
  startUs: number;
  endUs?: number;
}

class StallError extends Error {}

export class WorkloadRunner {
  private readonly batchSize: number;
  private readonly inFlight: number;
  private readonly stallTimeoutMs: number;
  private readonly createdNamespaces = new Set<string>();
  /** namespaces pods were created in, in order (a barrier without namespaces waits on all) */
  private readonly podNamespaces = new Set<string>();
  private readonly createdClusterObjects: ResourceRef[] = [];
  private readonly background: Promise<void>[] = [];
  private readonly stopFns: Array<() => void> = [];
  private collection?: Collection;
  private stopping = false;
  private readonly dataItems: DataItem[] = [];
  private measured?: MeasuredOp;
  private readonly notes: string[] = [];

  constructor(
    private readonly workload: Workload,
    private readonly env: RunnerEnv,
  ) {
    this.batchSize = env.batchSize ?? 250;
    this.inFlight = env.inFlight ?? 4;
    this.stallTimeoutMs = env.stallTimeoutMs ?? 120_000;
  }

  async run(): Promise<WorkloadResult> {
    const start = performance.now();
    let error: string | undefined;
    try {
      for (const op of this.workload.ops) {
        if (this.workload.featureGates && Object.keys(this.workload.featureGates).length && op.index === 0)
          this.notes.push(`featureGates ${JSON.stringify(this.workload.featureGates)} are not applied (the scheduler has none)`);
        await this.runOp(op);
      }
      if (this.collection) await this.finishCollection();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    } finally {
      this.stopping = true;
      for (const f of this.stopFns) f();
      await Promise.allSettled(this.background);
      if (this.collection) clearInterval(this.collection.timer);
    }
    const result: WorkloadResult = {
      workload: this.workload,
      dataItems: this.dataItems,
      measured: this.measured,
      seconds: (performance.now() - start) / 1000,
      error,
      notes: this.notes,
    };
    result.thresholdFailure = thresholdFailure(this.workload, this.dataItems, this.measured);
    return result;
  }

  /** Removes what the run created (for a shared cluster; a fresh one is simply stopped). */
  async cleanup(): Promise<void> {
    const { client, runId } = this.env;
    if (!runId) return;
    const errors: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        if (!(e instanceof NotFoundError)) errors.push(`${what}: ${(e as Error).message}`);
      }
    };
    for (const ns of this.createdNamespaces) await attempt(`namespace ${ns}`, () => client.delete({ ...Resources.namespaces, name: ns }));
    await attempt('nodes', () => client.deleteCollection(Resources.nodes, { labelSelector: `${RUN_LABEL}=${runId}` }));
    for (const ref of this.createdClusterObjects) await attempt(`${ref.resource} ${ref.name}`, () => client.delete(ref));
    if (errors.length) this.env.log(`cleanup: ${errors.join('; ')}`);
  }

  private prefix(op: Op): string {
    return `${this.workload.fullName} op ${op.index} ${op.opcode}`;
  }

  private async runOp(op: Op): Promise<void> {
    switch (op.opcode) {
      case 'createNodes':
        return this.createNodes(op);
      case 'createNamespaces':
        return this.createNamespaces(op);
      case 'createPods':
        return this.createPods(op);
      case 'churn':
        return this.churn(op);
      case 'barrier':
        return this.barrier(op);
      case 'deletePods':
        return this.deletePods(op);
      case 'sleep':
        return new Promise((r) => setTimeout(r, op.durationMs));
      case 'createAny':
        return this.createAny(op);
    }
  }

  private async ensureNamespace(name: string): Promise<void> {
    if (this.createdNamespaces.has(name)) return;
    try {
      await this.env.client.create(Resources.namespaces, makeNamespace(undefined, name, 0, 1, this.env.runId));
      this.createdNamespaces.add(name);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }

  /**
   * Creates `count` objects through batch creates, `inFlight` batches at a time; throws
   * the first failure (with how many failed) once all batches are answered.
   */
  private async createBatched(count: number, make: (i: number) => ResourceRef & { body: unknown }, onCreated: (n: number) => void): Promise<void> {
    const batches = Math.ceil(count / this.batchSize);
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (!this.stopping) {
        const b = next++;
        if (b >= batches) return;
        const items = [];
        for (let i = b * this.batchSize; i < Math.min(count, (b + 1) * this.batchSize); i++) items.push(make(i));
        let results: Array<StatusError | undefined>;
        try {
          results = await this.env.client.batchCreateOutcomes(items);
        } catch (e) {
          failed += items.length;
          firstError ??= (e as Error).message;
          continue;
        }
        let ok = 0;
        for (const r of results) {
          if (r instanceof StatusError) {
            failed++;
            firstError ??= r.message;
          } else ok++;
        }
        onCreated(ok);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.inFlight, batches) }, worker));
    if (failed) throw new Error(`${failed} of ${count} creates failed; the first: ${firstError}`);
  }

  private async createNodes(op: CreateNodesOp): Promise<void> {
    let created = 0;
    const stop = this.ticker(() => this.env.log(`${this.prefix(op)}: ${created}/${op.count} nodes created`));
    try {
      await this.createBatched(op.count, (i) => ({ ...Resources.nodes, body: makeNode(op, i, this.env.runId) }), (n) => (created += n));
    } finally {
      stop();
    }
    this.env.log(`${this.prefix(op)}: ${created} nodes created`);
  }

  private async createNamespaces(op: CreateNamespacesOp): Promise<void> {
    for (let i = 0; i < op.count; i++) {
      const name = `${op.prefix}-${i}`;
      try {
        await this.env.client.create(Resources.namespaces, makeNamespace(op.namespaceTemplatePath, name, i, op.count, this.env.runId));
        this.createdNamespaces.add(name);
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
      }
    }
  }

  private async createPods(op: CreatePodsOp): Promise<void> {
    const ns = op.namespace ?? `namespace-${op.index}`;
    await this.ensureNamespace(ns);
    this.podNamespaces.add(ns);
    const tracker = this.env.tracker;
    const baseline = tracker.countsIn(ns).scheduled;
    if (op.collectMetrics) {
      if (this.collection) await this.finishCollection();
      await this.startCollection(op, [ns], baseline + op.count, baseline);
    }
    let created = 0;
    const t0 = performance.now();
    const stop = this.progress(op, () => created, () => tracker.countsIn(ns).scheduled - baseline, op.count);
    try {
      await this.createBatched(op.count, (i) => ({ ...Resources.pods, namespace: ns, body: makePod(op.podTemplatePath, ns, i, op.count, this.env.runId) }), (n) => (created += n));
      if (!op.skipWaitToCompletion) await this.waitFor(() => tracker.countsIn(ns).scheduled - baseline >= op.count, () => `${tracker.countsIn(ns).scheduled - baseline}/${op.count} pods scheduled in ${ns}`);
    } finally {
      stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const scheduled = tracker.countsIn(ns).scheduled - baseline;
    this.env.log(`${this.prefix(op)}: ${created} pods created in ${ns}${op.skipWaitToCompletion ? ` (not waiting: ${scheduled} scheduled so far)` : `, all scheduled in ${seconds.toFixed(2)} s (${Math.round(op.count / seconds)} pods/s)`}`);
    if (op.collectMetrics && !op.skipWaitToCompletion) await this.finishCollection();
  }

  private async startCollection(op: CreatePodsOp, namespaces: string[], target: number, baseline: number): Promise<void> {
    const metricsBefore = await this.scrape();
    const tracker = this.env.tracker;
    const sampler = new ThroughputSampler(tracker.countsOver(namespaces).scheduled);
    const pids = this.env.pids;
    const natsBefore = await this.sampleNats();
    const gcBefore = await this.sampleGc();
    const c: Collection = {
      op,
      namespaces,
      metricsBefore,
      sampler,
      natsBefore,
      gcBefore,
      startUs: monotonicUs(),
      startMs: performance.now(),
      target,
      baseline,
      cpuBefore: pids ? sampleCpu(pids) : undefined,
      syscallsBefore: pids ? sampleSyscalls(pids) : undefined,
      timer: setInterval(() => {
        const now = performance.now();
        const scheduled = tracker.countsOver(namespaces).scheduled;
        sampler.observe(scheduled, now);
        if (c.endMs === undefined && scheduled >= target) {
          c.endMs = now;
          c.endUs = monotonicUs();
          if (natsBefore) c.natsAtEnd = this.sampleNats();
          if (gcBefore) c.gcAtEnd = this.sampleGc();
          if (pids) {
            c.cpuAtEnd = sampleCpu(pids);
            c.syscallsAtEnd = sampleSyscalls(pids);
          }
        }
      }, 1000),
    };
    this.collection = c;
  }

  private async finishCollection(): Promise<void> {
    const c = this.collection;
    if (!c) return;
    this.collection = undefined;
    clearInterval(c.timer);
    const now = performance.now();
    const scheduled = this.env.tracker.countsOver(c.namespaces).scheduled;
    // both are upper bounds on when the last measured pod was scheduled: take the tighter
    const endMs = Math.min(c.endMs ?? now, now);
    const pods = Math.min(scheduled, c.target) - c.baseline;
    const seconds = (endMs - c.startMs) / 1000;
    // the CPU sample taken when the target was reached, else now (the op ended first)
    const cpuEnd = c.cpuBefore && (c.cpuAtEnd ?? sampleCpu(this.env.pids!));
    const cpuUsPerPod = c.cpuBefore && cpuEnd ? cpuPerOpUs(c.cpuBefore, cpuEnd, pods) : undefined;
    const syscallsEnd = c.syscallsBefore && (c.syscallsAtEnd ?? sampleSyscalls(this.env.pids!));
    const syscallsPerPod = c.syscallsBefore && syscallsEnd ? syscallsPerOp(c.syscallsBefore, syscallsEnd, pods) : undefined;
    const natsEnd = c.natsBefore && ((await c.natsAtEnd) ?? (await this.sampleNats()));
    const natsPerPod = c.natsBefore && natsEnd ? natsPerOp(c.natsBefore, natsEnd, pods) : undefined;
    const gcEnd = c.gcBefore && ((await c.gcAtEnd) ?? (await this.sampleGc()));
    const gcPerPod = c.gcBefore && gcEnd ? gcPerOp(c.gcBefore, gcEnd, pods) : undefined;
    const window = { startUs: c.startUs, endUs: c.endUs ?? monotonicUs() };
    this.measured = { op: c.op.index, pods, seconds, podsPerSecond: seconds > 0 ? pods / seconds : NaN, cpuUsPerPod, syscallsPerPod, natsPerPod, gcPerPod, window };
    const labels = { Name: this.workload.fullName };
    this.dataItems.push(throughputDataItem(c.sampler.samples, labels));
    if (c.sampler.samples.length === 0)
      this.notes.push('no SchedulingThroughput sample: the measured op took under two 1 s sampling intervals (upstream drops the first sample); see the overall rate');
    const after = await this.scrape();
    if (c.metricsBefore === undefined || after === undefined) return;
    for (const m of COLLECTED_METRICS) {
      const delta = histogramDelta(parseHistograms(c.metricsBefore, m.name), parseHistograms(after, m.name));
      if (!m.splitBy) {
        const item = histogramDataItem(m.name, aggregate(delta), labels);
        if (item) this.dataItems.push(item);
        continue;
      }
      const values = m.values ?? [...new Set(delta.map((s) => s.labels[m.splitBy!]).filter((v): v is string => v !== undefined))].sort();
      for (const v of values) {
        const item = histogramDataItem(m.name, aggregate(delta, { [m.splitBy]: v }), labels);
        if (item) this.dataItems.push(item);
      }
    }
  }

  /** nats-server's counters, or undefined (noted) when there is no monitoring URL or it fails. */
  private async sampleNats(): Promise<NatsSample | undefined> {
    const m = this.env.natsMonitor;
    if (!m) return undefined;
    try {
      return await sampleNats(m.url, m.roleOf);
    } catch (e) {
      this.notes.push(`cannot read nats-server's monitoring at ${m.url}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** The Node processes' GC histograms, or undefined without sources; a process that cannot be read is noted. */
  private async sampleGc(): Promise<GcSample | undefined> {
    const sources = this.env.gcMetrics;
    if (!sources || Object.keys(sources).length === 0) return undefined;
    const sample = await sampleGc(sources);
    for (const [role, series] of Object.entries(sample)) {
      const where = sources[role];
      const note = `cannot read ${role}'s garbage collection${typeof where === 'string' ? ` at ${where}` : ''}`;
      if (series === null && !this.notes.includes(note)) this.notes.push(note);
    }
    return sample;
  }

  /** The scheduler's metrics text, or undefined (noted once) when there is no URL or it fails. */
  private async scrape(): Promise<string | undefined> {
    const url = this.env.schedulerMetricsUrl;
    if (!url) return undefined;
    try {
      const res = await fetch(url);
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return text;
    } catch (e) {
      this.notes.push(`cannot scrape ${url}: ${(e as Error).message}`);
      return undefined;
    }
  }

  private async barrier(op: BarrierOp): Promise<void> {
    const namespaces = op.namespaces ?? [...this.podNamespaces];
    const tracker = this.env.tracker;
    const done = () => {
      const c = tracker.countsOver(namespaces);
      return op.stageRequirement === 'Attempted' ? c.attempted >= c.total : c.scheduled >= c.total;
    };
    const stop = this.ticker(() => {
      const c = tracker.countsOver(namespaces);
      this.env.log(`${this.prefix(op)}: ${op.stageRequirement === 'Attempted' ? c.attempted : c.scheduled}/${c.total} pods ${op.stageRequirement.toLowerCase()}`);
    });
    try {
      await this.waitFor(done, () => JSON.stringify(tracker.countsOver(namespaces)));
    } finally {
      stop();
    }
    if (this.collection) await this.finishCollection();
  }

  private async deletePods(op: DeletePodsOp): Promise<void> {
    const { client, tracker } = this.env;
    const labelSelector = op.labelSelector ? Object.entries(op.labelSelector).map(([k, v]) => `${k}=${v}`).join(',') : undefined;
    const names: string[] = [];
    let cont: string | undefined;
    do {
      const page = await client.list<Pod>({ ...Resources.pods, namespace: op.namespace }, { labelSelector, limit: 500, continue: cont });
      for (const p of page.items) names.push(p.metadata!.name!);
      cont = page.metadata.continue || undefined;
    } while (cont);
    const intervalMs = op.deletePodsPerSecond ? 1000 / op.deletePodsPerSecond : 0;
    const work = (async () => {
      let next = 0;
      const worker = async () => {
        while (!this.stopping && next < names.length) {
          const name = names[next++];
          const started = performance.now();
          try {
            // no kubelet confirms a graceful deletion here, so pods go at once
            await client.delete({ ...Resources.pods, namespace: op.namespace, name }, { gracePeriodSeconds: 0 });
          } catch (e) {
            if (!(e instanceof NotFoundError)) throw e;
          }
          const wait = intervalMs - (performance.now() - started);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      };
      await Promise.all(Array.from({ length: intervalMs ? 1 : this.inFlight * 8 }, worker));
    })();
    if (op.skipWaitToCompletion) {
      this.background.push(
        work.catch((e) => {
          this.notes.push(`${this.prefix(op)}: ${(e as Error).message}`);
        }),
      );
      return;
    }
    await work;
    const left = () => tracker.countsIn(op.namespace).total;
    await this.waitFor(() => left() === 0 || labelSelector !== undefined, () => `${left()} pods left in ${op.namespace}`);
    this.env.log(`${this.prefix(op)}: ${names.length} pods deleted from ${op.namespace}`);
  }

  private async createAny(op: CreateAnyOp): Promise<void> {
    for (let i = 0; i < op.count; i++) {
      const { ref, body } = makeAny(op.templatePath, i, op.count, op.namespace, this.env.runId);
      if (ref.namespace) await this.ensureNamespace(ref.namespace);
      try {
        const created = await this.env.client.create<KubeObject>(ref, body);
        if (!ref.namespace) this.createdClusterObjects.push({ ...ref, name: created.metadata?.name });
      } catch (e) {
        // a fixed-name object (a PriorityClass) left by an earlier run on a shared cluster
        if (!(e instanceof AlreadyExistsError)) throw e;
      }
    }
  }

  /**
   * Background churn until the workload ends: "create" makes one object of each template
   * per interval (at most `number` each, 0 = unlimited); "recreate" alternates between
   * creating `number` of each and deleting them again.
   */
  private async churn(op: ChurnOp): Promise<void> {
    const client = this.env.client;
    let live: ResourceRef[] = [];
    const made = new Map<string, number>();
    let busy = false;
    const tick = async () => {
      if (busy || this.stopping) return;
      busy = true;
      try {
        if (op.mode === 'recreate' && live.length) {
          const doomed = live;
          live = [];
          await Promise.all(doomed.map((ref) => client.delete(ref, { gracePeriodSeconds: 0 }).catch(() => undefined)));
          return;
        }
        for (const t of op.templatePaths) {
          const n = op.mode === 'recreate' ? op.number : 1;
          for (let k = 0; k < n; k++) {
            const i = made.get(t) ?? 0;
            if (op.mode === 'create' && op.number > 0 && i >= op.number) continue;
            made.set(t, i + 1);
            const { ref, body } = makeAny(t, i, 0, op.namespace ?? `namespace-${op.index}`, this.env.runId);
            if (ref.namespace) await this.ensureNamespace(ref.namespace);
            if (ref.resource === 'pods') this.podNamespaces.add(ref.namespace!);
            const obj = await client.create<KubeObject>(ref, body);
            const objRef = { ...ref, name: obj.metadata?.name };
            if (op.mode === 'recreate') live.push(objRef);
            else if (!ref.namespace && ref.resource !== 'nodes') this.createdClusterObjects.push(objRef);
          }
        }
      } catch (e) {
        // a create still in flight when the workload ends fails with the closed connection: not the churn's error
        if (!this.stopping) this.notes.push(`${this.prefix(op)}: ${(e as Error).message}`);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), op.intervalMilliseconds);
    this.stopFns.push(() => clearInterval(timer));
    void tick();
  }

  /** Polls `done` every 50 ms; fails when the scheduled-pod total stops moving for stallTimeoutMs. */
  private async waitFor(done: () => boolean, state: () => string): Promise<void> {
    let lastTotal = this.env.tracker.scheduledTotal;
    let lastMove = performance.now();
    while (!done()) {
      await new Promise((r) => setTimeout(r, 50));
      const total = this.env.tracker.scheduledTotal;
      if (total !== lastTotal) {
        lastTotal = total;
        lastMove = performance.now();
      } else if (performance.now() - lastMove > this.stallTimeoutMs) {
        const why = this.env.tracker.lastError ? ` (pod watch: ${this.env.tracker.lastError})` : '';
        throw new StallError(`no pod was scheduled for ${Math.round(this.stallTimeoutMs / 1000)} s; ${state()}${why}`);
      }
    }
  }

  /** Calls `f` once a second until the returned stop function is called. */
  private ticker(f: () => void): () => void {
    const t = setInterval(f, 1000);
    return () => clearInterval(t);
  }

  /** The once-a-second progress line of a pod op: created, scheduled, pods/s over the last second. */
  private progress(op: CreatePodsOp, created: () => number, scheduled: () => number, total: number): () => void {
    let last = this.env.tracker.scheduledTotal;
    let lastT = performance.now();
    return this.ticker(() => {
      const now = performance.now();
      const all = this.env.tracker.scheduledTotal;
      const rate = ((all - last) * 1000) / (now - lastT);
      last = all;
      lastT = now;
      this.env.log(`${this.prefix(op)}: created ${created()}/${total}, scheduled ${scheduled()}/${total}, ${Math.round(rate)} pods/s`);
    });
  }
}

/** Now on the monotonic clock of V8's CPU profiles (their startTime and endTime), in µs. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Upstream fails a workload whose average SchedulingThroughput is below its threshold.
 * When the measured op was too short for any sample, the overall rate stands in.
 */
export function thresholdFailure(workload: Workload, items: readonly DataItem[], measured?: MeasuredOp): string | undefined {
  if (workload.threshold === undefined) return undefined;
  const tp = items.find((d) => d.labels.Metric === 'SchedulingThroughput');
  const avg = tp?.data.Average;
  if (avg !== undefined) return avg < workload.threshold ? `SchedulingThroughput Average ${avg.toFixed(2)} < threshold ${workload.threshold}` : undefined;
  if (measured && Number.isFinite(measured.podsPerSecond))
    return measured.podsPerSecond < workload.threshold ? `overall rate ${measured.podsPerSecond.toFixed(2)} pods/s < threshold ${workload.threshold}` : undefined;
  return `no throughput was measured (threshold ${workload.threshold})`;
}
