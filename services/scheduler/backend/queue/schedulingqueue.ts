/**
 * The scheduling queue, with upstream kube-scheduler's semantics (pkg/scheduler/internal/queue):
 *  - activeQ: a heap ordered by the profile's QueueSort (priority desc, then timestamp);
 *  - backoffQ: pods that failed and wait out their backoff (initial * 2^(attempts-1), capped);
 *  - unschedulablePods: pods no node fits, with the plugins that rejected them, moved back
 *    when a cluster event could help one of those plugins, or after a while regardless;
 *  - gated pods (spec.schedulingGates): held until the gates are removed.
 * An event during a pod's scheduling cycle that may help the plugins that rejected it sends
 * the pod to backoffQ instead of unschedulablePods, so that event is not lost.
 * Time comes from an injectable now() so tests can step the clock.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podKey, type QueuedPodInfo } from '../../framework/types.js';

/** Cluster events that may make unschedulable pods schedulable (upstream's framework.ClusterEvent, coarsely). */
export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeUpdate'
  | 'NodeDelete'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'NamespaceChange'
  | 'PodUpdate'
  | 'UnschedulableTimeout'
  | 'ForceActivate';

/**
 * Which plugins' rejections an event may resolve (upstream's EventsToRegister of each
 * plugin). A pod rejected by a plugin not listed for an event stays where it is.
 */
/** a new entry's unschedulablePlugins: one set shared by all, as most pods are never rejected */
const NO_PLUGINS: ReadonlySet<string> = new Set();

const EVENT_PLUGINS: Record<ClusterEvent, ReadonlySet<string> | 'all'> = {
  NodeAdd: 'all',
  NodeUpdate: new Set([
    'NodeUnschedulable',
    'NodeName',
    'TaintToleration',
    'NodeAffinity',
    'NodePorts',
    'NodeResourcesFit',
    'PodTopologySpread',
    'InterPodAffinity',
  ]),
  NodeDelete: new Set(['PodTopologySpread', 'InterPodAffinity']),
  AssignedPodAdd: new Set(['PodTopologySpread', 'InterPodAffinity']),
  AssignedPodUpdate: new Set(['NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity']),
  AssignedPodDelete: new Set(['NodeResourcesFit', 'NodePorts', 'PodTopologySpread', 'InterPodAffinity', 'DefaultPreemption']),
  NamespaceChange: new Set(['InterPodAffinity']),
  PodUpdate: 'all',
  UnschedulableTimeout: 'all',
  ForceActivate: 'all',
};

/** Whether `event` could help a pod that `plugins` rejected (an empty set: anything may help). */
export function eventMayHelp(event: ClusterEvent, plugins: ReadonlySet<string>): boolean {
  const helped = EVENT_PLUGINS[event];
  if (helped === 'all' || plugins.size === 0) return true;
  for (const p of plugins) if (helped.has(p)) return true;
  return false;
}

export interface QueueOptions {
  /** QueueSort's less(a, b): a goes first */
  less?: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  /** podInitialBackoffSeconds (default 1) */
  podInitialBackoffSeconds?: number;
  /** podMaxBackoffSeconds (default 10) */
  podMaxBackoffSeconds?: number;
  /** how long a pod may sit in unschedulablePods before a flush moves it (default 5 min) */
  podMaxInUnschedulablePodsDurationMs?: number;
  /** ms clock (default Date.now) */
  now?: () => number;
  /** run the periodic flushes (backoffQ every 1 s, unschedulable leftovers every 30 s); default true */
  runFlushes?: boolean;
}

/** upstream's PrioritySort: higher priority first, then the earlier timestamp. */
export function prioritySortLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.timestamp < b.timestamp);
}

/** A pod's resolved priority (spec.priority, set by the Priority admission; 0 when unset). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** A queued pod plus the queue's own bookkeeping. */
export interface QueueEntry extends QueuedPodInfo {
  /** when it last failed, ms (backoff is counted from here) */
  lastFailure: number;
  /** the scheduling cycle it was popped in */
  cycle: number;
  /** position in the heap it is in (-1: not in a heap) */
  heapIndex: number;
}

