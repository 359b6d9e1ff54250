/**
 * Where a pod's first start spends its time on a real node, as upstream's pod startup
 * latency tracker logs "Observed pod startup duration" once per pod: from the moment
 * the kubelet admits the pod to the status write that first reports it Running, split
 * into the phases the kubelet waits for. A pod restarted later is not traced again.
 *
 * Phases (milliseconds, summed over the pod's containers where there are several):
 *   queuedMs    waiting for one of the parallel pod start slots (podstarts.ts)
 *   volumesMs   volumes and config (PodSetup.prepare)
 *   sandboxMs   RunPodSandbox, with the sandbox image check and PodSandboxStatus
 *   imageMs     the image checks (and pulls) of the containers
 *   createMs    CreateContainer (with the container's config)
 *   startMs     StartContainer
 *   reportedMs  from the last of these to the acknowledged status write saying Running
 */
export const START_PHASES = ['queuedMs', 'volumesMs', 'sandboxMs', 'imageMs', 'createMs', 'startMs'] as const;
export type StartPhase = (typeof START_PHASES)[number];

interface Trace {
  /** wall clock (epoch ms) of the admission, so a reader can line it up with the pod's creation */
  admittedAt: number;
  t0: number;
  /** when the last phase ended (performance.now()) */
  lastAt: number;
  phases: Record<StartPhase, number>;
}

/** The log line's message, as upstream's; key=value pairs follow it. */
export const STARTUP_LOG_MESSAGE = 'Observed pod startup duration';

export class PodStartupLatencyTracker {
  private readonly traces = new Map<string, Trace>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The pod (by uid) was admitted on this node; its first start is traced from now. */
  admitted(uid: string): void {
    if (this.traces.has(uid)) return;
    const t = this.now();
    this.traces.set(uid, { admittedAt: Date.now(), t0: t, lastAt: t, phases: { queuedMs: 0, volumesMs: 0, sandboxMs: 0, imageMs: 0, createMs: 0, startMs: 0 } });
  }

  /** Adds the time since the last phase ended (or the admission) to the pod's phase. */
  mark(uid: string, phase: StartPhase): void {
    const trace = this.traces.get(uid);
    if (!trace) return;
    const t = this.now();
    trace.phases[phase] += t - trace.lastAt;
    trace.lastAt = t;
  }

  /** Runs fn and adds its time to the pod's phase (nothing is recorded once the pod was reported). */
  async time<T>(uid: string, phase: StartPhase, fn: () => Promise<T>): Promise<T> {
    const trace = this.traces.get(uid);
    if (!trace) return fn();
    const t = this.now();
    try {
      return await fn();
    } finally {
      trace.lastAt = this.now();
      trace.phases[phase] += trace.lastAt - t;
    }
  }

  /** A status write for the pod was acknowledged; the first saying Running ends the trace and logs it. */
  reported(uid: string, key: string, phase: string | undefined): void {
    const trace = this.traces.get(uid);
    if (!trace || phase !== 'Running') return;
    this.traces.delete(uid);
    const end = this.now();
    const fields = START_PHASES.map((p) => `${p}=${Math.round(trace.phases[p])}`);
    this.log(`${STARTUP_LOG_MESSAGE} pod="${key}" admittedAt=${trace.admittedAt} ${fields.join(' ')} reportedMs=${Math.round(end - trace.lastAt)} totalMs=${Math.round(end - trace.t0)}`);
  }

  /** The pod is gone or will not run: no trace. */
  forget(uid: string): void {
    this.traces.delete(uid);
  }
}

/** The fields of one "Observed pod startup duration" line (for the benchmark), or undefined. */
export function parseStartupLine(line: string): ({ pod: string; admittedAt: number; reportedMs: number; totalMs: number } & Record<StartPhase, number>) | undefined {
  const at = line.indexOf(STARTUP_LOG_MESSAGE);
  if (at < 0) return undefined;
  const out: Record<string, string | number> = {};
  for (const m of line.slice(at + STARTUP_LOG_MESSAGE.length).matchAll(/(\w+)=("[^"]*"|\S+)/g)) out[m[1]!] = m[2]!.startsWith('"') ? m[2]!.slice(1, -1) : Number(m[2]);
  if (typeof out.pod !== 'string' || typeof out.totalMs !== 'number') return undefined;
  return out as ReturnType<typeof parseStartupLine> & object;
}
