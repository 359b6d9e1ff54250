/**
 * The objects the benchmark writes: small pods as a workload controller would create
 * them (one container, resource requests and limits, a few labels), so sizes and
 * validation work are realistic rather than minimal.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { type ApiClient, Resources, StatusError } from '../lib/client/mod.js';

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

/**
 * Writes a namespace, `nodes` plain Node objects (`<nodePrefix>-<i>`, no kubelet behind
 * them) and `pods` bench pods bound round-robin to them, in batchCreates of `batch`,
 * four in flight: a cluster's objects for benches of what reads them (kube-state-metrics,
 * the dashboard), not of scheduling. Throws when any create failed.
 */
export async function createBoundPods(client: ApiClient, o: { namespace: string; nodePrefix: string; nodes: number; pods: number; batch?: number }): Promise<void> {
  const batch = o.batch ?? 500;
  await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } });
  const send = async (count: number, item: (i: number) => Parameters<ApiClient['batchCreate']>[0][number]) => {
    let next = 0;
    const errors: string[] = [];
    const sender = async () => {
      while (next < count) {
        const from = next;
        next = Math.min(count, next + batch);
        const items = [];
        for (let i = from; i < next; i++) items.push(item(i));
        for (const r of await client.batchCreate(items)) if (r instanceof StatusError) errors.push(r.message);
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    if (errors.length) throw new Error(`${errors.length} creates failed; first: ${errors[0]}`);
  };
  const nodeName = (i: number) => `${o.nodePrefix}-${i}`;
  await send(o.nodes, (i): Parameters<ApiClient['batchCreate']>[0][number] => {
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i), labels: { 'kubernetes.io/hostname': nodeName(i) } } };
    return { ...Resources.nodes, body: node };
  });
  await send(o.pods, (i) => {
    const p = benchPod(o.namespace, i);
    p.spec!.nodeName = nodeName(i % o.nodes);
    return { ...Resources.pods, namespace: o.namespace, body: p };
  });
}
