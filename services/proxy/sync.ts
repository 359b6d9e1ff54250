/**
 * When the proxy syncs, as upstream's BoundedFrequencyRunner (pkg/util/async): a sync
 * asked for runs at once unless the last one started less than minSyncPeriod ago, then
 * as soon as that period is over; requests meanwhile fold into one; a sync runs at
 * least every syncPeriod even when nothing asked; one that fails is retried after
 * minSyncPeriod. Never two at once.
 */
export interface SyncRunnerOptions {
  /** at most one sync per this many ms (upstream --iptables-min-sync-period / nftables min-sync-period, default 1 s) */
  minSyncPeriodMs: number;
  /** at least one sync per this many ms (upstream --sync-period, default 30 s) */
  syncPeriodMs: number;
  /** a sync that threw */
  onError?: (e: unknown) => void;
}

export class SyncRunner {
  private lastStart = -Infinity;
  private running: Promise<void> | undefined;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private periodic: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly opts: SyncRunnerOptions,
  ) {}

  start(): void {
    this.periodic = setInterval(() => this.run(), this.opts.syncPeriodMs);
    this.periodic.unref();
    this.run();
  }

  /** Asks for a sync: now, or once minSyncPeriod since the last one has passed. */
  run(): void {
    if (this.stopped) return;
    this.pending = true;
    if (this.running || this.timer) return;
    const wait = Math.max(0, this.lastStart + this.opts.minSyncPeriodMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, wait);
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.pending || this.running) return;
    this.pending = false;
    this.lastStart = Date.now();
    this.running = this.fn().catch((e: unknown) => {
      this.pending = true;
      this.opts.onError?.(e);
    });
    await this.running;
    this.running = undefined;
    if (this.pending) this.run();
  }

  /** Stops asking; waits for a sync under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.periodic) clearInterval(this.periodic);
    await this.running;
  }
}
