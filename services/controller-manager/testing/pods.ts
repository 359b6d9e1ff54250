/**
 * Test fixtures for the controllers that read pods a kubelet has started: pods created
 * with the status a kubelet would write (podIP, Running, the Ready condition), or a fake
 * kubelet loop that writes it, without running one.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { type ApiClient, Resources } from '../../../lib/client/mod.js';
import { metaTime } from '../../../lib/api/time.js';
import { isPodReady } from '../shared/pods.js';

export const NS = 'default';

export interface TestPod {
  name: string;
  app: string;
  ip?: string;
  ready?: boolean;
  node?: string;
  /** named container ports */
  ports?: Record<string, number>;
}

/** Creates pods, then writes the status a kubelet would (podIP, Running, Ready). */
export async function createPods(client: ApiClient, pods: TestPod[]): Promise<void> {
  const created = await client.batchCreate<Pod>(
    pods.map((p) => ({
      ...Resources.pods,
      namespace: NS,
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: p.name, namespace: NS, labels: { app: p.app } },
        spec: {
          nodeName: p.node,
          containers: [{ name: 'c', image: 'nginx', ports: Object.entries(p.ports ?? {}).map(([name, containerPort]) => ({ name, containerPort })) }],
        },
      } satisfies Pod,
    })),
  );
  for (const r of created) if (r instanceof Error) throw r;
  await Promise.all(pods.filter((p) => p.ip).map((p) => setPodStatus(client, p.name, p.ip!, !!p.ready)));
}

/** What a kubelet writes once the pod's containers run: Running, its podIP when given, Ready or not. */
export async function setPodStatus(client: ApiClient, name: string, ip: string | undefined, ready: boolean): Promise<void> {
  const ref = { ...Resources.pods, namespace: NS, name };
  const pod = await client.get<Pod>(ref);
  await client.updateStatus<Pod>(ref, {
    ...pod,
    status: {
      phase: 'Running',
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: metaTime() }],
    },
  });
}

/**
 * Stands in for the kubelet until stopped: every live pod in `default` matching
 * labelSelector turns Running and Ready, checked every 100 ms.
 */
export function fakeKubelet(client: ApiClient, labelSelector?: string): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const pods = (await client.list<Pod>({ ...Resources.pods, namespace: NS }, { labelSelector })).items;
        const waiting = pods.filter((p) => !p.metadata?.deletionTimestamp && !(p.status?.phase === 'Running' && isPodReady(p)));
        await Promise.all(waiting.map((p) => setPodStatus(client, p.metadata!.name!, undefined, true).catch(() => undefined)));
      } catch {
        // the next round tries again
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

export function service(name: string, ports: NonNullable<Service['spec']>['ports'], labels?: Record<string, string>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS, labels }, spec: { selector: { app: name }, ports } };
}
