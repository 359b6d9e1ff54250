/**
 * `flotilla bench scheduler CONFIG.yaml [--workload NAME]`: runs scheduler_perf
 * workloads against a live cluster — by default a fresh one per workload in child
 * processes, or an existing one given by its NATS URL — and prints upstream's results.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient, connectNats } from '../../lib/client/mod.js';
import { ConfigError, loadConfig, selectWorkloads, type Workload } from './config.js';
import { startCluster, type Cluster } from '../../test/cluster.js';
import { benchClusterEnv, MemorySampler } from '../measure.js';
import { formatJson, formatSummary, formatTable } from './report.js';
import { WorkloadRunner, type WorkloadResult } from './runner.js';
import { PodTracker } from './tracker.js';
import { TRACING_FLAG_OPTIONS, tracingArgs, tracingFlags } from '../../lib/tracing/mod.js';
import { natsMemoryLimitEnv } from '../../lib/nats/server.js';
import type { MetricsSource } from '../gcstats.js';
import { newRegistry } from '../../lib/metrics/mod.js';

export const USAGE = `usage: flotilla bench scheduler CONFIG.yaml [options]

Runs scheduler_perf workloads (upstream's config format) against a live cluster.

options:
  --workload NAME        run only workloads named NAME, or "<test case>/<workload>", or a test case name
  --label-filter LIST    upstream's label filter: comma-separated, "label" or "+label" required, "-label" excluded
  --nats URL             use the running cluster at this NATS URL instead of starting one per workload
  --server URL           the same as --nats (the benchmark talks to the NATS API)
  --scheduler-metrics URL   that cluster's scheduler /metrics (for the latency figures)
  --nats-monitor URL     that cluster's nats-server monitoring (its -m port, e.g. http://127.0.0.1:8222):
                         NATS messages and bytes per pod (a started cluster's is read without it)
  --nats-memory-limit SIZE   the started nats-server's soft memory limit (Go's GOMEMLIMIT, e.g. 2GiB;
                         default none): the million-pod case's memory figure (docs/scheduler.md)
  --output FILE          also write the JSON result document to FILE
  --batch N              objects per batch create (default 250)
  --in-flight N          batch creates in flight (default 4)
  --stall-timeout S      give up when no pod is scheduled for S seconds (default 120)
  --list                 list the selected workloads and exit
  --verbose              show the cluster processes' output
  --tracing-sampling-rate R, --tracing=false   the started cluster's tracing (default: the components'
                         default rate, 0.01; see docs/monitoring.md#tracing)
  -h, --help             this help`;

async function runOne(
  w: Workload,
  opts: { natsUrl?: string; metricsUrl?: string; natsMonitorUrl?: string; natsMemoryLimit?: string; batch: number; inFlight: number; stallMs: number; verbose: boolean; tracingArgs: string[] },
): Promise<WorkloadResult> {
  const started = performance.now();
  let cluster: Cluster | undefined;
  let sampler: MemorySampler | undefined;
  const log = (line: string) => console.log(line);
  try {
    if (opts.natsUrl) {
      sampler = new MemorySampler({ bench: process.pid });
    } else {
      log(`${w.fullName}: starting nats-server, apiserver and scheduler${opts.tracingArgs.length ? ` (${opts.tracingArgs.join(' ')})` : ''}`);
      cluster = await startCluster({ scheduler: { configPath: w.schedulerConfigPath, verbose: opts.verbose }, tracingArgs: opts.tracingArgs, natsMemoryLimit: opts.natsMemoryLimit, ...benchClusterEnv() });
      active = cluster;
      sampler = new MemorySampler({ ...cluster.pids, bench: process.pid });
    }
    sampler.start();
    const nc = await connectNats(opts.natsUrl ?? cluster!.natsUrl, { name: 'bench-scheduler-perf', waitOnFirstConnect: false });
    const client = new ApiClient(nc, { requestTimeoutMs: 60_000 });
    const tracker = new PodTracker(client);
    const monitorUrl = opts.natsMonitorUrl ?? cluster?.natsMonitorUrl;
    // a shared cluster gets its objects labelled so they can be removed afterwards
    const runId = opts.natsUrl ? randomUUID().slice(0, 8) : undefined;
    try {
      await tracker.start();
      const runner = new WorkloadRunner(w, {
        client,
        tracker,
        schedulerMetricsUrl: opts.metricsUrl ?? cluster?.schedulerMetricsUrl,
        runId,
        log,
        batchSize: opts.batch,
        inFlight: opts.inFlight,
        stallTimeoutMs: opts.stallMs,
        pids: cluster ? { bench: process.pid, ...cluster.pids } : { bench: process.pid },
        natsMonitor: monitorUrl ? { url: monitorUrl, roleOf: connectionRole } : undefined,
        gcMetrics: gcMetricsSources(cluster?.httpUrl, opts.metricsUrl ?? cluster?.schedulerMetricsUrl),
      });
      const result = await runner.run();
      const profileDir = benchClusterEnv().profileDir;
      if (profileDir && result.measured?.window) {
        // the measured op on the profiles' clock: `bin/cpuprofile-top.js FILE --window THIS`
        const file = path.join(profileDir, 'measured-window.json');
        // V8 writes its profiles into the folder only as the processes exit, after this
        mkdirSync(profileDir, { recursive: true });
        writeFileSync(file, JSON.stringify({ workload: w.fullName, ...result.measured.window }) + '\n');
        result.notes.push(`the measured op's window for cutting the CPU profiles: ${file}`);
      }
      if (tracker.relists) result.notes.push(`the pod watch broke and was re-listed ${tracker.relists} time(s)`);
      if (runId) await runner.cleanup();
      result.seconds = (performance.now() - started) / 1000;
      result.peakMemory = sampler.stop();
      return result;
    } finally {
      await tracker.stop();
      client.close();
      await nc.close();
    }
  } catch (e) {
    return {
      workload: w,
      dataItems: [],
      seconds: (performance.now() - started) / 1000,
      peakMemory: sampler?.stop(),
      error: (e as Error).message,
      notes: [],
    };
  } finally {
    active = undefined;
    await cluster?.stop();
  }
}

/** Which process a NATS connection belongs to, by the name each opens it with. */
export function connectionRole(name: string): string | undefined {
  if (name === 'bench-scheduler-perf') return 'bench';
  if (name === 'flotilla-apiserver') return 'apiserver';
  if (name.startsWith('scheduler/')) return 'scheduler';
  return undefined;
}

