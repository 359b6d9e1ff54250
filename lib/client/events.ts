/**
 * An event recorder in the manner of client-go's tools/events: events.k8s.io/v1 Events
 * (stored as core/v1, so `kubectl describe` and `kubectl get events` show them), written
 * in the background in batches (one batchCreate per flush), so recording never blocks the
 * caller. An event identical to one recorded within the last 10 minutes (same regarding
 * object, type, reason, action, note and reporter) is not created again: the first one
 * becomes a series and its count is bumped, as upstream's aggregation does. At most 4096
 * series are remembered (upstream tools/record's LRU): a scheduler records one event per
 * pod, and a series per pod kept for the whole window held ~0.5 kB per scheduled pod. When
 * the backlog is full, new events are dropped and counted.
 *
 * Names are `<regarding>.<hex ns>`, the nanoseconds made of the millisecond and a counter
 * that starts at random: recorders in other components write events about the same object
 * (a kubelet and the cloud's controllers about a Node) within one millisecond, and upstream's
 * real nanoseconds keep their names apart. Should two still meet, the create that finds its
 * name taken is written again under the next one.
 */
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { Counter, type Registry } from 'prom-client';
import { randomInt } from 'node:crypto';
import { AlreadyExistsError, StatusError } from '../api/errors.js';
import { metaMicroTime } from '../api/time.js';
import type { ApiClient, KubeObject } from './client.js';
import { MAX_DECODED_MESSAGE_BYTES } from './protocol.js';
import { EVENTS_V1 } from './resources.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: ApiClient;
  /** e.g. default-scheduler */
  reportingController: string;
  /** e.g. default-scheduler-<host>; at most 128 characters */
  reportingInstance: string;
  /** how long an event may wait for its batch (default 50 ms) */
  flushIntervalMs?: number;
  /** events per batchCreate (default 500) */
  maxBatch?: number;
  /** queued events beyond this are dropped (default 10,000) */
  maxQueued?: number;
  /** window in which identical events are aggregated into a series (default 10 min) */
  seriesWindowMs?: number;
  /** series remembered at most, the least recently seen forgotten first (default 4096) */
  maxSeries?: number;
  /** where events_dropped_total goes */
  registry?: Registry;
  /** told about failed writes (default: ignored; events are best effort) */
  onError?: (err: unknown) => void;
  now?: () => number;
}

export interface EventSpec {
  /** the object the event is about */
  regarding: KubeObject & { metadata?: { uid?: string; resourceVersion?: string } };
  related?: KubeObject;
  type: EventType;
  /** CamelCase, e.g. FailedScheduling */
  reason: string;
  /** what was done, e.g. Scheduling, Binding */
  action: string;
  note: string;
  /** the part of the regarding object, e.g. `spec.containers{web}` (the kubelet's container events) */
  fieldPath?: string;
}

interface Queued {
  spec: EventSpec;
  /** the series it is written for */
  s: SeriesState;
  at: number;
  /** creates already refused because the name was taken */
  renamed?: number;
}

/** how often a create whose name was taken is written under another before it is given up */
const RENAMES = 3;

/**
 * One series: the aggregation key's parts (the regarding object, fieldPath, type, reason,
 * action, note) as the strings the event came with, so looking a series up builds no key
 * string; series are chained per regarding object and listed from least to most recently seen.
 */
interface SeriesState {
  /** the key of its regarding object in `EventRecorder.byRegarding` */
  readonly regardingKey: string;
  readonly regardingNamespace: string | undefined;
  readonly regardingName: string | undefined;
  readonly fieldPath: string | undefined;
  readonly type: EventType;
  readonly reason: string;
  readonly action: string;
  readonly note: string;
  /** the Event's namespace */
  namespace: string;
  /** undefined until the create succeeded */
  name?: string;
  count: number;
  lastSeen: number;
  /** a series patch is queued */
  dirty: boolean;
  /** its create is queued or in flight */
  creating: boolean;
  /** no longer remembered: its queued writes are dropped */
  forgotten: boolean;
  /** the next series of the same regarding object */
  sibling: SeriesState | undefined;
  /** neighbours in the recency list */
  older: SeriesState | undefined;
  newer: SeriesState | undefined;
}

