/**
 * The objects the benchmark writes: small pods as a workload controller would create
 * them (one container, resource requests and limits, a few labels), so sizes and
 * validation work are realistic rather than minimal.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

export function podName(i: number): string {
  return `bench-${String(i).padStart(6, '0')}`;
}

export function benchPod(namespace: string, i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(i),
      namespace,
      labels: { app: 'bench', tier: 'web', shard: String(i % 16) },
    },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'registry.k8s.io/pause:3.9',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: {
            requests: { cpu: '100m', memory: '64Mi' },
            limits: { cpu: '200m', memory: '128Mi' },
          },
        },
      ],
      restartPolicy: 'Always',
    },
  };
}

/**
 * Roughly what the apiserver stores for benchPod (bookkeeping and defaults added), for
 * the raw KV phase to write values of the same size.
 */
export function storedPodBytes(namespace: string, i: number): Uint8Array {
  const p = benchPod(namespace, i) as any;
  p.metadata.uid = '6f1c2a4e-1b0d-4c1e-9a8b-3d2f7e6c5b4a';
  p.metadata.creationTimestamp = '2025-01-01T00:00:00Z';
  p.metadata.generation = 1;
  Object.assign(p.spec.containers[0], { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' });
  Object.assign(p.spec, { dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30, enableServiceLinks: true, priority: 0, preemptionPolicy: 'PreemptLowerPriority', securityContext: {} });
  p.status = { phase: 'Pending', qosClass: 'Burstable' };
  return new TextEncoder().encode(JSON.stringify(p));
}

/** Running with its Ready condition True: what a started pod looks like to its user. */
export function isRunningReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}
