/**
 * The cluster a workload runs against. By default a fresh one per workload, each part
 * in its own process as in production (nats-server, the apiserver, the scheduler with
 * its own metrics port), torn down afterwards; or an existing cluster's NATS API and
 * scheduler metrics URL. Memory of every cluster process is sampled while it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../lib/nats/server.js';
import { BENCH_HEAP_MB, startBenchCluster, stopChild, type BenchCluster } from '../cluster.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The scheduler service's entry point in the build. */
export const SCHEDULER_MAIN = path.join(DIST, 'services/scheduler/main.js');
const CLI_MAIN = path.join(DIST, 'cli/main.js');

export interface PerfCluster {
  natsUrl: string;
  /** the scheduler's /metrics, when known */
  schedulerMetricsUrl?: string;
  /** the processes whose memory is reported, by role */
  pids: Record<string, number | undefined>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** KubeSchedulerConfiguration file for the scheduler (a test case's schedulerConfigPath) */
  schedulerConfigPath?: string;
  /** pass the children's logs through */
  verbose?: boolean;
  startTimeoutMs?: number;
}

/** A fresh nats-server + apiserver + scheduler, each a child process. */
export async function startPerfCluster(opts: StartOptions = {}): Promise<PerfCluster> {
  if (!existsSync(SCHEDULER_MAIN)) throw new Error(`no scheduler in the build (${SCHEDULER_MAIN}); run "npx tsc -p ." or pass --nats URL for a running cluster`);
  // FLOTILLA_PROFILE_DIR: V8 CPU profiles of the apiserver and the scheduler land there on exit
  const profileDir = process.env.FLOTILLA_PROFILE_DIR || undefined;
  const apiservers = Number(process.env.FLOTILLA_BENCH_APISERVERS ?? 1);
  const base: BenchCluster = await startBenchCluster({ startTimeoutMs: opts.startTimeoutMs, profileDir, apiservers });
  let scheduler: ChildProcess | undefined;
  try {
    const port = await freePort();
    // one scheduler, as upstream's scheduler_perf runs it: no leader election to wait for
    const args = ['--nats', base.natsUrl, '--port', String(port), '--leader-elect=false'];
    if (opts.schedulerConfigPath) args.push('--config', opts.schedulerConfigPath);
    const nodeArgs = [`--max-old-space-size=${BENCH_HEAP_MB}`, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
    scheduler = spawn(process.execPath, [...nodeArgs, CLI_MAIN, 'scheduler', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const origin = `http://127.0.0.1:${port}`;
    await waitForScheduler(scheduler, `${origin}/readyz`, opts.startTimeoutMs ?? 30_000, opts.verbose ?? false);
    const metricsUrl = `${origin}/metrics`;
    const child = scheduler;
    return {
      natsUrl: base.natsUrl,
      schedulerMetricsUrl: metricsUrl,
      pids: { 'nats-server': base.nats.process.pid, apiserver: base.apiserver.pid, scheduler: child.pid },
      async stop() {
        await stopChild(child);
        await base.stop();
      },
    };
  } catch (e) {
    if (scheduler) await stopChild(scheduler);
    await base.stop();
    throw e;
  }
}


/** Ready once its /readyz answers 200 (caches synced); its output is kept for an error message (or shown with verbose). */
async function waitForScheduler(child: ChildProcess, readyUrl: string, timeoutMs: number, verbose: boolean): Promise<void> {
  let tail = '';
  const keep = (chunk: string) => {
    if (verbose) process.stderr.write(`[scheduler] ${chunk}`);
    tail = (tail + chunk).slice(-4000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, sig) => (exited = `${sig ?? code}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`the scheduler exited (${exited}) before serving ${readyUrl}; its output:\n${tail}`);
    try {
      const res = await fetch(readyUrl);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the scheduler did not answer ${readyUrl} within ${timeoutMs} ms; its output:\n${tail}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


/** Resident and peak resident memory of a process in bytes, from /proc; undefined when gone. */
export function processMemory(pid: number | undefined): { rss: number; hwm: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * Peak memory of each process: sampled every second, and the kernel's own high-water
 * mark (VmHWM) read at each sample, so a peak between samples is not missed.
 */
export class MemorySampler {
  readonly peak: Record<string, number> = {};
  private timer?: NodeJS.Timeout;

  constructor(private readonly pids: Record<string, number | undefined>) {}

  sample(): void {
    for (const [who, pid] of Object.entries(this.pids)) {
      const m = processMemory(pid);
      if (!m) continue;
      const v = Math.max(Number.isNaN(m.rss) ? 0 : m.rss, Number.isNaN(m.hwm) ? 0 : m.hwm);
      this.peak[who] = Math.max(this.peak[who] ?? 0, v);
    }
  }

  start(intervalMs = 1000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): Record<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return { ...this.peak };
  }
}