/** A binary heap with positions tracked on the entries, so removal and update are O(log n). */
class Heap {
  readonly items: QueueEntry[] = [];
  constructor(private readonly less: (a: QueueEntry, b: QueueEntry) => boolean) {}

  get size(): number {
    return this.items.length;
  }
  peek(): QueueEntry | undefined {
    return this.items[0];
  }
  push(e: QueueEntry): void {
    e.heapIndex = this.items.length;
    this.items.push(e);
    this.up(e.heapIndex);
  }
  pop(): QueueEntry | undefined {
    const top = this.items[0];
    if (top) this.remove(top);
    return top;
  }
  remove(e: QueueEntry): void {
    const i = e.heapIndex;
    if (i < 0 || this.items[i] !== e) return;
    const last = this.items.pop()!;
    e.heapIndex = -1;
    if (last !== e) {
      this.items[i] = last;
      last.heapIndex = i;
      this.fix(i);
    }
  }
  /** re-establishes order after e's sort fields changed */
  fix(i: number): void {
    if (!this.up(i)) this.down(i);
  }
  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }
  private up(i: number): boolean {
    let moved = false;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.items[i]!, this.items[p]!)) break;
      this.swap(i, p);
      i = p;
      moved = true;
    }
    return moved;
  }
  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.less(this.items[r]!, this.items[l]!) ? r : l;
      if (!this.less(this.items[c]!, this.items[i]!)) return;
      this.swap(i, c);
      i = c;
    }
  }
}

export interface PendingCounts {
  active: number;
  backoff: number;
  unschedulable: number;
  gated: number;
}

/** Pod fields a scheduling decision does not read: an update touching only these changes nothing. */
function schedulingRelevantChange(oldPod: Pod, newPod: Pod): boolean {
  if (oldPod === newPod) return false;
  const strip = (p: Pod) => ({ labels: p.metadata?.labels, annotations: p.metadata?.annotations, spec: p.spec });
  return JSON.stringify(strip(oldPod)) !== JSON.stringify(strip(newPod));
}

function isGated(pod: Pod): boolean {
  return (pod.spec?.schedulingGates?.length ?? 0) > 0;
}

