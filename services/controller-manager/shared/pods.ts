/**
 * Pod facts the workload controllers share (upstream pkg/api/v1/pod and
 * pkg/controller/controller_utils.go): which pods count, which are ready or available,
 * and the pod a template stamps out.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

/** Counts toward a controller's replicas: not finished and not being deleted. */
export function isPodActive(p: Pod): boolean {
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

function readyCondition(p: Pod) {
  return p.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(p: Pod): boolean {
  return readyCondition(p)?.status === 'True';
}

/** When the pod last became ready (ms since the epoch), if it is ready. */
export function podReadyTime(p: Pod): number | undefined {
  const c = readyCondition(p);
  if (c?.status !== 'True') return undefined;
  return c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : undefined;
}

/** Ready for at least minReadySeconds (upstream IsPodAvailable). */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(p)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadyTime(p);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** The pod a controller creates from its template (upstream GetPodFromTemplate). */
export function podFromTemplate(template: PodTemplateSpec, namespace: string, namePrefix: string, controllerRef: OwnerReference): Pod {
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace,
      // upstream trims the prefix so the generated name stays a valid DNS subdomain
      generateName: `${namePrefix.length > 57 ? namePrefix.slice(0, 57) : namePrefix}-`,
      labels: { ...(meta.labels ?? {}) },
      annotations: { ...(meta.annotations ?? {}) },
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template.spec ?? { containers: [] }),
  };
  if (meta.finalizers?.length) pod.metadata!.finalizers = [...meta.finalizers];
  return pod;
}
