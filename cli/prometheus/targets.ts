/**
 * file_sd for Prometheus from the cluster: every few seconds the processes on NATS are
 * asked where they serve metrics (lib/metrics discoverTargets), and each scrape job's
 * file is rewritten when its targets changed. Prometheus watches the files, so a new
 * kubelet process or component is scraped without a restart, and a stopped one drops out.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { discoverTargets, type ScrapeTarget } from '../../lib/metrics/mod.js';
import { OTHER_JOBS, SCRAPE_JOBS, targetsFile, type PrometheusLayout } from './config.js';

/** A file_sd target group. */
interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The file_sd groups of each scrape job: one group per (target, metrics path). */
export function targetGroups(targets: ScrapeTarget[]): Map<string, TargetGroup[]> {
  const byJob = new Map<string, TargetGroup[]>([...SCRAPE_JOBS, OTHER_JOBS].map((j) => [j, []]));
  for (const t of targets) {
    const known = (SCRAPE_JOBS as readonly string[]).includes(t.job);
    const file = known ? t.job : OTHER_JOBS;
    for (const p of t.paths?.length ? t.paths : ['/metrics']) {
      byJob.get(file)!.push({ targets: [t.address], labels: { ...t.labels, ...(known ? {} : { job: t.job }), __metrics_path__: p } });
    }
  }
  return byJob;
}

export class TargetFiles {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly layout: PrometheusLayout,
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Writes every job's file (so Prometheus starts with them all), empty unless a previous
   * run left it, then keeps them current from a first discovery on. That discovery waits
   * out its answers (half a second) while Prometheus starts, not before.
   */
  start(): void {
    mkdirSync(this.layout.targets, { recursive: true });
    for (const job of targetGroups([]).keys()) {
      const file = targetsFile(this.layout, job);
      if (!existsSync(file)) writeIfChanged(file, '[]\n');
    }
    const tick = () => {
      if (this.stopped) return;
      this.running = this.refresh()
        .catch((e) => this.log(`prometheus targets: ${(e as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    tick();
  }

  async refresh(): Promise<void> {
    const groups = targetGroups(await discoverTargets(this.nc, Math.min(500, this.intervalMs)));
    for (const [job, list] of groups) writeIfChanged(targetsFile(this.layout, job), JSON.stringify(list, null, 1) + '\n');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

/** Replaces the file in one rename (Prometheus never reads half of it), only when its text changes. */
function writeIfChanged(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) return;
  } catch {
    /* not written yet */
  }
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}
