/**
 * What the benchmarks measure around a cluster: how long until a condition holds, and the
 * memory of its processes.
 */
import { readFileSync } from 'node:fs';

/**
 * What the environment asks of a benchmark's cluster: FLOTILLA_PROFILE_DIR (V8 CPU profiles
 * of the apiserver and the scheduler land there on exit) and FLOTILLA_BENCH_APISERVERS
 * (apiserver replicas, default 1).
 */
export function benchClusterEnv(): { profileDir?: string; apiservers: number } {
  return { profileDir: process.env.FLOTILLA_PROFILE_DIR || undefined, apiservers: Number(process.env.FLOTILLA_BENCH_APISERVERS ?? 1) };
}

/**
 * Seconds until check() holds, polled every 100 ms; throws after timeoutMs. progress(),
 * when given, is printed to stderr once a second while waiting.
 */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, progress?: () => string): Promise<number> {
  const start = performance.now();
  let lastPrint = start;
  for (;;) {
    if (await check()) return (performance.now() - start) / 1000;
    const now = performance.now();
    if (now - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    if (progress && now - lastPrint >= 1000) {
      lastPrint = now;
      process.stderr.write(`  ${what}: ${progress()}\n`);
    }
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
