/**
 * What the EndpointSlice and Endpoints controllers agree on (upstream
 * pkg/controller/util/endpoint and pkg/api/v1/pod FindPort): which pods back a Service,
 * how a Service port's targetPort resolves on a pod (numbers, and names looked up in the
 * pod's container ports), and the small facts both write (ready, hostname, labels).
 */
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { selectorFromLabelSelector, type Selector } from '../../lib/api/labels.js';
import { isPodReady } from './pods.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** The Service's pod selector; undefined when it has none (its endpoints are user-managed). */
export function serviceSelector(svc: Service): Selector | undefined {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return undefined;
  return selectorFromLabelSelector({ matchLabels: sel });
}

/**
 * Upstream ShouldPodBeInEndpoints: a pod with an IP that has not finished (a pod that
 * cannot restart and whose phase is Succeeded or Failed never serves again); a
 * terminating pod only when includeTerminating.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  return true;
}

/**
 * The port a Service port reaches on a pod (upstream FindPort): a numeric targetPort is
 * itself; a named one is the containerPort of that name and the Service port's protocol;
 * an unset one is the Service port. Undefined when a name does not resolve on this pod.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort;
  const protocol = sp.protocol ?? 'TCP';
  if (typeof target === 'string') {
    if (/^\d+$/.test(target)) return Number(target);
    for (const c of pod.spec?.containers ?? []) {
      for (const cp of c.ports ?? []) if (cp.name === target && (cp.protocol ?? 'TCP') === protocol) return cp.containerPort;
    }
    return undefined;
  }
  if (typeof target === 'number' && target > 0) return target;
  return sp.port;
}

/** Whether the endpoint counts as serving (the pod is Ready, or the Service publishes unready pods). */
export function podServing(svc: Service, pod: Pod): boolean {
  return svc.spec?.publishNotReadyAddresses === true || isPodReady(pod);
}

/** The pod's DNS hostname under a headless Service whose name is the pod's subdomain. */
export function podHostname(svc: Service, pod: Pod): string | undefined {
  const h = pod.spec?.hostname;
  return h && pod.spec?.subdomain === svc.metadata?.name && svc.metadata?.namespace === pod.metadata?.namespace ? h : undefined;
}

/** Labels the derived objects carry: the Service's own, plus the headless marker. */
export function derivedLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return labels;
}

/** JSON with object keys sorted, so objects that went through the apiserver compare equal. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(val).sort()) if (val[k] !== undefined) sorted[k] = val[k];
      return sorted;
    }
    return val;
  });
}

/** Services in a namespace whose selector matches the pod. */
export function servicesSelecting(services: Service[], pod: Pod): Service[] {
  const labels = pod.metadata?.labels ?? {};
  return services.filter((s) => serviceSelector(s)?.matches(labels));
}
