/**
 * The overview's counts: nodes Ready and NotReady, pods by phase. Kept from the node and
 * pod informers' events (never recounted), and sent to the browser at most a few times a
 * second whatever the churn.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { deletedObject, metaNamespaceKey, type KubeObject } from '../../lib/client/mod.js';
import { nodeReady } from './columns.js';
import type { ResourceTable } from './tables.js';

export interface Summary {
  nodes: { Ready: number; NotReady: number; SchedulingDisabled: number };
  pods: Record<string, number>;
  synced: boolean;
}

type Listener = (s: Summary) => void;

/** A count per state, from each object's last known state. */
class Tally<T> {
  private readonly state = new Map<string, string[]>();
  readonly counts = new Map<string, number>();
  constructor(private readonly classify: (o: T) => string[]) {}

  put(key: string, o: T | undefined): void {
    for (const s of this.state.get(key) ?? []) this.counts.set(s, (this.counts.get(s) ?? 0) - 1);
    if (!o) {
      this.state.delete(key);
      return;
    }
    const now = this.classify(o);
    this.state.set(key, now);
    for (const s of now) this.counts.set(s, (this.counts.get(s) ?? 0) + 1);
  }
}

export class Overview {
  private readonly nodes = new Tally<Node>((n) => [nodeReady(n) ? 'Ready' : 'NotReady', ...(n.spec?.unschedulable ? ['SchedulingDisabled'] : [])]);
  private readonly pods = new Tally<Pod>((p) => [p.status?.phase ?? 'Pending']);
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private readonly removers: Array<{ remove(): void }> = [];

  constructor(
    private readonly nodeTable: ResourceTable,
    private readonly podTable: ResourceTable,
  ) {
    const follow = <T>(t: ResourceTable, tally: Tally<T>) =>
      t.informer.addEventHandler({
        onAdd: (o) => (tally.put(metaNamespaceKey(o), o as T), this.changed()),
        onUpdate: (_, o) => (tally.put(metaNamespaceKey(o), o as T), this.changed()),
        onDelete: (o) => (tally.put(metaNamespaceKey(deletedObject(o) as KubeObject), undefined), this.changed()),
      });
    this.removers.push(follow(nodeTable, this.nodes), follow(podTable, this.pods));
    for (const t of [nodeTable, podTable]) void t.informer.waitForSync().then(() => this.changed(), () => undefined);
  }

  summary(): Summary {
    const n = (k: string) => this.nodes.counts.get(k) ?? 0;
    const pods: Record<string, number> = {};
    for (const phase of ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']) pods[phase] = 0;
    for (const [phase, count] of this.pods.counts) if (count > 0) pods[phase] = count;
    return { nodes: { Ready: n('Ready'), NotReady: n('NotReady'), SchedulingDisabled: n('SchedulingDisabled') }, pods, synced: this.nodeTable.hasSynced() && this.podTable.hasSynced() };
  }

  /** Calls l with the summary now and after changes (at most every 250 ms); returns the unsubscribe. */
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    l(this.summary());
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    if (this.timer || this.listeners.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const s = this.summary();
      for (const l of this.listeners) l(s);
    }, 250);
  }

  close(): void {
    for (const r of this.removers) r.remove();
    if (this.timer) clearTimeout(this.timer);
  }
}
