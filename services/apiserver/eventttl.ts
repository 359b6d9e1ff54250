/**
 * Events expire, as upstream's apiserver makes them expire: it stores every Event under an
 * etcd lease of `--event-ttl` (default 1 h), granted anew by each write, so an Event not
 * written for an hour disappears and its watchers see it DELETED. JetStream KV has no
 * per-key expiry on nats-server 2.9, so the apiserver does the lease's work itself: it
 * notes when each Event was last written (from the watch cache's events; at start, from the
 * Event's own timestamps) and deletes, through the ordinary delete path, each one whose
 * time is up and whose resourceVersion is still the one noted. Every apiserver replica
 * runs this; a replica that finds the Event already gone or rewritten leaves it.
 */
import { ConflictError, NotFoundError } from '../../lib/api/errors.js';
import type { CacheEvent, CachedObject, WatchCache } from './watchcache.js';

/** upstream kube-apiserver --event-ttl */
export const DEFAULT_EVENT_TTL_MS = 60 * 60_000;

/** The storage resource both core/v1 and events.k8s.io/v1 Events live under. */
const EVENTS = 'events';

/** Deletes an Event if its resourceVersion is still `resourceVersion` (a NotFound or Conflict otherwise). */
export type RemoveEvent = (namespace: string, name: string, resourceVersion: string) => Promise<void>;

export interface EventExpiryOptions {
  ttlMs: number;
  /** how often due Events are looked for (default: a tenth of the TTL, between 1 s and 60 s) */
  sweepIntervalMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

/**
 * The time an Event was last written, read from the object: the newest of its creation,
 * its last occurrence and its managers' write times (a restarted apiserver cannot know
 * more; upstream's leases live in etcd).
 */
export function lastWritten(ev: any): number {
  const times = [ev?.metadata?.creationTimestamp, ev?.lastTimestamp, ev?.eventTime, ev?.series?.lastObservedTime];
  for (const m of ev?.metadata?.managedFields ?? []) times.push(m?.time);
  let latest = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (typeof t !== 'string') continue;
    const ms = Date.parse(t);
    if (ms > latest) latest = ms;
  }
  return latest;
}

export class EventExpiry {
  private readonly ttlMs: number;
  private readonly sweepIntervalMs: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  /**
   * Due times in write order, as parallel arrays from `head` on (an entry each is a few
   * words: a million Events cost tens of MB here). A rewrite appends a new entry; the old
   * one is skipped when its revision is no longer the cached one.
   */
  private namespaces: string[] = [];
  private names: string[] = [];
  private revisions: number[] = [];
  private dueAt: number[] = [];
  private head = 0;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;

  constructor(
    private readonly cache: WatchCache,
    private readonly remove: RemoveEvent,
    opts: EventExpiryOptions,
  ) {
    if (!(opts.ttlMs > 0)) throw new RangeError(`event TTL must be positive, got ${opts.ttlMs} ms`);
    this.ttlMs = opts.ttlMs;
    this.sweepIntervalMs = opts.sweepIntervalMs ?? Math.min(60_000, Math.max(1_000, opts.ttlMs / 10));
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? ((line) => console.error(`apiserver: ${line}`));
  }

  /** Notes every cached Event, follows the cache from there on and sweeps on a timer. */
  start(): void {
    // one synchronous turn: the cache applies no entry between the list and the subscribe
    const present: Array<[number, CachedObject]> = [];
    for (const c of this.cache.list(EVENTS)) present.push([lastWritten(c.obj), c]);
    present.sort((a, b) => a[0] - b[0]);
    for (const [written, c] of present) this.push(c.namespace, c.name, c.revision, (Number.isFinite(written) ? written : this.now()) + this.ttlMs);
    this.unsubscribe = this.cache.subscribe(EVENTS, this.cache.revision, (ev) => this.observe(ev));
    this.timer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.sweeping;
  }

  /** How many Events are noted (stale entries of rewritten or deleted ones included). */
  get noted(): number {
    return this.revisions.length - this.head;
  }

  /**
   * Deletes the Events whose time is up, oldest first; answers how many it deleted. A
   * failure other than NotFound or Conflict stops the sweep at that Event, to be tried
   * again at the next one.
   */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepDue().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepDue(): Promise<number> {
    let deleted = 0;
    while (this.head < this.revisions.length && this.dueAt[this.head] <= this.now()) {
      const i = this.head;
      // the revision alone: a cold Event is not unpacked and parsed to be deleted
      if (this.cache.revisionOf(EVENTS, this.namespaces[i], this.names[i]) === this.revisions[i]) {
        try {
          await this.remove(this.namespaces[i], this.names[i], String(this.revisions[i]));
          deleted++;
        } catch (e) {
          if (!(e instanceof NotFoundError || e instanceof ConflictError)) {
            this.log(`event TTL: deleting event ${this.namespaces[i]}/${this.names[i]} (resourceVersion ${this.revisions[i]}): ${(e as Error).message}; trying again in ${this.sweepIntervalMs} ms`);
            break;
          }
        }
      }
      this.head = i + 1;
    }
    this.compact();
    return deleted;
  }

  private observe(ev: CacheEvent): void {
    if (ev.type !== 'DELETED') this.push(ev.namespace, ev.name, ev.revision, this.now() + this.ttlMs);
  }

  private push(namespace: string, name: string, revision: number, due: number): void {
    this.namespaces.push(namespace);
    this.names.push(name);
    this.revisions.push(revision);
    this.dueAt.push(due);
  }

  /** Drops the swept entries once they are most of the arrays. */
  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.revisions.length) return;
    this.namespaces = this.namespaces.slice(this.head);
    this.names = this.names.slice(this.head);
    this.revisions = this.revisions.slice(this.head);
    this.dueAt = this.dueAt.slice(this.head);
    this.head = 0;
  }
}