export class SchedulingQueue {
  private readonly now: () => number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly activeQ: Heap;
  private readonly backoffQ: Heap;
  /** every pod the queue holds, wherever it is */
  private readonly entries = new Map<string, QueueEntry>();
  private readonly where = new Map<string, 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inflight'>();
  private readonly unschedulable = new Map<string, QueueEntry>();
  /** unschedulable pods that wait for activate() alone (park): event passes do not walk them */
  private readonly parked = new Map<string, QueueEntry>();
  private readonly gated = new Map<string, QueueEntry>();
  /** nominated node per pod key, and pods per nominated node (preemption bookkeeping) */
  private readonly nominatedByPod = new Map<string, string>();
  private readonly nominatedByNode = new Map<string, Map<string, Pod>>();
  private schedulingCycle = 0;
  /** per event, the scheduling cycle in which it last happened (upstream's in-flight events, coarsely) */
  private readonly eventCycle = new Map<ClusterEvent, number>();
  private waiters: Array<() => void> = [];
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(opts: QueueOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.initialBackoffMs = (opts.podInitialBackoffSeconds ?? 1) * 1000;
    this.maxBackoffMs = (opts.podMaxBackoffSeconds ?? 10) * 1000;
    this.maxUnschedulableMs = opts.podMaxInUnschedulablePodsDurationMs ?? 5 * 60_000;
    const less = opts.less ?? prioritySortLess;
    this.activeQ = new Heap(less);
    this.backoffQ = new Heap((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
    if (opts.runFlushes ?? true) {
      this.timers.push(setInterval(() => this.flushBackoffQCompleted(), 1000));
      this.timers.push(setInterval(() => this.flushUnschedulablePodsLeftover(), 30_000));
      for (const t of this.timers) t.unref();
    }
  }

  /** The backoff a pod has earned after `attempts` failures: initial * 2^(attempts-1), capped. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  private backoffExpiry(e: QueueEntry): number {
    return e.lastFailure + this.backoffDuration(e.attempts);
  }

  private isBackingOff(e: QueueEntry): boolean {
    return e.attempts > 0 && this.backoffExpiry(e) > this.now();
  }

  private newEntry(pod: Pod): QueueEntry {
    const t = this.now();
    return {
      key: podKey(pod),
      pod,
      priority: podPriority(pod),
      timestamp: t,
      attempts: 0,
      initialAttemptTimestamp: t,
      unschedulablePlugins: NO_PLUGINS,
      lastFailure: 0,
      cycle: 0,
      heapIndex: -1,
    };
  }

  private detach(e: QueueEntry): void {
    switch (this.where.get(e.key)) {
      case 'active':
        this.activeQ.remove(e);
        break;
      case 'backoff':
        this.backoffQ.remove(e);
        break;
      case 'unschedulable':
        this.unschedulable.delete(e.key);
        this.parked.delete(e.key);
        break;
      case 'gated':
        this.gated.delete(e.key);
        break;
    }
    this.where.delete(e.key);
  }

  private toActive(e: QueueEntry): void {
    this.detach(e);
    if (isGated(e.pod)) {
      this.gated.set(e.key, e);
      this.where.set(e.key, 'gated');
      return;
    }
    this.activeQ.push(e);
    this.where.set(e.key, 'active');
    this.wake();
  }

  private toBackoff(e: QueueEntry): void {
    this.detach(e);
    this.backoffQ.push(e);
    this.where.set(e.key, 'backoff');
  }

  private toUnschedulable(e: QueueEntry): void {
    this.detach(e);
    this.unschedulable.set(e.key, e);
    this.where.set(e.key, 'unschedulable');
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** A new pending pod (informer add). */
  add(pod: Pod): void {
    if (this.closed) return;
    const key = podKey(pod);
    const existing = this.entries.get(key);
    if (existing) {
      this.update(existing.pod, pod);
      return;
    }
    const e = this.newEntry(pod);
    this.entries.set(key, e);
    this.toActive(e);
    this.refreshNomination(pod);
  }

  /**
   * A pending pod changed. A pod waiting as unschedulable whose spec or labels changed gets
   * another try (backoffQ when still backing off); elsewhere the entry is updated in place.
   */
  update(oldPod: Pod | undefined, newPod: Pod): void {
    if (this.closed) return;
    const key = podKey(newPod);
    const e = this.entries.get(key);
    if (!e) {
      this.add(newPod);
      return;
    }
    const relevant = !oldPod || schedulingRelevantChange(oldPod, newPod);
    e.pod = newPod;
    this.refreshNomination(newPod);
    const at = this.where.get(key);
    const priority = podPriority(newPod);
    const priorityChanged = priority !== e.priority;
    e.priority = priority;
    if (at === 'active') {
      if (isGated(newPod)) this.toActive(e);
      else if (priorityChanged) this.activeQ.fix(e.heapIndex);
    } else if (at === 'backoff') {
      if (isGated(newPod)) this.toActive(e);
    } else if (at === 'gated') {
      if (!isGated(newPod)) this.toActive(e);
    } else if (at === 'unschedulable' && relevant) {
      if (this.isBackingOff(e)) this.toBackoff(e);
      else this.toActive(e);
    }
  }

  /** The pod is gone or was bound: forget it everywhere. */
  delete(pod: Pod): void {
    const key = podKey(pod);
    const e = this.entries.get(key);
    if (e) {
      this.detach(e);
      this.entries.delete(key);
    }
    this.deleteNominatedPodIfExists(pod);
  }

  /** Waits for one pod (undefined once closed). */
  async pop(): Promise<QueueEntry | undefined> {
    const batch = await this.popBatch(1);
    return batch[0];
  }

  /**
   * Waits until activeQ has a pod, then takes up to `max` of them in queue-sort order.
   * Each taken pod starts a scheduling cycle and counts an attempt. Empty once closed.
   */
  async popBatch(max: number, signal?: AbortSignal): Promise<QueueEntry[]> {
    while (this.activeQ.size === 0) {
      if (this.closed || signal?.aborted) return [];
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    const out: QueueEntry[] = [];
    while (out.length < max && this.activeQ.size > 0) {
      const e = this.activeQ.pop()!;
      this.schedulingCycle++;
      e.cycle = this.schedulingCycle;
      e.attempts++;
      this.where.set(e.key, 'inflight');
      out.push(e);
    }
    return out;
  }

  /** The scheduling cycle counter (a pod popped now gets the next one). */
  get cycle(): number {
    return this.schedulingCycle;
  }

  /**
   * A popped pod could not be scheduled (or its binding failed). It goes to
   * unschedulablePods, or to backoffQ when an event that may help it came in since it was
   * popped or no plugin rejected it (an error, not a verdict). `plugins` are those that rejected it.
   */
  addUnschedulable(e: QueueEntry, plugins: Iterable<string> = [], cycle = e.cycle): void {
    const current = this.entries.get(e.key);
    // deleted (or bound) while it was being scheduled
    if (current !== e || this.closed) return;
    e.unschedulablePlugins = new Set(plugins);
    e.lastFailure = this.now();
    e.timestamp = e.lastFailure;
    if (e.unschedulablePlugins.size === 0 || this.helpedSince(cycle, e.unschedulablePlugins)) this.toBackoff(e);
    else this.toUnschedulable(e);
  }

  /**
   * A popped pod that waits for activate() alone (a preemptor while its victims go): no
   * cluster event moves it, so the passes over unschedulable pods skip it; the leftover
   * flush still moves it, should its activation never come.
   */
  park(e: QueueEntry, plugins: Iterable<string> = []): void {
    if (this.entries.get(e.key) !== e || this.closed) return;
    e.unschedulablePlugins = new Set(plugins);
    e.lastFailure = this.now();
    e.timestamp = e.lastFailure;
    this.detach(e);
    this.parked.set(e.key, e);
    this.where.set(e.key, 'unschedulable');
  }

  /** whether an event that may help `plugins` happened during or after `cycle` */
  private helpedSince(cycle: number, plugins: ReadonlySet<string>): boolean {
    for (const [event, at] of this.eventCycle) if (at >= cycle && eventMayHelp(event, plugins)) return true;
    return false;
  }

  /** A popped pod was placed (assumed): the queue lets go of it. */
  done(e: QueueEntry): void {
    if (this.entries.get(e.key) === e && this.where.get(e.key) === 'inflight') {
      this.where.delete(e.key);
      this.entries.delete(e.key);
    }
  }

  /**
   * A cluster event happened (or several: one pass for all of them): unschedulable pods it
   * may help go to activeQ, or backoffQ while they are still backing off. Pods being
   * scheduled right now learn of it through the move request cycle.
   */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent | readonly ClusterEvent[], filter?: (e: QueueEntry) => boolean): number {
    const events = typeof event === 'string' ? [event] : event;
    let moved = 0;
    // a moved entry leaves the map as it is walked; none is added to it meanwhile
    for (const e of this.unschedulable.values()) {
      if (!events.some((ev) => eventMayHelp(ev, e.unschedulablePlugins))) continue;
      if (filter && !filter(e)) continue;
      if (this.isBackingOff(e)) this.toBackoff(e);
      else this.toActive(e);
      moved++;
    }
    for (const ev of events) this.eventCycle.set(ev, this.schedulingCycle);
    return moved;
  }

  /**
   * upstream Activate: a pod waiting in unschedulablePods or backoffQ goes to activeQ at once,
   * backoff or not (a preemptor whose victims are gone). Returns whether it moved.
   */
  activate(key: string): boolean {
    const at = this.where.get(key);
    if (at !== 'unschedulable' && at !== 'backoff') return false;
    this.toActive(this.entries.get(key)!);
    return true;
  }

  /** Moves pods whose backoff has expired from backoffQ to activeQ (runs every second). */
  flushBackoffQCompleted(): number {
    let moved = 0;
    for (;;) {
      const top = this.backoffQ.peek();
      if (!top || this.backoffExpiry(top) > this.now()) break;
      this.toActive(top);
      moved++;
    }
    return moved;
  }

  /** Moves pods that sat in unschedulablePods longer than the limit (runs every 30 s). */
  flushUnschedulablePodsLeftover(): number {
    const now = this.now();
    let moved = 0;
    for (const e of [...this.unschedulable.values(), ...this.parked.values()]) {
      if (now - e.lastFailure < this.maxUnschedulableMs) continue;
      if (this.isBackingOff(e)) this.toBackoff(e);
      else this.toActive(e);
      moved++;
    }
    return moved;
  }

  pending(): PendingCounts {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size + this.parked.size, gated: this.gated.size };
  }

  /** Where a pod is, for tests and diagnostics. */
  whereIs(key: string): 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inflight' | undefined {
    return this.where.get(key);
  }