/** Whether `s` is the series of an event about an object with metadata `m` (the object's uid, if any, is `s`'s already). */
function sameSeries(s: SeriesState, m: { namespace?: string; name?: string }, spec: EventSpec): boolean {
  return (
    s.note === spec.note &&
    s.reason === spec.reason &&
    s.type === spec.type &&
    s.action === spec.action &&
    s.fieldPath === spec.fieldPath &&
    s.regardingName === m.name &&
    s.regardingNamespace === m.namespace
  );
}

const MAX_NOTE = 1024;
/** an Event's bytes in a batch create besides its note and names (measured: ~550) */
const EVENT_BYTES = 640;

function objectReference(o: KubeObject & { metadata?: { uid?: string; resourceVersion?: string } }, fieldPath?: string): ObjectReference {
  const ref: ObjectReference = { apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? 'Pod', name: o.metadata?.name };
  if (o.metadata?.namespace) ref.namespace = o.metadata.namespace;
  if (o.metadata?.uid) ref.uid = o.metadata.uid;
  if (o.metadata?.resourceVersion) ref.resourceVersion = o.metadata.resourceVersion;
  if (fieldPath) ref.fieldPath = fieldPath;
  return ref;
}

const TWO_24 = 0x1000000;

/**
 * upstream's Event name: `<regarding name>.<hex of the nanosecond timestamp>`, here
 * `ms` milliseconds plus `nanos` (< 1e6). ms × 1e6 is beyond 2^53, so it is computed in two
 * exact parts split at 2^24 (six hex digits) rather than with a BigInt per event.
 */
export function eventName(regardingName: string | undefined, ms: number, nanos: number): string {
  const msLow = ms % TWO_24;
  let low = msLow * 1_000_000 + nanos;
  const high = ((ms - msLow) / TWO_24) * 1_000_000 + Math.floor(low / TWO_24);
  low %= TWO_24;
  const hex = high === 0 ? low.toString(16) : high.toString(16) + low.toString(16).padStart(6, '0');
  return `${regardingName ?? 'event'}.${hex}`;
}

export class EventRecorder {
  /** events dropped because the backlog was full */
  dropped = 0;
  /** events written (creates) and series updates written */
  written = 0;
  private readonly opts: Required<Pick<EventRecorderOptions, 'flushIntervalMs' | 'maxBatch' | 'maxQueued' | 'seriesWindowMs' | 'maxSeries'>> & EventRecorderOptions;
  private readonly now: () => number;
  private queue: Queued[] = [];
  /** each regarding object's series (chained by `sibling`) */
  private readonly byRegarding = new Map<string, SeriesState>();
  private seriesCount = 0;
  /** the recency list's ends: eviction takes from the oldest */
  private oldest?: SeriesState;
  private newest?: SeriesState;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** the nanoseconds of the next name within its millisecond (mod 1e6): from a random start, so two recorders' names differ */
  private seq = randomInt(1_000_000);
  private stopped = false;
  private readonly droppedCounter?: Counter;
  private gcTimer?: NodeJS.Timeout;
  /** the series count at which the least recently seen are evicted next */
  private evictAt: number;

  constructor(opts: EventRecorderOptions) {
    this.opts = { flushIntervalMs: 50, maxBatch: 500, maxQueued: 10_000, seriesWindowMs: 10 * 60_000, maxSeries: 4096, ...opts };
    this.evictAt = this.opts.maxSeries;
    this.now = opts.now ?? Date.now;
    if (opts.registry) {
      this.droppedCounter =
        (opts.registry.getSingleMetric('events_dropped_total') as Counter | undefined) ??
        new Counter({ name: 'events_dropped_total', help: 'Events dropped by the event recorder because its backlog was full.', registers: [opts.registry] });
    }
    // forget series older than the window, so the cache stays bounded
    this.gcTimer = setInterval(() => this.gc(), 60_000);
    this.gcTimer.unref();
  }

  /** Records an event; returns at once. */
  eventf(regarding: EventSpec['regarding'], related: KubeObject | undefined, type: EventType, reason: string, action: string, note: string): void {
    this.record({ regarding, related, type, reason, action, note });
  }

