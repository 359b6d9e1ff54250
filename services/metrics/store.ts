/**
 * The metrics service's storage, as metrics-server's: the last two readings of every node
 * and container, from which the CPU rate is computed (usage = Δ cumulative CPU / Δ time
 * between the two); memory is the last working set. A container that started after the
 * previous scrape counts from its start time (cumulative 0 then), as metrics-server
 * does, so a new pod has metrics after one scrape. A container whose cumulative CPU went
 * down (it restarted) has none until the next scrape.
 *
 * Entries are updated in place; only numbers and the names are kept (no objects per
 * reading), which is what keeps it small at 100,000 pods.
 */
import type { NodeSample, PodSample } from '../../lib/stats/mod.js';

export interface Usage {
  /** ms since the epoch of the later reading */
  timestamp: number;
  /** ms between the two readings */
  windowMs: number;
  /** nanocores */
  cpu: number;
  /** bytes */
  memory: number;
}

interface Point {
  node: string;
  ts: number;
  cpu: number;
  memory: number;
  prevTs: number;
  prevCpu: number;
  startTime: number;
  /** the scrape that last updated it */
  cycle: number;
}

interface ContainerPoint {
  name: string;
  startTime: number;
  cpu: number;
  memory: number;
  prevCpu: number;
  /** 0 when the container has no earlier reading */
  prevTs: number;
}

interface PodEntry {
  namespace: string;
  name: string;
  node: string;
  ts: number;
  containers: ContainerPoint[];
  cycle: number;
}

export class MetricsStore {
  private readonly nodes = new Map<string, Point>();
  /** namespace → pod name → entry */
  private readonly pods = new Map<string, Map<string, PodEntry>>();
  private cycle = 0;
  /** when the previous scrape started (a container started after it counts from its start) */
  private previousScrape = 0;
  private podCount = 0;

  /** Starts a scrape cycle: readings stored until `endCycle` belong to it. */
  beginCycle(scrapeStart: number): void {
    this.cycle++;
    this.pendingStart = scrapeStart;
  }

  private pendingStart = 0;

  /** Stores one node's readings (and its pods'). */
  store(n: NodeSample): void {
    const since = this.previousScrape;
    let node = this.nodes.get(n.node);
    if (!node) {
      node = { node: n.node, ts: n.timestamp, cpu: n.cpu, memory: n.memory, prevTs: 0, prevCpu: 0, startTime: n.startTime, cycle: this.cycle };
      // a node whose kubelet started after the previous scrape counts from its start
      if (since && n.startTime > since) {
        node.prevTs = n.startTime;
        node.prevCpu = 0;
      }
      this.nodes.set(n.node, node);
    } else if (n.timestamp > node.ts) {
      node.prevTs = node.cpu <= n.cpu ? node.ts : 0;
      node.prevCpu = node.cpu;
      node.ts = n.timestamp;
      node.cpu = n.cpu;
      node.memory = n.memory;
      node.startTime = n.startTime;
    }
    node.cycle = this.cycle;
    for (const p of n.pods) this.storePod(n.node, p, since);
  }

  private storePod(node: string, p: PodSample, since: number): void {
    let ns = this.pods.get(p.namespace);
    if (!ns) this.pods.set(p.namespace, (ns = new Map()));
    let e = ns.get(p.name);
    if (!e) {
      ns.set(p.name, (e = { namespace: p.namespace, name: p.name, node, ts: 0, containers: [], cycle: this.cycle }));
      this.podCount++;
    }
    e.cycle = this.cycle;
    e.node = node;
    if (p.timestamp <= e.ts) return;
    const old = e.containers;
    e.containers = p.containers.map((c) => {
      const prev = old.find((o) => o.name === c.name && o.startTime === c.startTime);
      if (prev && prev.cpu <= c.cpu) return { name: c.name, startTime: c.startTime, cpu: c.cpu, memory: c.memory, prevCpu: prev.cpu, prevTs: e!.ts };
      // new since the previous scrape: from its start; otherwise (restarted, or first seen) no rate yet
      const fresh = since > 0 && c.startTime > since && c.startTime < p.timestamp;
      return { name: c.name, startTime: c.startTime, cpu: c.cpu, memory: c.memory, prevCpu: 0, prevTs: fresh ? c.startTime : 0 };
    });
    e.ts = p.timestamp;
  }

  /**
   * Ends the cycle: entries of nodes that answered but no longer carry them go, and so
   * does anything not refreshed for `staleCycles` scrapes (its kubelet stopped answering).
   */
  endCycle(answered: Set<string>, staleCycles = 3): void {
    for (const [name, n] of this.nodes) if (n.cycle !== this.cycle && (answered.has(name) || this.cycle - n.cycle >= staleCycles)) this.nodes.delete(name);
    for (const [nsName, ns] of this.pods) {
      for (const [name, e] of ns) {
        if (e.cycle === this.cycle) continue;
        if (answered.has(e.node) || !this.nodes.has(e.node) || this.cycle - e.cycle >= staleCycles) {
          ns.delete(name);
          this.podCount--;
        }
      }
      if (!ns.size) this.pods.delete(nsName);
    }
    this.previousScrape = this.pendingStart;
  }

  get counts(): { nodes: number; pods: number } {
    return { nodes: this.nodes.size, pods: this.podCount };
  }

  nodeUsage(name: string): Usage | undefined {
    const n = this.nodes.get(name);
    if (!n || !n.prevTs || n.ts <= n.prevTs) return undefined;
    return { timestamp: n.ts, windowMs: n.ts - n.prevTs, cpu: Math.round(((n.cpu - n.prevCpu) / ((n.ts - n.prevTs) / 1000)) * 1e9), memory: n.memory };
  }

  nodeNames(): IterableIterator<string> {
    return this.nodes.keys();
  }

  /** A pod's containers' usage; undefined unless every container has a rate (as metrics-server). */
  podUsage(namespace: string, name: string): { timestamp: number; windowMs: number; containers: Array<{ name: string; cpu: number; memory: number }> } | undefined {
    const e = this.pods.get(namespace)?.get(name);
    if (!e || !e.containers.length) return undefined;
    let window = 0;
    const containers: Array<{ name: string; cpu: number; memory: number }> = [];
    for (const c of e.containers) {
      if (!c.prevTs || e.ts <= c.prevTs) return undefined;
      window = Math.max(window, e.ts - c.prevTs);
      containers.push({ name: c.name, cpu: Math.round(((c.cpu - c.prevCpu) / ((e.ts - c.prevTs) / 1000)) * 1e9), memory: c.memory });
    }
    return { timestamp: e.ts, windowMs: window, containers };
  }

  /** Pod names by namespace (every namespace when none is given). */
  *podKeys(namespace?: string): Generator<[string, string]> {
    if (namespace !== undefined) {
      for (const name of this.pods.get(namespace)?.keys() ?? []) yield [namespace, name];
      return;
    }
    for (const [ns, m] of this.pods) for (const name of m.keys()) yield [ns, name];
  }
}