  entry(key: string): QueueEntry | undefined {
    return this.entries.get(key);
  }

  /** unschedulable pods per rejecting plugin (scheduler_unschedulable_pods) */
  unschedulableByPlugin(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of [this.unschedulable, this.parked]) for (const e of m.values()) for (const p of e.unschedulablePlugins) out.set(p, (out.get(p) ?? 0) + 1);
    return out;
  }

  /**
   * unschedulable pods per profile (the pod's schedulerName) and rejecting plugin, for
   * scheduler_unschedulable_pods{plugin,profile}
   */
  unschedulableByProfile(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const e of [...this.unschedulable.values(), ...this.parked.values()]) {
      if (e.unschedulablePlugins.size === 0) continue;
      const profile = e.pod.spec?.schedulerName || 'default-scheduler';
      let byPlugin = out.get(profile);
      if (!byPlugin) out.set(profile, (byPlugin = new Map()));
      for (const p of e.unschedulablePlugins) byPlugin.set(p, (byPlugin.get(p) ?? 0) + 1);
    }
    return out;
  }

  // ---- nominated pods (preemption): a pod nominated to a node is counted there by later decisions

  /** Records that `pod` is nominated to `nodeName` (after a preemption). */
  addNominatedPod(pod: Pod, nodeName: string): void {
    const key = podKey(pod);
    this.deleteNominatedPodIfExists(pod);
    this.nominatedByPod.set(key, nodeName);
    let pods = this.nominatedByNode.get(nodeName);
    if (!pods) this.nominatedByNode.set(nodeName, (pods = new Map()));
    pods.set(key, pod);
  }

  deleteNominatedPodIfExists(pod: Pod): void {
    const key = podKey(pod);
    const node = this.nominatedByPod.get(key);
    if (node === undefined) return;
    this.nominatedByPod.delete(key);
    const pods = this.nominatedByNode.get(node);
    pods?.delete(key);
    if (pods?.size === 0) this.nominatedByNode.delete(node);
  }

  nominatedPodsForNode(nodeName: string): Pod[] {
    return [...(this.nominatedByNode.get(nodeName)?.values() ?? [])];
  }

  nominatedNodeName(pod: Pod): string | undefined {
    return this.nominatedByPod.get(podKey(pod));
  }

  /** A pod's status.nominatedNodeName is the source of truth once the apiserver has it. */
  private refreshNomination(pod: Pod): void {
    const nn = pod.status?.nominatedNodeName;
    if (nn) this.addNominatedPod(pod, nn);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.wake();
  }
}
