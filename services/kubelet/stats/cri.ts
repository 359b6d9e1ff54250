/**
 * Resource readings of the real node: containers from CRI's ListContainerStats (cumulative
 * CPU and working set, as upstream's CRI stats provider), the node from the root cgroup
 * (cgroups v1: cpuacct.usage, and memory usage less inactive file pages, as cAdvisor's
 * working set), and what /metrics/cadvisor adds from each container's own cgroup
 * (with no cgroup parent set, containerd puts it at k8s.io/<container id> under each
 * hierarchy, its namespace's name as the parent): rss and cache, CFS periods and
 * throttling, block I/O bytes, and the pod's network counters from its sandbox's network
 * namespace.
 */
import { readFile } from 'node:fs/promises';
import type { NodeSample, PodSample } from '../../../lib/stats/mod.js';
import type { CriClient } from '../cri/client.js';
import { nsToMs } from '../cri/client.js';
import type { ActivePod } from '../pods.js';
import type { ContainerRuntime } from '../runtime.js';
import type { ContainerExtras, PodExtras } from './extras.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** where containerd's cgroupfs driver puts a container without a cgroup parent: under its namespace, else at the top */
const CONTAINER_CGROUP_PARENTS = ['k8s.io/', ''];

/** The first of the container's candidate cgroup files that exists. */
async function readContainerCgroup(controller: string, id: string, file: string): Promise<string | undefined> {
  for (const parent of CONTAINER_CGROUP_PARENTS) {
    const text = await readText(`${CGROUP_ROOT}/${controller}/${parent}${id}/${file}`);
    if (text !== undefined) return text;
  }
  return undefined;
}

async function readText(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat) as numbers. */
function keyValues(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

/** A cgroup's working set as cAdvisor computes it: usage less inactive file pages (never below 0). */
function workingSet(usage: number, stat: Map<string, number>): number {
  return Math.max(0, usage - (stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0));
}

/** The whole machine from the root cgroups. */
export async function readNodeCgroup(): Promise<{ cpu: number; memory: number }> {
  const [usage, memUsage, memStat] = await Promise.all([
    readText(`${CGROUP_ROOT}/cpuacct/cpuacct.usage`),
    readText(`${CGROUP_ROOT}/memory/memory.usage_in_bytes`),
    readText(`${CGROUP_ROOT}/memory/memory.stat`),
  ]);
  return { cpu: Number(usage ?? 0) / 1e9, memory: workingSet(Number(memUsage ?? 0), keyValues(memStat)) };
}

/** /metrics/cadvisor's extra container readings from the container's cgroups (zeros where absent). */
export async function readContainerExtras(containerId: string): Promise<ContainerExtras> {
  const [memStat, cpuStat, blkio] = await Promise.all([
    readContainerCgroup('memory', containerId, 'memory.stat'),
    readContainerCgroup('cpu', containerId, 'cpu.stat'),
    readContainerCgroup('blkio', containerId, 'blkio.throttle.io_service_bytes'),
  ]);
  const mem = keyValues(memStat);
  const cpu = keyValues(cpuStat);
  let fsRead = 0;
  let fsWrite = 0;
  for (const line of (blkio ?? '').split('\n')) {
    const [dev, op, v] = line.split(' ');
    if (!dev || dev === 'Total' || v === undefined) continue;
    if (op === 'Read') fsRead += Number(v);
    else if (op === 'Write') fsWrite += Number(v);
  }
  return {
    rss: mem.get('total_rss') ?? mem.get('rss') ?? 0,
    cache: mem.get('total_cache') ?? mem.get('cache') ?? 0,
    cfsPeriods: cpu.get('nr_periods') ?? 0,
    cfsThrottledPeriods: cpu.get('nr_throttled') ?? 0,
    fsReadBytes: fsRead,
    fsWriteBytes: fsWrite,
  };
}

/** A pod's network counters: its sandbox's first process's /proc/<pid>/net/dev, every interface but lo. */
export async function readPodNetwork(sandboxId: string): Promise<PodExtras> {
  const procs = await readContainerCgroup('memory', sandboxId, 'cgroup.procs');
  const pid = procs?.split('\n').find((l) => l.trim());
  const dev = pid ? await readText(`/proc/${pid.trim()}/net/dev`) : undefined;
  let rx = 0;
  let tx = 0;
  for (const line of (dev ?? '').split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0];
    tx += f[8];
  }
  return { networkReceiveBytes: rx, networkTransmitBytes: tx };
}

export class CriStats {
  private readonly startTime = Date.now();

  constructor(
    private readonly client: CriClient,
    private readonly runtime: ContainerRuntime,
  ) {}

  /** The real node's readings: its pods' containers from CRI, the node from the root cgroups. */
  async read(nodeName: string, pods: Iterable<ActivePod>): Promise<NodeSample> {
    const [stats, node] = await Promise.all([this.client.listContainerStats(), readNodeCgroup()]);
    const byId = new Map(stats.map((s) => [s.attributes.id, s]));
    const now = Date.now();
    const sample: NodeSample = { node: nodeName, timestamp: now, startTime: this.startTime, cpu: node.cpu, memory: node.memory, pods: [] };
    for (const p of pods) {
      const ps: PodSample = { namespace: p.namespace, name: p.name, uid: p.uid, timestamp: 0, cpu: 0, memory: 0, containers: [] };
      for (const c of p.containers) {
        const s = byId.get(c.id);
        const st = this.runtime.containerStatus(c.id);
        if (!s?.cpu?.usageCoreNanoSeconds || !st || st.state !== 'CONTAINER_RUNNING') continue;
        const cpu = Number(s.cpu.usageCoreNanoSeconds.value) / 1e9;
        const memory = Number(s.memory?.workingSetBytes?.value ?? 0);
        ps.containers.push({ name: c.name, startTime: st.startedAt, cpu, memory });
        ps.cpu += cpu;
        ps.memory += memory;
        ps.timestamp = Math.max(ps.timestamp, nsToMs(s.cpu.timestamp) || now);
      }
      if (ps.containers.length) sample.pods.push(ps);
    }
    return sample;
  }
}
