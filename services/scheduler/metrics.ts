/**
 * The scheduler's metrics with upstream names, labels and buckets
 * (pkg/scheduler/metrics/metrics.go, v1.31), and the HTTP endpoint that serves them with
 * /healthz and /readyz (upstream serves these on 10259 over HTTPS; ours is plain HTTP).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { client as prom, newRegistry, renderMetrics } from '../../lib/metrics/registry.js';

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
    this.scheduleAttempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
      labelNames: ['result', 'profile'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
      labelNames: ['result', 'profile'],
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    });
    this.algorithmDuration = new Histogram({
      name: 'scheduler_scheduling_algorithm_duration_seconds',
      help: 'Scheduling algorithm latency in seconds',
      buckets: exponentialBuckets(0.001, 2, 15),
      registers,
    });
    this.pendingPods = new Gauge({
      name: 'scheduler_pending_pods',
      help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
      labelNames: ['queue'],
      registers,
    });
    this.podSchedulingAttempts = new Histogram({
      name: 'scheduler_pod_scheduling_attempts',
      help: 'Number of attempts to successfully schedule a pod.',
      buckets: exponentialBuckets(1, 2, 5),
      registers,
    });
    this.podSchedulingSLIDuration = new Histogram({
      name: 'scheduler_pod_scheduling_sli_duration_seconds',
      help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.',
      labelNames: ['attempts'],
      buckets: exponentialBuckets(0.01, 2, 20),
      registers,
    });
    this.extensionPointDuration = new Histogram({
      name: 'scheduler_framework_extension_point_duration_seconds',
      help: 'Latency for running all plugins of a specific extension point.',
      labelNames: ['extension_point', 'status', 'profile'],
      buckets: exponentialBuckets(0.0001, 2, 12),
      registers,
    });
    this.pluginExecutionDuration = new Histogram({
      name: 'scheduler_plugin_execution_duration_seconds',
      help: 'Duration for running a plugin at a specific extension point.',
      labelNames: ['plugin', 'extension_point', 'status'],
      buckets: exponentialBuckets(0.00001, 1.5, 20),
      registers,
    });
    this.preemptionAttempts = new Counter({ name: 'scheduler_preemption_attempts_total', help: 'Total preemption attempts in the cluster till now', registers });
    this.preemptionVictims = new Histogram({
      name: 'scheduler_preemption_victims',
      help: 'Number of selected preemption victims',
      buckets: exponentialBuckets(1, 2, 7),
      registers,
    });
    this.unschedulablePods = new Gauge({
      name: 'scheduler_unschedulable_pods',
      help: 'The number of unschedulable pods broken down by plugin name. A pod will increment the gauge for all plugins that caused it to not schedule and so this metric have meaning only when broken down by plugin.',
      labelNames: ['plugin', 'profile'],
      registers,
    });
  }

  /** One pod's attempt ended. `seconds` covers the algorithm and (for scheduled pods) the binding. */
  attempt(result: AttemptResult, profile: string, seconds: number): void {
    this.scheduleAttempts.inc({ result, profile });
    this.attemptDuration.observe({ result, profile }, seconds);
  }
}

export interface HealthServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves /metrics, /healthz (the process is up) and /readyz (`ready()`: caches synced) on
 * 127.0.0.1:port (0 = any free port).
 */
export async function serveMetrics(registry: Registry, port: number, ready: () => boolean, host = '127.0.0.1'): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      renderMetrics(registry).then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`rendering metrics failed: ${e.message}\n`);
        },
      );
      return;
    }
    if (url === '/healthz' || url === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (url === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok' : 'caches not synced');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { prom };
