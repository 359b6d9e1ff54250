/**
 * The kubelet's own series on /metrics, with upstream's names, labels and buckets:
 * running pods and containers, pod start and pod worker durations, runtime operations
 * (counted around every call into the container runtime) and PLEG relist durations.
 */
import type { Registry } from 'prom-client';
import { client, newRegistry } from '../../../lib/metrics/mod.js';
import type { PodLifecycleObserver } from '../pods.js';
import type { ContainerRuntime } from '../runtime.js';

/** upstream kubelet_pod_start_duration_seconds buckets */
const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];
/** prometheus.DefBuckets, which upstream's runtime, pod worker and relist histograms use */
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** ContainerRuntime methods and the operation_type upstream's instrumented runtime service reports for them */
const OPERATIONS: Record<string, string> = {
  runPodSandbox: 'run_podsandbox',
  stopPodSandbox: 'stop_podsandbox',
  removePodSandbox: 'remove_podsandbox',
  createContainer: 'create_container',
  startContainer: 'start_container',
  stopContainer: 'stop_container',
  removeContainer: 'remove_container',
  execSync: 'exec_sync',
};

export interface RunningCounts {
  pods: number;
  containers: Map<string, number>;
}

export class KubeletMetrics implements PodLifecycleObserver {
  readonly registry: Registry;
  private readonly podStartDuration: client.Histogram;
  private readonly podWorkerDuration: client.Histogram<'operation_type'>;
  private readonly runtimeOps: client.Counter<'operation_type'>;
  private readonly runtimeErrors: client.Counter<'operation_type'>;
  private readonly runtimeDuration: client.Histogram<'operation_type'>;
  private readonly relist: client.Histogram;

  constructor(nodeNames: () => Iterable<string>, running: () => RunningCounts) {
    this.registry = newRegistry('kubelet');
    const registers = [this.registry];
    new client.Gauge({
      name: 'kubelet_node_name',
      help: "[ALPHA] The node's name. The count is always 1.",
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const n of nodeNames()) this.set({ node: n }, 1);
      },
    });
    new client.Gauge({
      name: 'kubelet_running_pods',
      help: '[ALPHA] Number of pods that have a running pod sandbox',
      registers,
      collect() {
        this.set(running().pods);
      },
    });
    new client.Gauge({
      name: 'kubelet_running_containers',
      help: '[ALPHA] Number of containers currently running',
      labelNames: ['container_state'],
      registers,
      collect() {
        this.reset();
        for (const [state, n] of running().containers) this.set({ container_state: state }, n);
      },
    });
    this.podStartDuration = new client.Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: '[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      buckets: POD_START_BUCKETS,
      registers,
    });
    this.podWorkerDuration = new client.Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: '[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
      labelNames: ['operation_type'],
      buckets: DEF_BUCKETS,
      registers,
    });
    this.runtimeOps = new client.Counter({
      name: 'kubelet_runtime_operations_total',
      help: '[ALPHA] Cumulative number of runtime operations by operation type.',
      labelNames: ['operation_type'],
      registers,
    });
    this.runtimeErrors = new client.Counter({
      name: 'kubelet_runtime_operations_errors_total',
      help: '[ALPHA] Cumulative number of runtime operation errors by operation type.',
      labelNames: ['operation_type'],
      registers,
    });
    this.runtimeDuration = new client.Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: '[ALPHA] Duration in seconds of runtime operations. Broken down by operation type.',
      labelNames: ['operation_type'],
      buckets: [0.005, 0.0125, 0.03125, 0.078125, 0.1953125, 0.48828125, 1.220703125, 3.0517578125, 7.62939453125, 19.073486328125, 47.6837158203125, 119.20928955078125, 298.0232238769531, 745.0580596923828],
      registers,
    });
    this.relist = new client.Histogram({
      name: 'kubelet_pleg_relist_duration_seconds',
      help: '[ALPHA] Duration in seconds for relisting pods in PLEG.',
      buckets: DEF_BUCKETS,
      registers,
    });
  }

  podStarted(seconds: number): void {
    this.podStartDuration.observe(seconds);
  }

  podWorker(operation: 'create' | 'kill', seconds: number): void {
    this.podWorkerDuration.observe({ operation_type: operation }, seconds);
  }

  relisted(seconds: number): void {
    this.relist.observe(seconds);
  }

  /** The runtime with every operation counted and timed (the object itself is left as it is). */
  instrument<R extends ContainerRuntime>(runtime: R): R {
    const m = this;
    return new Proxy(runtime, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        const op = typeof prop === 'string' ? OPERATIONS[prop] : undefined;
        if (!op) return v.bind(target);
        return async (...args: unknown[]) => {
          const t0 = performance.now();
          m.runtimeOps.inc({ operation_type: op });
          try {
            return await v.apply(target, args);
          } catch (e) {
            m.runtimeErrors.inc({ operation_type: op });
            throw e;
          } finally {
            m.runtimeDuration.observe({ operation_type: op }, (performance.now() - t0) / 1000);
          }
        };
      },
    });
  }
}
