/**
 * The kubelet's prober manager, after upstream's (pkg/kubelet/prober): one worker per
 * probe of each running container. It tells the pod manager what the probes decide:
 * readiness (containerStatuses[].ready, and through it the Ready condition and the
 * EndpointSlices), startup (`started`; liveness and readiness wait for it), and
 * liveness or startup failure (the container is killed and restarted per the pod's
 * restartPolicy). Each failed check is an `Unhealthy` event ("Liveness probe failed: …").
 */
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import type { CheckOutcome, ExecRunner, ProbeResult } from './handlers.js';
import { type ProbeKind, ProbeWorker } from './worker.js';

export interface ProbeListener {
  /** the readiness probe's result changed */
  onReadiness(podKey: string, container: string, ready: boolean): void;
  /** the startup probe succeeded */
  onStarted(podKey: string, container: string): void;
  /** liveness or startup failed past its threshold: kill the container (with the probe's grace, if it sets one) */
  onFailure(podKey: string, container: string, containerId: string, kind: 'liveness' | 'startup', outcome: CheckOutcome, gracePeriodSeconds?: number): void;
  /** one failed check (the Unhealthy event) */
  onUnhealthy(podKey: string, container: string, kind: ProbeKind, outcome: CheckOutcome): void;
}

interface Entry {
  containerId: string;
  workers: ProbeWorker[];
  started: boolean;
}

/** upstream's probe type as the events spell it: Liveness, Readiness, Startup */
export function probeTypeName(kind: ProbeKind): string {
  return kind[0]!.toUpperCase() + kind.slice(1);
}

export class ProbeManager {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly listener: ProbeListener,
    private readonly exec?: ExecRunner,
  ) {}

  /** Whether the container has any probe (then its readiness or start is the prober's to decide). */
  static probes(c: Container): Array<[ProbeKind, Probe]> {
    const out: Array<[ProbeKind, Probe]> = [];
    if (c.startupProbe) out.push(['startup', c.startupProbe]);
    if (c.livenessProbe) out.push(['liveness', c.livenessProbe]);
    if (c.readinessProbe) out.push(['readiness', c.readinessProbe]);
    return out;
  }

  /** A container started (or was adopted): its probes begin. Replaces the workers of an earlier instance. */
  addContainer(podKey: string, container: Container, containerId: string, podIP: string, startedAt: number): void {
    this.removeContainer(podKey, container.name);
    const probes = ProbeManager.probes(container);
    if (probes.length === 0) return;
    const entry: Entry = { containerId, workers: [], started: !container.startupProbe };
    const target = { containerId, container, podIP, exec: this.exec };
    for (const [kind, probe] of probes) {
      const w = new ProbeWorker(kind, probe, target, startedAt, {
        started: () => entry.started,
        onFailedCheck: (k, outcome) => this.listener.onUnhealthy(podKey, container.name, k, outcome),
        onResult: (k, result: ProbeResult, outcome) => {
          if (k === 'readiness') this.listener.onReadiness(podKey, container.name, result === 'success');
          else if (k === 'startup' && result === 'success') {
            entry.started = true;
            this.listener.onStarted(podKey, container.name);
          } else if (result === 'failure') {
            // a probe-level grace overrides the pod's for this kill
            const grace = probe.terminationGracePeriodSeconds ?? undefined;
            this.listener.onFailure(podKey, container.name, containerId, k as 'liveness' | 'startup', outcome, grace);
          }
        },
      });
      entry.workers.push(w);
    }
    this.entries.set(`${podKey}/${container.name}`, entry);
    for (const w of entry.workers) w.start();
  }

  removeContainer(podKey: string, name: string): void {
    const key = `${podKey}/${name}`;
    const e = this.entries.get(key);
    if (!e) return;
    for (const w of e.workers) w.stop();
    this.entries.delete(key);
  }

  removePod(podKey: string): void {
    for (const [key, e] of this.entries) {
      if (!key.startsWith(`${podKey}/`)) continue;
      for (const w of e.workers) w.stop();
      this.entries.delete(key);
    }
  }

  stop(): void {
    for (const e of this.entries.values()) for (const w of e.workers) w.stop();
    this.entries.clear();
  }
}
