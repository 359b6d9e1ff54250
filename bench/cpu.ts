/**
 * CPU time spent by the processes under test, per phase. On a small shared machine the
 * rates swing with whatever else runs; CPU time per operation does much less, so it is
 * the steadier figure for comparing one build with the next.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports times in these ticks, 100 on every common build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU ms of a process so far, from /proc; null where that is unavailable. */
export function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces; fields after its ")" are plain
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export interface CpuSample {
  [who: string]: number | null;
}

/** CPU ms of each named process now. */
export function sampleCpu(pids: Record<string, number | undefined>): CpuSample {
  const out: CpuSample = {};
  for (const [who, pid] of Object.entries(pids)) out[who] = processCpuMs(pid);
  return out;
}

/**
 * Read and write system calls of a process so far (/proc/<pid>/io syscr, syscw); null
 * where unavailable. Every socket read or write is one, so their count per operation
 * shows how well a process coalesces its messages.
 */
export function processSyscalls(pid: number | undefined): { reads: number; writes: number } | null {
  if (pid === undefined) return null;
  try {
    const io = readFileSync(pid === process.pid ? '/proc/self/io' : `/proc/${pid}/io`, 'utf8');
    const reads = /^syscr: (\d+)$/m.exec(io);
    const writes = /^syscw: (\d+)$/m.exec(io);
    return reads && writes ? { reads: Number(reads[1]), writes: Number(writes[1]) } : null;
  } catch {
    return null;
  }
}

export interface SyscallSample {
  [who: string]: { reads: number; writes: number } | null;
}

/** Read and write system calls of each named process now. */
export function sampleSyscalls(pids: Record<string, number | undefined>): SyscallSample {
  const out: SyscallSample = {};
  for (const [who, pid] of Object.entries(pids)) out[who] = processSyscalls(pid);
  return out;
}

/** Read and write system calls per operation for each process between two samples. */
export function syscallsPerOp(before: SyscallSample, after: SyscallSample, ops: number): Record<string, { reads: number; writes: number } | null> {
  const out: Record<string, { reads: number; writes: number } | null> = {};
  for (const who of Object.keys(after)) {
    const a = after[who];
    const b = before[who];
    out[who] = !a || !b || ops <= 0 ? null : { reads: (a.reads - b.reads) / ops, writes: (a.writes - b.writes) / ops };
  }
  return out;
}

/** Microseconds of CPU per operation for each process between two samples. */
export function cpuPerOpUs(before: CpuSample, after: CpuSample, ops: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const who of Object.keys(after)) {
    const a = after[who];
    const b = before[who];
    out[who] = a === null || b === null || b === undefined || ops <= 0 ? null : ((a - b) * 1000) / ops;
  }
  return out;
}

/**
 * A cgroup of the benchmark's own that a process is moved into, so the CPU of everything
 * it starts afterwards is counted with it, short-lived children included: containerd's
 * runc, shim and CNI plugin processes each live a few ms and never show in a sample of
 * /proc/<pid>/stat (only what runc moves into the containers' own cgroups is left out:
 * the containers' processes). cgroup v1's cpuacct hierarchy or cgroup v2's unified one.
 */
export class CpuAccountingGroup {
  private constructor(
    readonly dir: string,
    private readonly v2: boolean,
  ) {}

  /** Makes the group and moves pid into it; undefined where no cgroup hierarchy is writable. */
  static create(name: string, pid: number): CpuAccountingGroup | undefined {
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const dir = v2 ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/cpuacct/${name}`;
    try {
      mkdirSync(dir);
      writeFileSync(`${dir}/cgroup.procs`, String(pid));
      return new CpuAccountingGroup(dir, v2);
    } catch {
      return undefined;
    }
  }

  /** CPU ms used by the group's processes since it was made. */
  cpuMs(): number {
    if (!this.v2) return Number(readFileSync(`${this.dir}/cpuacct.usage`, 'utf8')) / 1e6;
    const m = /^usage_usec (\d+)$/m.exec(readFileSync(`${this.dir}/cpu.stat`, 'utf8'));
    return m ? Number(m[1]) / 1000 : NaN;
  }

  /** Removes the group once its processes are gone (the kernel refuses while any is left). */
  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // a process still in it (or gone already): left for the machine's owner, named after the benchmark
    }
  }
}

/** The machine's busy share of all CPUs (0..1) since the previous reading of /proc/stat. */
export function machineBusy(): () => number {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  return () => {
    const b = read();
    return b.total > a.total ? 1 - (b.idle - a.idle) / (b.total - a.total) : NaN;
  };
}
