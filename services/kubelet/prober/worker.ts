/**
 * One probe of one container, as upstream's prober worker: every periodSeconds, once
 * initialDelaySeconds passed since the container started, it runs the check with
 * timeoutSeconds; successThreshold successes in a row make the result success,
 * failureThreshold failures in a row make it failure. Liveness and readiness wait for the
 * startup probe, if any, to succeed. After a liveness or startup failure the worker holds
 * still until the container is replaced (the kubelet kills and restarts it).
 */
import type { Probe } from 'kubernetes-types/core/v1.js';
import { type CheckOutcome, type CheckTarget, type ProbeResult, runHandler } from './handlers.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** upstream's defaults (API defaulting) */
export const PROBE_DEFAULTS = { periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3, initialDelaySeconds: 0 };

export interface WorkerHooks {
  /** whether the container's startup probe (if any) succeeded */
  started(): boolean;
  /** the result changed (after the thresholds) */
  onResult(kind: ProbeKind, result: ProbeResult, outcome: CheckOutcome): void;
  /** every failed check: the Unhealthy event */
  onFailedCheck(kind: ProbeKind, outcome: CheckOutcome): void;
}

export class ProbeWorker {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** the last check's result and how many in a row */
  private last?: ProbeResult;
  private run = 0;
  /** the result last reported (past the thresholds) */
  private reported?: ProbeResult;
  private onHold = false;
  private readonly period: number;
  private readonly timeout: number;
  private readonly successThreshold: number;
  private readonly failureThreshold: number;
  private readonly initialDelayMs: number;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly target: CheckTarget,
    /** ms since the epoch the container started */
    private readonly startedAt: number,
    private readonly hooks: WorkerHooks,
  ) {
    this.period = (probe.periodSeconds || PROBE_DEFAULTS.periodSeconds) * 1000;
    this.timeout = probe.timeoutSeconds || PROBE_DEFAULTS.timeoutSeconds;
    // liveness and startup need one success (the API insists on 1)
    this.successThreshold = kind === 'readiness' ? probe.successThreshold || PROBE_DEFAULTS.successThreshold : 1;
    this.failureThreshold = probe.failureThreshold || PROBE_DEFAULTS.failureThreshold;
    this.initialDelayMs = (probe.initialDelaySeconds ?? 0) * 1000;
  }

  start(): void {
    // the first check as soon as the initial delay allows, then every period
    const first = Math.max(0, this.startedAt + this.initialDelayMs - Date.now());
    this.timer = setTimeout(() => void this.tick(), first);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const t0 = Date.now();
    await this.doProbe().catch(() => undefined);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, this.period - (Date.now() - t0)));
  }

  private async doProbe(): Promise<void> {
    if (this.onHold) return;
    if (this.kind === 'startup' && this.reported === 'success') return;
    if (this.kind !== 'startup' && !this.hooks.started()) return;
    const outcome = await runHandler(this.probe, this.target, this.timeout);
    if (this.stopped) return;
    if (outcome.result === 'failure') this.hooks.onFailedCheck(this.kind, outcome);
    if (outcome.result === this.last) this.run++;
    else {
      this.last = outcome.result;
      this.run = 1;
    }
    // below its threshold a result leaves the probe's state as it was
    if (this.run < (outcome.result === 'failure' ? this.failureThreshold : this.successThreshold)) return;
    this.reported = outcome.result;
    this.hooks.onResult(this.kind, outcome.result, outcome);
    if (outcome.result === 'failure' && this.kind !== 'readiness') {
      // the container is killed and replaced (with a new worker); this one holds still
      this.onHold = true;
      this.run = 0;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
