/**
 * Which pods exist and which are scheduled, per namespace, from one pod watch over all
 * namespaces: a pod counts as scheduled once it carries spec.nodeName, and as attempted
 * once it is scheduled or the scheduler marked it PodScheduled=False. Only a small state
 * per pod is kept (never the objects), so a million pods fit. A broken watch is re-listed
 * and resumed.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type ApiClient, Resources, type WatchEvent } from '../../lib/client/mod.js';

const PENDING = 0;
const UNSCHEDULABLE = 1;
const SCHEDULED = 2;
type PodState = typeof PENDING | typeof UNSCHEDULABLE | typeof SCHEDULED;

export interface NamespaceCounts {
  total: number;
  scheduled: number;
  /** scheduled or found unschedulable */
  attempted: number;
}

function stateOf(pod: Pod): PodState {
  if (pod.spec?.nodeName) return SCHEDULED;
  if (pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')) return UNSCHEDULABLE;
  return PENDING;
}

export class PodTracker {
  private readonly pods = new Map<string, Map<string, PodState>>();
  private readonly counts = new Map<string, NamespaceCounts>();
  private stopped = false;
  private loop?: Promise<void>;
  /** every pod that became scheduled while tracked (the progress line's rate) */
  scheduledTotal = 0;
  /** re-lists after a broken watch (reported, since each costs a full list) */
  relists = 0;
  lastError?: string;

  constructor(private readonly client: ApiClient) {}

  /** Lists, then follows the watch until stop(); resolves once the first list is in. */
  async start(): Promise<void> {
    const rv = await this.relist();
    this.loop = this.follow(rv);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    await this.loop?.catch(() => undefined);
  }

  private counter(ns: string): NamespaceCounts {
    let c = this.counts.get(ns);
    if (!c) this.counts.set(ns, (c = { total: 0, scheduled: 0, attempted: 0 }));
    return c;
  }

  /** Counts in one namespace (zeros for one never seen). */
  countsIn(ns: string): NamespaceCounts {
    return { ...(this.counts.get(ns) ?? { total: 0, scheduled: 0, attempted: 0 }) };
  }

  /** Counts summed over namespaces. */
  countsOver(namespaces: Iterable<string>): NamespaceCounts {
    const sum = { total: 0, scheduled: 0, attempted: 0 };
    for (const ns of namespaces) {
      const c = this.counts.get(ns);
      if (!c) continue;
      sum.total += c.total;
      sum.scheduled += c.scheduled;
      sum.attempted += c.attempted;
    }
    return sum;
  }

  private current?: ReturnType<ApiClient['watch']>;

  private set(ns: string, name: string, next: PodState | undefined): void {
    let byName = this.pods.get(ns);
    if (!byName) this.pods.set(ns, (byName = new Map()));
    const prev = byName.get(name);
    if (prev === next) return;
    const c = this.counter(ns);
    if (prev !== undefined) {
      c.total--;
      if (prev === SCHEDULED) c.scheduled--;
      if (prev !== PENDING) c.attempted--;
    }
    if (next === undefined) byName.delete(name);
    else {
      byName.set(name, next);
      c.total++;
      if (next === SCHEDULED) {
        c.scheduled++;
        this.scheduledTotal++;
      }
      if (next !== PENDING) c.attempted++;
    }
  }

  private apply(ev: WatchEvent<Pod>): void {
    const ns = ev.object?.metadata?.namespace ?? '';
    const name = ev.object?.metadata?.name ?? '';
    if (ev.type === 'DELETED') this.set(ns, name, undefined);
    else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
      // a bound pod stays bound: later updates (status, deletion) must not un-count it
      const prev = this.pods.get(ns)?.get(name);
      this.set(ns, name, prev === SCHEDULED ? SCHEDULED : stateOf(ev.object));
    }
  }

  /** Replaces the state with a fresh paged list; returns its resourceVersion. */
  private async relist(): Promise<string> {
    const seen = new Map<string, Map<string, PodState>>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list<Pod>(Resources.pods, { limit: 500, continue: cont });
      for (const p of page.items) {
        const ns = p.metadata?.namespace ?? '';
        let m = seen.get(ns);
        if (!m) seen.set(ns, (m = new Map()));
        m.set(p.metadata?.name ?? '', stateOf(p));
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont);
    for (const [ns, byName] of this.pods) for (const name of [...byName.keys()]) if (!seen.get(ns)?.has(name)) this.set(ns, name, undefined);
    for (const [ns, byName] of seen) for (const [name, st] of byName) this.set(ns, name, this.pods.get(ns)?.get(name) === SCHEDULED ? SCHEDULED : st);
    return rv;
  }

  private async follow(rv: string): Promise<void> {
    while (!this.stopped) {
      try {
        const w = this.client.watch<Pod>(Resources.pods, { resourceVersion: rv, allowWatchBookmarks: true }, { omitManagedFields: true });
        this.current = w;
        for await (const ev of w) {
          if (ev.type === 'ERROR') throw new Error(`watch error: ${JSON.stringify(ev.object)}`);
          const erv = ev.object?.metadata?.resourceVersion;
          if (erv) rv = erv;
          if (ev.type !== 'BOOKMARK') this.apply(ev);
        }
        if (this.stopped) return;
      } catch (e) {
        if (this.stopped) return;
        this.lastError = (e as Error).message;
      }
      // the stream ended or broke: start over from a fresh list so no change is missed
      this.relists++;
      try {
        rv = await this.relist();
      } catch (e) {
        this.lastError = (e as Error).message;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