/** This process's metrics (its garbage collection, as every service counts its own), made at first use. */
let benchRegistry: ReturnType<typeof newRegistry> | undefined;

/**
 * The Node processes whose garbage collection is reported: the benchmark client itself
 * (first: its own figures are read when asked, before the scrapes' round trips), a started
 * cluster's apiserver, and the scheduler.
 */
export function gcMetricsSources(apiserverUrl: string | undefined, schedulerMetricsUrl: string | undefined): Record<string, MetricsSource> {
  const sources: Record<string, MetricsSource> = { bench: () => (benchRegistry ??= newRegistry('bench')).metrics() };
  if (apiserverUrl) sources.apiserver = `${apiserverUrl.replace(/\/+$/, '')}/metrics`;
  if (schedulerMetricsUrl) sources.scheduler = schedulerMetricsUrl;
  return sources;
}

/** The cluster of the running workload: an interrupted run still stops its processes. */
let active: Cluster | undefined;

function stopOnSignal(): void {
  const handler = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping the cluster`);
    void (active?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

/** The verb: an exit code (0 all passed, 1 a workload failed or fell below its threshold, 2 usage). */
export async function runBenchScheduler(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        workload: { type: 'string' },
        'label-filter': { type: 'string' },
        nats: { type: 'string' },
        server: { type: 'string' },
        'scheduler-metrics': { type: 'string' },
        'nats-monitor': { type: 'string' },
        'nats-memory-limit': { type: 'string' },
        output: { type: 'string' },
        batch: { type: 'string', default: '250' },
        'in-flight': { type: 'string', default: '4' },
        'stall-timeout': { type: 'string', default: '120' },
        list: { type: 'boolean' },
        verbose: { type: 'boolean' },
        tracing: TRACING_FLAG_OPTIONS.tracing,
        'tracing-sampling-rate': TRACING_FLAG_OPTIONS['tracing-sampling-rate'],
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`expected one CONFIG.yaml, got ${positionals.length}\n\n${USAGE}`);
    return 2;
  }
  const natsUrl = values.nats ?? values.server;
  try {
    tracingFlags(values);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  try {
    natsMemoryLimitEnv(values['nats-memory-limit']);
  } catch (e) {
    console.error(`--nats-memory-limit: ${(e as Error).message}`);
    return 2;
  }
  if (natsUrl && /^https?:/.test(natsUrl)) {
    console.error(`--server ${natsUrl}: the benchmark creates objects through the NATS API; give the cluster's NATS URL (nats://...)`);
    return 2;
  }
  const numbers = { batch: Number(values.batch), inFlight: Number(values['in-flight']), stall: Number(values['stall-timeout']) };
  for (const [k, v] of Object.entries(numbers)) {
    if (!(v > 0)) {
      console.error(`--${k} must be a positive number`);
      return 2;
    }
  }
  let workloads: Workload[];
  try {
    workloads = selectWorkloads(loadConfig(positionals[0]), { name: values.workload, labelFilter: values['label-filter'] });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  if (workloads.length === 0) {
    console.error(`no workload in ${positionals[0]} matches${values.workload ? ` --workload ${values.workload}` : ''}${values['label-filter'] ? ` --label-filter ${values['label-filter']}` : ''}`);
    return 2;
  }
  if (values.list) {
    for (const w of workloads) console.log(`${w.fullName}${w.threshold !== undefined ? ` (threshold ${w.threshold})` : ''} [${w.labels.join(', ')}] ${JSON.stringify(w.params)}`);
    return 0;
  }

  stopOnSignal();
  const results: WorkloadResult[] = [];
  for (const w of workloads) {
    console.log(`=== ${w.fullName} ${JSON.stringify(w.params)}`);
    const r = await runOne(w, {
      natsUrl,
      metricsUrl: values['scheduler-metrics'],
      natsMonitorUrl: values['nats-monitor'],
      natsMemoryLimit: values['nats-memory-limit'],
      batch: numbers.batch,
      inFlight: numbers.inFlight,
      stallMs: numbers.stall * 1000,
      verbose: values.verbose ?? false,
      tracingArgs: tracingArgs(values),
    });
    results.push(r);
    console.log(formatSummary(r));
  }

  const items = results.flatMap((r) => r.dataItems);
  console.log('');
  console.log(formatTable(items));
  console.log('');
  for (const r of results) console.log(formatSummary(r));
  console.log('');
  const doc = formatJson(items);
  console.log(doc);
  if (values.output) writeFileSync(values.output, doc + '\n');
  return results.some((r) => r.error || r.thresholdFailure) ? 1 : 0;
}
