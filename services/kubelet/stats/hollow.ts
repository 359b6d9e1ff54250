/**
 * Resource readings of hollow nodes, where nothing runs: each container "uses" what its
 * pod asks for, varied so that graphs and `kubectl top` move as on a real cluster.
 *
 * The variation (documented in docs/monitoring.md, "Resource metrics"):
 *  - CPU: a container's rate is its cpu request (1m without one) times
 *    1 + 0.2·sin(2π·t/300 s + φ), φ drawn from the pod's uid and the container's name;
 *    its cumulative CPU is the exact integral of that rate since the container started.
 *  - memory: its memory request (4 MiB without one) times 0.9 + 0.1·sin(2π·t/300 s + φ).
 *  - a node adds 100m CPU and 256 MiB for its system to the sum of its pods; its
 *    cumulative CPU grows by that rate between readings, so it never goes back when pods go.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../../lib/api/quantity.js';
import type { NodeSample, PodSample } from '../../../lib/stats/mod.js';
import type { ActivePod } from '../pods.js';
import type { ContainerRuntime } from '../runtime.js';

const PERIOD_S = 300;
const OMEGA = (2 * Math.PI) / PERIOD_S;
const CPU_SWING = 0.2;
const DEFAULT_CPU_CORES = 0.001;
const DEFAULT_MEMORY_BYTES = 4 * 1024 * 1024;
export const HOLLOW_SYSTEM_CPU_CORES = 0.1;
export const HOLLOW_SYSTEM_MEMORY_BYTES = 256 * 1024 * 1024;

interface Requests {
  /** per app container: [name, cpu cores, memory bytes, phase] */
  containers: Map<string, [number, number, number]>;
}

function phaseOf(key: string): number {
  // FNV-1a: a stable phase per container, cheap enough for 100,000 pods
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return ((h >>> 0) / 0x1_0000_0000) * 2 * Math.PI;
}

function quantity(v: unknown, fallback: number, milli: boolean): number {
  if (v === undefined || v === null || v === '') return fallback;
  try {
    const q = parseQuantity(String(v));
    return milli ? Number(q.milliValue()) / 1000 : Number(q.value());
  } catch {
    return fallback;
  }
}

/** Cumulative core-seconds from `start` to `t` (seconds) at rate cores·(1 + A·sin(ωt + φ)). */
export function hollowCpuSeconds(cores: number, phase: number, startS: number, tS: number): number {
  if (tS <= startS) return 0;
  return cores * (tS - startS - (CPU_SWING / OMEGA) * (Math.cos(OMEGA * tS + phase) - Math.cos(OMEGA * startS + phase)));
}

export function hollowMemoryBytes(bytes: number, phase: number, tS: number): number {
  return Math.round(bytes * (0.9 + 0.1 * Math.sin(OMEGA * tS + phase)));
}

export class HollowStats {
  /** parsed requests, per pod object (a new object after an update parses again) */
  private readonly requests = new WeakMap<Pod, Requests>();
  private readonly nodes = new Map<string, { cpu: number; at: number; rate: number }>();
  private readonly startTime = Date.now();

  constructor(private readonly runtime: ContainerRuntime) {}

  private requestsOf(p: ActivePod): Requests {
    let r = this.requests.get(p.pod);
    if (r) return r;
    r = { containers: new Map() };
    for (const c of p.pod.spec?.containers ?? []) {
      const req = c.resources?.requests ?? {};
      r.containers.set(c.name, [quantity(req.cpu, DEFAULT_CPU_CORES, true), quantity(req.memory, DEFAULT_MEMORY_BYTES, false), phaseOf(`${p.uid}/${c.name}`)]);
    }
    this.requests.set(p.pod, r);
    return r;
  }

  /** The readings of every node in `nodeNames` with the pods running on them, at `now` (ms). */
  read(nodeNames: Iterable<string>, pods: Iterable<ActivePod>, now = Date.now()): NodeSample[] {
    const tS = now / 1000;
    const byNode = new Map<string, NodeSample>();
    const rates = new Map<string, number>();
    for (const name of nodeNames) {
      byNode.set(name, { node: name, timestamp: now, startTime: this.startTime, cpu: 0, memory: HOLLOW_SYSTEM_MEMORY_BYTES, pods: [] });
      rates.set(name, HOLLOW_SYSTEM_CPU_CORES);
    }
    for (const p of pods) {
      const node = byNode.get(p.nodeName);
      if (!node) continue;
      const req = this.requestsOf(p);
      const sample: PodSample = { namespace: p.namespace, name: p.name, uid: p.uid, timestamp: now, cpu: 0, memory: 0, containers: [] };
      let rate = 0;
      for (const c of p.containers) {
        const st = this.runtime.containerStatus(c.id);
        if (!st || st.state !== 'CONTAINER_RUNNING') continue;
        const r = req.containers.get(c.name);
        if (!r) continue;
        const [cores, bytes, phase] = r;
        const cpu = hollowCpuSeconds(cores, phase, st.startedAt / 1000, tS);
        const memory = hollowMemoryBytes(bytes, phase, tS);
        sample.containers.push({ name: c.name, startTime: st.startedAt, cpu, memory });
        sample.cpu += cpu;
        sample.memory += memory;
        rate += cores * (1 + CPU_SWING * Math.sin(OMEGA * tS + phase));
      }
      if (!sample.containers.length) continue;
      node.pods.push(sample);
      node.memory += sample.memory;
      rates.set(p.nodeName, rates.get(p.nodeName)! + rate);
    }
    for (const [name, node] of byNode) {
      const rate = rates.get(name)!;
      let acc = this.nodes.get(name);
      if (!acc) this.nodes.set(name, (acc = { cpu: rate * ((now - this.startTime) / 1000), at: now, rate }));
      else if (now > acc.at) {
        // the trapezoid between the last reading's rate and this one's
        acc.cpu += ((acc.rate + rate) / 2) * ((now - acc.at) / 1000);
        acc.at = now;
        acc.rate = rate;
      }
      node.cpu = acc.cpu;
    }
    for (const name of this.nodes.keys()) if (!byNode.has(name)) this.nodes.delete(name);
    return [...byNode.values()];
  }
}
