/**
 * CPU time spent by the processes under test, per phase. On a small shared machine the
 * rates swing with whatever else runs; CPU time per operation does much less, so it is
 * the steadier figure for comparing one build with the next.
 */
import { readFileSync } from 'node:fs';

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
