/**
 * What the EndpointSlice and Endpoints controllers agree on (upstream
 * pkg/controller/util/endpoint and pkg/api/v1/pod FindPort): which pods back a Service,
 * which Services a pod event concerns, how a Service port's targetPort resolves on a pod
 * (numbers, and names looked up in the pod's container ports), and the small facts both
 * write (ready, hostname, labels).
 */
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { labelsEqual, selectorFromLabelSelector, type Selector } from '../../../../lib/api/labels.js';
import { type DeletedFinalStateUnknown, deletedObject, type EventHandlers, NAMESPACE_INDEX, type SharedInformer } from '../../../../lib/client/mod.js';
import { isPodReady } from '../../shared/pods.js';

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

/** A Service port as resolved on one pod; fits both core/v1 and discovery/v1 EndpointPort. */
export interface ResolvedPort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** The Service's ports whose target resolves on the pod, in the Service's order. */
export function resolvePorts(svc: Service, pod: Pod): ResolvedPort[] {
  const ports: ResolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: ResolvedPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    ports.push(p);
  }
  return ports;
}

/**
 * The informer handlers of a controller that derives objects from Services: a Service is
 * enqueued on any change to it; a pod change enqueues the Services selecting the pod, and,
 * when its labels changed, those that selected it before.
 */
export function serviceAndPodHandlers(
  services: SharedInformer<Service>,
  enqueue: (svc: Service | DeletedFinalStateUnknown<Service>) => void,
): { services: EventHandlers<Service>; pods: EventHandlers<Pod> } {
  const podChanged = (pod: Pod) => {
    const ns = pod.metadata?.namespace;
    if (!ns) return;
    for (const svc of servicesSelecting(services.store.byIndex(NAMESPACE_INDEX, ns), pod)) enqueue(svc);
  };
  return {
    services: {
      onAdd: (s) => enqueue(s),
      onUpdate: (_o, s) => enqueue(s),
      onDelete: (s) => enqueue(s),
    },
    pods: {
      onAdd: (p) => podChanged(p),
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        podChanged(cur);
        if (!labelsEqual(old.metadata?.labels, cur.metadata?.labels)) podChanged(old);
      },
      onDelete: (p) => podChanged(deletedObject(p)),
    },
  };
}

/** Services in a namespace whose selector matches the pod. */
export function servicesSelecting(services: Service[], pod: Pod): Service[] {
  const labels = pod.metadata?.labels ?? {};
  return services.filter((s) => serviceSelector(s)?.matches(labels));
}
