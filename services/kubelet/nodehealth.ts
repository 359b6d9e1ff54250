/**
 * The real node's conditions and allocatable from readings of the machine, as upstream's
 * kubelet sets them (pkg/kubelet/nodestatus and the eviction manager's signals):
 *   - MemoryPressure when memory.available (MemAvailable of /proc/meminfo) is under its
 *     hard eviction threshold (upstream default 100Mi);
 *   - DiskPressure when nodefs.available (free space of the root-dir's filesystem) is
 *     under its threshold (default 10%);
 *   - PIDPressure when pid.available (pid_max minus the tasks of /proc/loadavg) is under
 *     its threshold (upstream sets none by default; Flotilla's default is 10%);
 *   - Ready with upstream's KubeletReady / "kubelet is posting ready status", or False
 *     with KubeletNotReady and what is not ready (the runtime, its network).
 * lastTransitionTime moves only when a condition's status changes.
 * allocatable = capacity - system-reserved - kube-reserved - the hard eviction
 * threshold (memory: memory.available; ephemeral-storage: nodefs.available).
 */
import { readFile, statfs } from 'node:fs/promises';
import type { NodeCondition } from 'kubernetes-types/core/v1.js';
import { newMilliQuantity, newQuantity, parseQuantity } from '../../lib/api/quantity.js';
import { metaTime } from '../../lib/api/time.js';

export class NodeHealthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeHealthConfigError';
  }
}

/** What the machine says now. */
export interface NodeReadings {
  memoryAvailableBytes: number;
  memoryCapacityBytes: number;
  nodefsAvailableBytes: number;
  nodefsCapacityBytes: number;
  pidMax: number;
  /** tasks (processes and threads) the kernel has now */
  processes: number;
}

/**
 * The readings of this machine; rootDir's filesystem is the nodefs. Asynchronous: the
 * node-status loop takes them every 10 s on the kubelet's event loop.
 */
export async function readNodeReadings(rootDir: string): Promise<NodeReadings> {
  const [meminfo, fs, loadavg, pidMax] = await Promise.all([readFile('/proc/meminfo', 'utf8'), statfs(rootDir), readFile('/proc/loadavg', 'utf8'), readFile('/proc/sys/kernel/pid_max', 'utf8')]);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? NaN) * 1024;
  // /proc/loadavg: "0.10 0.20 0.30 2/345 6789": 345 scheduling entities exist
  const tasks = Number(/\s\d+\/(\d+)\s/.exec(loadavg)?.[1] ?? NaN);
  return {
    memoryAvailableBytes: kb('MemAvailable'),
    memoryCapacityBytes: kb('MemTotal'),
    nodefsAvailableBytes: fs.bavail * fs.bsize,
    nodefsCapacityBytes: fs.blocks * fs.bsize,
    pidMax: Number(pidMax.trim()),
    processes: tasks,
  };
}

/** The eviction signals the kubelet acts on here. */
export type EvictionSignal = 'memory.available' | 'nodefs.available' | 'pid.available';
const KNOWN_SIGNALS: readonly string[] = ['memory.available', 'nodefs.available', 'pid.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree'];

/** A hard threshold: a quantity (bytes, pids) or a percentage of capacity. */
export interface Threshold {
  quantity?: number;
  percentage?: number;
}

/** upstream's --eviction-hard default, and pid.available<10% (upstream has none) */
export const DEFAULT_EVICTION_HARD = 'memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%,pid.available<10%';

/** "memory.available<100Mi,nodefs.available<10%" → thresholds per signal (upstream --eviction-hard). */
export function parseEvictionHard(spec: string): Map<string, Threshold> {
  const out = new Map<string, Threshold>();
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z.A-Z]+)<(.+)$/.exec(item);
    if (!m) throw new NodeHealthConfigError(`--eviction-hard: "${item}" is not signal<quantity or signal<percent%`);
    const [, signal, value] = m as unknown as [string, string, string];
    if (!KNOWN_SIGNALS.includes(signal)) throw new NodeHealthConfigError(`--eviction-hard: unknown signal "${signal}" (known: ${KNOWN_SIGNALS.join(', ')})`);
    if (value.endsWith('%')) {
      const pct = Number(value.slice(0, -1));
      if (!(pct >= 0 && pct <= 100)) throw new NodeHealthConfigError(`--eviction-hard: ${signal}: "${value}" is not a percentage`);
      out.set(signal, { percentage: pct });
    } else {
      let q: bigint;
      try {
        q = parseQuantity(value).value();
      } catch {
        throw new NodeHealthConfigError(`--eviction-hard: ${signal}: "${value}" is not a quantity`);
      }
      if (q < 0n) throw new NodeHealthConfigError(`--eviction-hard: ${signal}: "${value}" is negative`);
      out.set(signal, { quantity: Number(q) });
    }
  }
  return out;
}

/** The threshold in the signal's unit, against a capacity (0 when unset). */
export function thresholdValue(t: Threshold | undefined, capacity: number): number {
  if (!t) return 0;
  return t.quantity ?? Math.ceil((capacity * (t.percentage ?? 0)) / 100);
}

