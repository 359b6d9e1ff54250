/**
 * The crash-loop back-off of restarted containers, as upstream's kubelet keeps it
 * (client-go flowcontrol.Backoff keyed by pod and container): the first restart of a
 * container is immediate; from then on, a container that exits again waits a back-off
 * that starts at 10 s and doubles with every restart up to 5 min, counted from its
 * exit. A container that was not restarted for 10 min (it ran that long) starts
 * afresh. While it waits, its status is `waiting` with reason `CrashLoopBackOff` and
 * upstream's message.
 */

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;
/** upstream: an entry not stepped for twice the maximum (10 min) is forgotten */
export const BACKOFF_RESET_MS = 2 * MAX_BACKOFF_MS;

export interface BackOffOptions {
  /** the first back-off (default 10 s); tests shorten it */
  initialMs?: number;
  /** the cap (default 5 min) */
  maxMs?: number;
  /** a key not restarted for this long starts afresh (default 10 min) */
  resetMs?: number;
  now?: () => number;
}

interface Entry {
  /** the back-off a container now waits after an exit */
  durationMs: number;
  /** when it was last restarted */
  lastRestart: number;
}

/** Go's time.Duration text: 500ms, 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  const secs = Number.isInteger(s) ? String(s % 60) : String(Number((s % 60).toFixed(3)));
  return s < 60 ? `${secs}s` : `${Math.floor(s / 60)}m${secs}s`;
}

export class ContainerBackOff {
  private readonly entries = new Map<string, Entry>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetMs: number;
  private readonly now: () => number;

  constructor(opts: BackOffOptions = {}) {
    this.initialMs = opts.initialMs ?? INITIAL_BACKOFF_MS;
    this.maxMs = opts.maxMs ?? MAX_BACKOFF_MS;
    this.resetMs = opts.resetMs ?? (opts.maxMs !== undefined ? 2 * opts.maxMs : BACKOFF_RESET_MS);
    this.now = opts.now ?? Date.now;
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.now() - e.lastRestart > this.resetMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /**
   * How long the container `key`, which exited at `finishedAt` (ms since the epoch),
   * still has to wait before it is restarted; 0: restart now. With it, the back-off
   * it is in (for the CrashLoopBackOff message).
   */
  delay(key: string, finishedAt: number): { waitMs: number; backOffMs: number } {
    const e = this.live(key);
    if (!e) return { waitMs: 0, backOffMs: 0 };
    return { waitMs: Math.max(0, finishedAt + e.durationMs - this.now()), backOffMs: e.durationMs };
  }

  /** The container is being restarted: its next back-off doubles (or starts at the initial one). */
  restarted(key: string): void {
    const e = this.live(key);
    const durationMs = e ? Math.min(e.durationMs * 2, this.maxMs) : this.initialMs;
    this.entries.set(key, { durationMs, lastRestart: this.now() });
  }

  /** The container's pod is gone. */
  forget(keyPrefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(keyPrefix)) this.entries.delete(k);
  }
}

/** The message of a container waiting in CrashLoopBackOff, upstream's words. */
export function crashLoopMessage(backOffMs: number, container: string, pod: { name: string; namespace: string; uid: string }): string {
  return `back-off ${goDuration(backOffMs)} restarting failed container=${container} pod=${pod.name}_${pod.namespace}(${pod.uid})`;
}