  record(spec: EventSpec): void {
    if (this.stopped) return;
    const m = spec.regarding.metadata ?? {};
    const at = this.now();
    // objects are told apart by uid (a string they already hold); ones without by namespace and name
    const regardingKey = m.uid || `${m.namespace ?? ''}/${m.name ?? ''}`;
    let s = this.byRegarding.get(regardingKey);
    while (s && !sameSeries(s, m, spec)) s = s.sibling;
    if (s && at - s.lastSeen < this.opts.seriesWindowMs) {
      s.count++;
      s.lastSeen = at;
      this.unlink(s);
      this.append(s);
      if (!s.dirty && s.name) s.dirty = this.enqueue({ spec, s, at });
      return;
    }
    if (s) this.forget(s);
    const fresh: SeriesState = {
      regardingKey,
      regardingNamespace: m.namespace,
      regardingName: m.name,
      fieldPath: spec.fieldPath,
      type: spec.type,
      reason: spec.reason,
      action: spec.action,
      note: spec.note,
      namespace: m.namespace || 'default',
      count: 1,
      lastSeen: at,
      dirty: false,
      creating: false,
      forgotten: false,
      sibling: this.byRegarding.get(regardingKey),
      older: undefined,
      newer: undefined,
    };
    this.byRegarding.set(regardingKey, fresh);
    this.append(fresh);
    this.seriesCount++;
    fresh.creating = this.enqueue({ spec, s: fresh, at });
    if (this.seriesCount > this.evictAt) this.evict();
  }

  /** how many series are remembered */
  get seriesSize(): number {
    return this.seriesCount;
  }

  /** `s` becomes the most recently seen */
  private append(s: SeriesState): void {
    s.older = this.newest;
    s.newer = undefined;
    if (this.newest) this.newest.newer = s;
    else this.oldest = s;
    this.newest = s;
  }

  private unlink(s: SeriesState): void {
    if (s.older) s.older.newer = s.newer;
    else this.oldest = s.newer;
    if (s.newer) s.newer.older = s.older;
    else this.newest = s.older;
    s.older = s.newer = undefined;
  }

  /** Stops remembering `s`; its queued writes are dropped. */
  private forget(s: SeriesState): void {
    if (s.forgotten) return;
    s.forgotten = true;
    this.unlink(s);
    this.seriesCount--;
    const first = this.byRegarding.get(s.regardingKey);
    if (first === s) {
      if (s.sibling) this.byRegarding.set(s.regardingKey, s.sibling);
      else this.byRegarding.delete(s.regardingKey);
      return;
    }
    for (let p = first; p; p = p.sibling) {
      if (p.sibling === s) {
        p.sibling = s.sibling;
        return;
      }
    }
  }

  /**
   * Forgets the least recently seen series down to maxSeries, but none with a create or a
   * patch still to write. One pass per maxSeries/4 new series at most, so a backlog of
   * unwritten series is not rescanned for every event.
   */
  private evict(): void {
    let excess = this.seriesCount - this.opts.maxSeries;
    for (let s = this.oldest; s && excess > 0; ) {
      const newer = s.newer;
      if (!s.creating && !s.dirty) {
        this.forget(s);
        excess--;
      }
      s = newer;
    }
    this.evictAt = Math.max(this.seriesCount, this.opts.maxSeries) + Math.ceil(this.opts.maxSeries / 4);
  }