/** "cpu=500m,memory=1Gi,ephemeral-storage=1Gi" (upstream --system-reserved / --kube-reserved). */
export function parseReserved(flag: string, spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = item.split('=', 2);
    if (!name || value === undefined || !['cpu', 'memory', 'ephemeral-storage', 'pid'].includes(name))
      throw new NodeHealthConfigError(`${flag}: "${item}" is not cpu=, memory=, ephemeral-storage= or pid=<quantity>`);
    try {
      if (parseQuantity(value).sign() < 0) throw new Error('negative');
    } catch {
      throw new NodeHealthConfigError(`${flag}: ${name}: "${value}" is not a non-negative quantity`);
    }
    out[name] = value;
  }
  return out;
}

/**
 * upstream's node allocatable: capacity minus both reservations and, for memory and
 * ephemeral-storage, the hard eviction threshold; never below zero.
 */
export function nodeAllocatable(capacity: Record<string, string>, systemReserved: Record<string, string>, kubeReserved: Record<string, string>, evictionHard: Map<string, Threshold>): Record<string, string> {
  const out: Record<string, string> = { ...capacity };
  const reserved = (name: string, milli: boolean) =>
    [systemReserved[name], kubeReserved[name]].reduce((sum, v) => sum + (v === undefined ? 0n : milli ? parseQuantity(v).milliValue() : parseQuantity(v).value()), 0n);
  if (capacity.cpu !== undefined) {
    const m = parseQuantity(capacity.cpu).milliValue() - reserved('cpu', true);
    out.cpu = newMilliQuantity(m > 0n ? m : 0n).toString();
  }
  for (const [name, signal] of [['memory', 'memory.available'], ['ephemeral-storage', 'nodefs.available']] as const) {
    if (capacity[name] === undefined) continue;
    const cap = parseQuantity(capacity[name]).value();
    const b = cap - reserved(name, false) - BigInt(thresholdValue(evictionHard.get(signal), Number(cap)));
    out[name] = newQuantity(b > 0n ? b : 0n, 'BinarySI').toString();
  }
  return out;
}

interface ConditionState {
  status: 'True' | 'False';
  reason: string;
  message: string;
  since: string;
}

/** upstream's reasons and messages, per condition: [when False, when True] */
const PRESSURE: ReadonlyArray<readonly [string, EvictionSignal, readonly [string, string], readonly [string, string]]> = [
  ['MemoryPressure', 'memory.available', ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'], ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available']],
  ['DiskPressure', 'nodefs.available', ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'], ['KubeletHasDiskPressure', 'kubelet has disk pressure']],
  ['PIDPressure', 'pid.available', ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'], ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available']],
];

export interface NodeHealthOptions {
  read: () => NodeReadings | Promise<NodeReadings>;
  evictionHard?: Map<string, Threshold>;
  /** undefined when the container runtime and its network are ready, else why not */
  runtimeNotReady?: () => Promise<string | undefined>;
  now?: () => string;
}

/** The four conditions of one real node, re-evaluated on refresh(). */
export class NodeHealth {
  private readonly states = new Map<string, ConditionState>();
  private readonly evictionHard: Map<string, Threshold>;
  private readonly now: () => string;

  constructor(private readonly opts: NodeHealthOptions) {
    this.evictionHard = opts.evictionHard ?? parseEvictionHard(DEFAULT_EVICTION_HARD);
    this.now = opts.now ?? metaTime;
  }

  /** Reads the machine and the runtime again; answers whether a condition's status or reason changed. */
  async refresh(): Promise<boolean> {
    const r = await this.opts.read();
    const under = (signal: EvictionSignal, available: number, capacity: number) => {
      const t = this.evictionHard.get(signal);
      return t !== undefined && Number.isFinite(available) && available < thresholdValue(t, capacity);
    };
    const pressure: Record<EvictionSignal, boolean> = {
      'memory.available': under('memory.available', r.memoryAvailableBytes, r.memoryCapacityBytes),
      'nodefs.available': under('nodefs.available', r.nodefsAvailableBytes, r.nodefsCapacityBytes),
      'pid.available': under('pid.available', r.pidMax - r.processes, r.pidMax),
    };
    let changed = false;
    for (const [type, signal, ok, bad] of PRESSURE) {
      const [reason, message] = pressure[signal] ? bad : ok;
      changed = this.set(type, pressure[signal] ? 'True' : 'False', reason, message) || changed;
    }
    const notReady = await this.opts.runtimeNotReady?.();
    changed = (notReady === undefined ? this.set('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status') : this.set('Ready', 'False', 'KubeletNotReady', notReady)) || changed;
    return changed;
  }

  private set(type: string, status: 'True' | 'False', reason: string, message: string): boolean {
    const cur = this.states.get(type);
    if (cur && cur.status === status && cur.reason === reason && cur.message === message) return false;
    this.states.set(type, { status, reason, message, since: cur && cur.status === status ? cur.since : this.now() });
    return true;
  }

  /** The conditions as the Node's status carries them (after the first refresh). */
  conditions(heartbeat: string): NodeCondition[] {
    return ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'].flatMap((type) => {
      const s = this.states.get(type);
      return s ? [{ type, status: s.status, lastHeartbeatTime: heartbeat, lastTransitionTime: s.since, reason: s.reason, message: s.message }] : [];
    });
  }

  /** Whether the API's conditions say what this node says (status and reason of each). */
  matches(conditions: NodeCondition[] | undefined): boolean {
    for (const [type, s] of this.states) {
      const c = conditions?.find((x) => x.type === type);
      if (c?.status !== s.status || c.reason !== s.reason) return false;
    }
    return true;
  }
}
