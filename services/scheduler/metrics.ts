/**
 * The scheduler's metrics with upstream names, labels and buckets
 * (pkg/scheduler/metrics/metrics.go, v1.31); lib/metrics serves them with /healthz and
 * /readyz (upstream serves these on 10259 over HTTPS; ours is plain HTTP).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { newRegistry } from '../../lib/metrics/mod.js';

/** prometheus.ExponentialBuckets(start, factor, count) */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  let v = start;
  for (let i = 0; i < count; i++) {
    out.push(Number(v.toPrecision(12)));
    v *= factor;
  }
  return out;
}

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export class SchedulerMetrics {
  readonly registry: Registry;
  readonly scheduleAttempts: Counter<'result' | 'profile'>;
  readonly attemptDuration: Histogram<'result' | 'profile'>;
  readonly algorithmDuration: Histogram;
  readonly pendingPods: Gauge<'queue'>;
  readonly podSchedulingAttempts: Histogram;
  readonly podSchedulingSLIDuration: Histogram<'attempts'>;
  readonly extensionPointDuration: Histogram<'extension_point' | 'status' | 'profile'>;
  readonly pluginExecutionDuration: Histogram<'plugin' | 'extension_point' | 'status'>;
  readonly preemptionAttempts: Counter;
  readonly preemptionVictims: Histogram;
  readonly unschedulablePods: Gauge<'plugin' | 'profile'>;

  constructor(registry: Registry = newRegistry('scheduler')) {
    this.registry = registry;
    const registers = [registry];
    const counter = <L extends string = string>(name: string, help: string, labelNames: L[] = []) => new Counter<L>({ name, help, labelNames, registers });
    const gauge = <L extends string = string>(name: string, help: string, labelNames: L[] = []) => new Gauge<L>({ name, help, labelNames, registers });
    const histogram = <L extends string = string>(name: string, help: string, buckets: number[], labelNames: L[] = []) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers });
    this.scheduleAttempts = counter(
      'scheduler_schedule_attempts_total',
      'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
      ['result', 'profile'],
    );
    this.attemptDuration = histogram(
      'scheduler_scheduling_attempt_duration_seconds',
      'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
      exponentialBuckets(0.001, 2, 15),
      ['result', 'profile'],
    );
    this.algorithmDuration = histogram('scheduler_scheduling_algorithm_duration_seconds', 'Scheduling algorithm latency in seconds', exponentialBuckets(0.001, 2, 15));
    this.pendingPods = gauge(
      'scheduler_pending_pods',
      "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
      ['queue'],
    );
    this.podSchedulingAttempts = histogram('scheduler_pod_scheduling_attempts', 'Number of attempts to successfully schedule a pod.', exponentialBuckets(1, 2, 5));
    this.podSchedulingSLIDuration = histogram(
      'scheduler_pod_scheduling_sli_duration_seconds',
      'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.',
      exponentialBuckets(0.01, 2, 20),
      ['attempts'],
    );
    this.extensionPointDuration = histogram(
      'scheduler_framework_extension_point_duration_seconds',
      'Latency for running all plugins of a specific extension point.',
      exponentialBuckets(0.0001, 2, 12),
      ['extension_point', 'status', 'profile'],
    );
    this.pluginExecutionDuration = histogram(
      'scheduler_plugin_execution_duration_seconds',
      'Duration for running a plugin at a specific extension point.',
      exponentialBuckets(0.00001, 1.5, 20),
      ['plugin', 'extension_point', 'status'],
    );
    this.preemptionAttempts = counter('scheduler_preemption_attempts_total', 'Total preemption attempts in the cluster till now');
    this.preemptionVictims = histogram('scheduler_preemption_victims', 'Number of selected preemption victims', exponentialBuckets(1, 2, 7));
    this.unschedulablePods = gauge(
      'scheduler_unschedulable_pods',
      'The number of unschedulable pods broken down by plugin name. A pod will increment the gauge for all plugins that caused it to not schedule and so this metric have meaning only when broken down by plugin.',
      ['plugin', 'profile'],
    );
  }

  /**
   * Every profile's attempt counters at 0 from the start: a series that first appears at
   * 1,500 (the first scrape after a burst) has no rise for rate() to see, so a dashboard
   * would show a cluster's first burst as nothing.
   */
  startProfiles(profiles: string[]): void {
    for (const profile of profiles) for (const result of ['scheduled', 'unschedulable', 'error'] as const) this.scheduleAttempts.inc({ result, profile }, 0);
  }

  /** One pod's attempt ended. `seconds` covers the algorithm and (for scheduled pods) the binding. */
  attempt(result: AttemptResult, profile: string, seconds: number): void {
    this.scheduleAttempts.inc({ result, profile });
    this.attemptDuration.observe({ result, profile }, seconds);
  }
}