  /** Queues an item; false when the backlog is full and it was dropped. */
  private enqueue(item: Queued): boolean {
    if (this.queue.length >= this.opts.maxQueued) {
      this.dropped++;
      this.droppedCounter?.inc();
      return false;
    }
    this.queue.push(item);
    if (!this.timer && !this.flushing) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.flushIntervalMs);
    }
    return true;
  }

  private eventName(name: string | undefined, at: number): string {
    // seq keeps names unique within a ms
    return eventName(name, at, this.seq++ % 1_000_000);
  }

  /** Writes everything queued so far; resolves when written (for stop() and tests). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.writeAll().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0 && !this.timer && !this.stopped) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.flush();
        }, this.opts.flushIntervalMs);
      }
    });
    await this.flushing;
  }

  /** The next batch: at most maxBatch events, and about MAX_DECODED_MESSAGE_BYTES of JSON. */
  private takeBatch(): Queued[] {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < this.opts.maxBatch) {
      const spec = this.queue[n]!.spec;
      // an Event's fixed fields and reference are about 600 bytes; the note and the names vary
      bytes += EVENT_BYTES + Math.min(spec.note.length, MAX_NOTE) + 2 * (spec.regarding.metadata?.name?.length ?? 0);
      if (n > 0 && bytes > MAX_DECODED_MESSAGE_BYTES) break;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const creates: Array<{ item: Queued; s: SeriesState }> = [];
      const patches: SeriesState[] = [];
      for (const item of batch) {
        const s = item.s;
        if (s.forgotten) continue;
        if (s.name) patches.push(s);
        else creates.push({ item, s });
      }
      await Promise.all([this.create(creates), ...patches.map((s) => this.patchSeries(s))]);
    }
  }

  private async create(items: Array<{ item: Queued; s: SeriesState }>): Promise<void> {
    if (items.length === 0) return;
    const names: string[] = [];
    const bodies = items.map(({ item, s }) => {
      const { spec, at } = item;
      const name = this.eventName(spec.regarding.metadata?.name, at);
      names.push(name);
      const ev: Record<string, unknown> = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace: s.namespace },
        eventTime: metaMicroTime(at),
        reportingController: this.opts.reportingController,
        reportingInstance: this.opts.reportingInstance.slice(0, 128),
        action: spec.action,
        reason: spec.reason,
        regarding: objectReference(spec.regarding, spec.fieldPath),
        note: spec.note.length > MAX_NOTE ? spec.note.slice(0, MAX_NOTE) : spec.note,
        type: spec.type,
      };
      if (spec.related) ev.related = objectReference(spec.related);
      return { ...EVENTS_V1, namespace: s.namespace, body: ev };
    });
    let results: Array<StatusError | undefined>;
    try {
      // only whether each event was created matters: its echo is not decoded
      results = await this.opts.client.batchCreateOutcomes(bodies);
    } catch (e) {
      this.opts.onError?.(e);
      // the events are lost; identical ones later start afresh
      for (const { s } of items) this.forget(s);
      return;
    }
    // series written just now may be forgotten: the next new series looks again
    this.evictAt = Math.min(this.evictAt, this.opts.maxSeries + Math.ceil(this.opts.maxSeries / 4));
    results.forEach((r, i) => {
      const { item, s } = items[i]!;
      const renamed = item.renamed ?? 0;
      if (r instanceof AlreadyExistsError && renamed < RENAMES && !s.forgotten) {
        // another recorder's event about the same object took the name: the next batch draws another
        this.queue.push({ ...item, renamed: renamed + 1 });
        return;
      }
      s.creating = false;
      if (r instanceof StatusError) {
        this.opts.onError?.(r);
        // not written: an identical event later is created afresh, not counted into a series that has no Event
        this.forget(s);
        return;
      }
      this.written++;
      s.name = names[i];
      // repeats seen while the create was in flight are written as a series now
      if (s.count > 1 && !s.dirty) {
        s.dirty = true;
        this.queue.push({ ...item, at: s.lastSeen });
      }
    });
  }

  private async patchSeries(s: SeriesState): Promise<void> {
    s.dirty = false;
    if (s.count < 2 || !s.name) return;
    try {
      await this.opts.client.patch(
        { ...EVENTS_V1, namespace: s.namespace, name: s.name },
        'merge',
        { series: { count: s.count, lastObservedTime: metaMicroTime(s.lastSeen) } },
      );
      this.written++;
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  private gc(): void {
    const cutoff = this.now() - this.opts.seriesWindowMs;
    for (let s = this.oldest; s; ) {
      const newer = s.newer;
      if (s.lastSeen < cutoff && !s.dirty) this.forget(s);
      s = newer;
    }
  }

  /** Writes what is queued and stops recording. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.gcTimer) clearInterval(this.gcTimer);
    await this.flush();
    this.stopped = true;
  }
}
