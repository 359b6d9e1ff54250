/**
 * The scrape loop, metrics-server's manager: every resolution (15 s by default) one NATS
 * scrape of every kubelet process (lib/stats) fills the store. The processes that
 * answered are remembered, so the next scrape waits for exactly them and ends as soon
 * as they have all answered (plus a short quiet period for newcomers).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Registry } from 'prom-client';
import { client } from '../../lib/metrics/mod.js';
import { scrapeKubelets } from '../../lib/stats/mod.js';
import type { MetricsStore } from './store.js';

export interface CycleReport {
  /** ms from the request to the last answer stored */
  durationMs: number;
  processes: number;
  nodes: number;
  pods: number;
  missing: number;
}

export class Scraper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<CycleReport>;
  private stopped = false;
  private known = new Map<string, number>();
  private readonly tick: client.Histogram;
  /** the last cycle's figures */
  last?: CycleReport;
  /** scrapes finished so far */
  cycles = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: MetricsStore,
    private readonly resolutionMs: number,
    registry: Registry,
    private readonly log: (line: string) => void,
  ) {
    this.tick = new client.Histogram({
      name: 'metrics_server_manager_tick_duration_seconds',
      help: '[ALPHA] The total time spent collecting and storing metrics in seconds.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers: [registry],
    });
    const store_ = store;
    new client.Gauge({
      name: 'metrics_server_storage_points',
      help: '[ALPHA] Number of metrics points stored.',
      labelNames: ['type'],
      registers: [registry],
      collect() {
        this.set({ type: 'node' }, store_.counts.nodes);
        this.set({ type: 'pod' }, store_.counts.pods);
      },
    });
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.scrapeOnce();
      this.running.then(
        () => undefined,
        (e: Error) => this.log(`scrape failed: ${e.message}`),
      );
    };
    loop();
    this.timer = setInterval(loop, this.resolutionMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One scrape of every kubelet process into the store. */
  async scrapeOnce(): Promise<CycleReport> {
    const t0 = Date.now();
    this.store.beginCycle(t0);
    const answered = new Set<string>();
    const result = await scrapeKubelets(
      this.nc,
      {
        expected: this.known.keys(),
        timeoutMs: Math.max(1000, Math.floor(this.resolutionMs * 0.9)),
        // the first scrape knows no process yet: it gives them longer to start answering
        quietMs: this.known.size ? 200 : 1000,
      },
      (nodes) => {
        for (const n of nodes) {
          answered.add(n.node);
          this.store.store(n);
        }
      },
    );
    this.store.endCycle(answered);
    // a process that missed this scrape is still waited for next time, once
    const next = new Map<string, number>();
    for (const p of result.processes.keys()) next.set(p, 0);
    for (const p of result.missing) if ((this.known.get(p) ?? 0) < 1) next.set(p, (this.known.get(p) ?? 0) + 1);
    this.known = next;
    const durationMs = Date.now() - t0;
    this.tick.observe(durationMs / 1000);
    this.cycles++;
    const counts = this.store.counts;
    this.last = { durationMs, processes: result.processes.size, nodes: counts.nodes, pods: counts.pods, missing: result.missing.length };
    if (result.missing.length) this.log(`scrape: ${result.missing.length} kubelet process(es) did not answer within the timeout`);
    return this.last;
  }
}
