/**
 * The EndpointSlice controller (upstream pkg/controller/endpointslice, v1.31): for every
 * Service with a selector, discovery.k8s.io/v1 EndpointSlices (addressType IPv4) listing
 * the pods it selects that have an IP, with ready / serving / terminating conditions,
 * nodeName, zone (the node's topology.kubernetes.io/zone label) and a targetRef; ports
 * resolved per pod from the Service's targetPorts, so pods that resolve a named port
 * differently land in different slices; at most maxEndpointsPerSlice (100) a slice.
 *
 * Reconciling keeps churn low, as upstream's reconciler does: endpoints stay in the
 * slice they are in, new ones fill slices with room before a new slice is made, and a
 * slice is written only when its content changes. Because the controller acts on its
 * informer cache, it remembers the resourceVersion of every slice it wrote and does not
 * act on a Service while the cache is older than its own writes (upstream's
 * endpointSliceTracker), which would otherwise create duplicate slices.
 */
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isNotFound } from '../../../../lib/api/errors.js';
import { deletedObject, ENDPOINT_SLICES, type EventRecorder, metaNamespaceKey, NAMESPACE_INDEX, Resources, type SharedInformer, splitMetaNamespaceKey } from '../../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../../lib/controller/mod.js';
import { newControllerRef } from '../../shared/controllerref.js';
import { derivedLabels, podHostname, podServing, resolvePorts, serviceAndPodHandlers, serviceSelector, SERVICE_NAME_LABEL, shouldPodBeInEndpoints } from './serviceendpoints.js';
import { canonicalJson } from '../../../../lib/api/canonical.js';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** when the change (a pod's readiness, the Service's creation) behind a slice's content happened: the proxy's network programming latency starts there */
export const LAST_CHANGE_TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** upstream --max-endpoints-per-slice default */
export const MAX_ENDPOINTS_PER_SLICE = 100;
const SERVICE_INDEX = 'endpointslice-controller/service';
const DELETED = 'deleted';

export interface EndpointSliceControllerOptions {
  maxEndpointsPerSlice?: number;
}

/** A slice as the reconciler plans it: an existing one (name set) or one to create. */
interface PlannedSlice {
  existing?: EndpointSlice;
  endpoints: Endpoint[];
}

export class EndpointSliceController extends QueueController {
  private readonly services: SharedInformer<Service>;
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly slices: SharedInformer<EndpointSlice>;
  private readonly recorder: EventRecorder;
  private readonly maxPerSlice: number;
  /** service key -> slice name -> resourceVersion we wrote, or DELETED */
  private readonly written = new Map<string, Map<string, string>>();
  /** upstream's TriggerTimeTracker: service key -> each selected pod's trigger time, and the Service's, at its last sync */
  private readonly triggerTimes = new Map<string, { pods: Map<string, number>; service: number }>();

  constructor(ctx: ControllerContext, opts: EndpointSliceControllerOptions = {}) {
    super('endpoint_slice', ctx);
    this.maxPerSlice = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.recorder = ctx.recorder('endpointslice-controller');
    this.services = ctx.informers.forResource<Service>(Resources.services);
    this.pods = ctx.informers.forResource<Pod>(Resources.pods);
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    this.slices = ctx.informers.forResource<EndpointSlice>(ENDPOINT_SLICES);
    try {
      this.slices.addIndexers({ [SERVICE_INDEX]: (s) => (managedSlice(s) ? [`${s.metadata?.namespace}/${s.metadata!.labels![SERVICE_NAME_LABEL]}`] : []) });
    } catch {
      // a second controller built on the same factory (a new leadership term) already added it
    }
    const handlers = serviceAndPodHandlers(this.services, (s) => this.enqueue(s));
    this.handle(this.services, handlers.services);
    this.handle(this.pods, handlers.pods);
    // a managed slice changed or deleted by someone else is put back
    const sliceChanged = (s: EndpointSlice) => {
      if (managedSlice(s)) this.enqueueKey(`${s.metadata!.namespace}/${s.metadata!.labels![SERVICE_NAME_LABEL]}`);
    };
    this.handle(this.slices, {
      onUpdate: (_o, s) => sliceChanged(s),
      onDelete: (s) => sliceChanged(deletedObject(s)),
    });
  }

  /** True while the cache has not yet shown every write this controller made for key. */
  private cacheIsStale(key: string): boolean {
    const mine = this.written.get(key);
    if (!mine) return false;
    const { namespace } = splitMetaNamespaceKey(key);
    for (const [name, rv] of mine) {
      const cached = this.slices.store.getByKey(`${namespace}/${name}`);
      const seen = rv === DELETED ? !cached : !!cached && BigInt(cached.metadata?.resourceVersion ?? '0') >= BigInt(rv);
      if (!seen) return true;
      mine.delete(name);
    }
    if (mine.size === 0) this.written.delete(key);
    return false;
  }

  private remember(key: string, name: string, rv: string): void {
    let mine = this.written.get(key);
    if (!mine) this.written.set(key, (mine = new Map()));
    mine.set(name, rv);
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const svc = this.services.store.getByKey(key);
    const existing = this.slices.store.byIndex(SERVICE_INDEX, key);
    if (!svc) {
      // the garbage collector removes owned slices too; doing it here keeps a cluster without it clean
      this.written.delete(key);
      this.triggerTimes.delete(key);
      for (const s of existing) await this.deleteSlice(key, s);
      return;
    }
    const selector = serviceSelector(svc);
    if (!selector) return;
    if (this.cacheIsStale(key)) {
      this.queue.addAfter(key, 100);
      return;
    }

    // desired endpoints grouped by their resolved port set
    const groups = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
    const selected: Pod[] = [];
    for (const pod of this.pods.store.byIndex(NAMESPACE_INDEX, namespace)) {
      if (!selector.matches(pod.metadata?.labels ?? {}) || !shouldPodBeInEndpoints(pod, true)) continue;
      selected.push(pod);
      const ports = endpointPorts(svc, pod);
      const pkey = canonicalJson(ports);
      let g = groups.get(pkey);
      if (!g) groups.set(pkey, (g = { ports, endpoints: new Map() }));
      const ep = this.podToEndpoint(svc, pod);
      g.endpoints.set(ep.addresses[0]!, ep);
    }

    const byPorts = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const pkey = canonicalJson(normalizePorts(s.ports ?? []));
      byPorts.set(pkey, [...(byPorts.get(pkey) ?? []), s]);
    }

    const labels = { ...derivedLabels(svc), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: CONTROLLER_NAME };
    const triggerTime = this.lastChangeTriggerTime(key, svc, selected);
    const toDelete: EndpointSlice[] = [];
    const plans: Array<{ ports: EndpointPort[]; slices: PlannedSlice[] }> = [];

    if (groups.size === 0) {
      // Upstream keeps one placeholder slice (no endpoints, no ports) for a Service without
      // endpoints; this apiserver's validation rejects an empty endpoints list, so none is kept.
      toDelete.push(...existing);
    } else {
      for (const [pkey, s] of byPorts) if (!groups.has(pkey)) toDelete.push(...s);
      for (const [pkey, g] of groups) {
        const planned: PlannedSlice[] = [];
        const remaining = g.endpoints;
        // endpoints stay where they are
        for (const s of byPorts.get(pkey) ?? []) {
          const eps: Endpoint[] = [];
          for (const old of s.endpoints ?? []) {
            const addr = old.addresses?.[0];
            const want = addr === undefined ? undefined : remaining.get(addr);
            if (!want || eps.length >= this.maxPerSlice) continue;
            eps.push(want);
            remaining.delete(addr!);
          }
          planned.push({ existing: s, endpoints: eps });
        }
        // new endpoints fill the fullest slices with room first, then new slices
        const open = planned.filter((p) => p.endpoints.length > 0).sort((a, b) => b.endpoints.length - a.endpoints.length);
        const rest = [...remaining.values()];
        for (const p of [...open, ...planned.filter((p) => p.endpoints.length === 0)]) {
          while (rest.length && p.endpoints.length < this.maxPerSlice) p.endpoints.push(rest.shift()!);
        }
        while (rest.length) planned.push({ endpoints: rest.splice(0, this.maxPerSlice) });
        for (const p of planned) if (p.existing && p.endpoints.length === 0) toDelete.push(p.existing);
        plans.push({ ports: g.ports, slices: planned.filter((p) => !(p.existing && p.endpoints.length === 0)) });
      }
    }

    const errors: string[] = [];
    const note = (e: unknown) => errors.push((e as Error).message);
    for (const plan of plans) {
      for (const p of plan.slices) {
        if (!p.existing) await this.createSlice(key, svc, labels, plan.ports, p.endpoints, triggerTime).catch(note);
        else await this.updateSlice(key, svc, p.existing, labels, plan.ports, p.endpoints, triggerTime).catch(note);
      }
    }
    for (const s of toDelete) await this.deleteSlice(key, s).catch(note);
    if (errors.length) {
      this.recorder.eventf(svc, undefined, 'Warning', 'FailedToUpdateEndpointSlices', 'Update', `Error updating Endpoint Slices for Service ${key}: ${errors.join('; ')}`);
      throw new Error(`reconciling EndpointSlices of Service ${key}: ${errors.join('; ')}`);
    }
  }

  /**
   * Upstream's ComputeEndpointLastChangeTriggerTime: the earliest trigger time (a pod's
   * Ready transition, else its creation; the Service's creation) that changed since this
   * Service's last sync, so the latency measured from it covers every change the new
   * content carries. Undefined when nothing changed.
   */
  private lastChangeTriggerTime(key: string, svc: Service, pods: Pod[]): string | undefined {
    const prev = this.triggerTimes.get(key);
    const seen = new Map<string, number>();
    let min = Infinity;
    for (const pod of pods) {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
      const t = Date.parse(ready ?? pod.metadata?.creationTimestamp ?? '');
      if (!Number.isFinite(t)) continue;
      seen.set(pod.metadata!.name!, t);
      if (prev?.pods.get(pod.metadata!.name!) !== t) min = Math.min(min, t);
    }
    const service = Date.parse(svc.metadata?.creationTimestamp ?? '');
    if (Number.isFinite(service) && prev?.service !== service) min = Math.min(min, service);
    this.triggerTimes.set(key, { pods: seen, service });
    return Number.isFinite(min) ? new Date(min).toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
  }

  private podToEndpoint(svc: Service, pod: Pod): Endpoint {
    const serving = podServing(svc, pod);
    const terminating = !!pod.metadata?.deletionTimestamp;
    const ep: Endpoint = {
      addresses: [pod.status!.podIP!],
      conditions: { ready: serving && !terminating, serving, terminating },
      targetRef: { kind: 'Pod', namespace: pod.metadata!.namespace, name: pod.metadata!.name, uid: pod.metadata!.uid },
    };
    const hostname = podHostname(svc, pod);
    if (hostname) ep.hostname = hostname;
    const nodeName = pod.spec?.nodeName;
    if (nodeName) {
      ep.nodeName = nodeName;
      const zone = this.nodes.store.getByKey(nodeName)?.metadata?.labels?.[ZONE_LABEL];
      if (zone) ep.zone = zone;
    }
    return ep;
  }

  private async createSlice(key: string, svc: Service, labels: Record<string, string>, ports: EndpointPort[], endpoints: Endpoint[], triggerTime: string | undefined): Promise<void> {
    const name = svc.metadata!.name!;
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        namespace: svc.metadata!.namespace,
        generateName: `${name.length > 57 ? name.slice(0, 57) : name}-`,
        labels,
        ...(triggerTime ? { annotations: { [LAST_CHANGE_TRIGGER_TIME_ANNOTATION]: triggerTime } } : {}),
        ownerReferences: [newControllerRef(svc, 'v1', 'Service')],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    };
    const created = await this.ctx.client.create<EndpointSlice>({ ...ENDPOINT_SLICES, namespace: svc.metadata!.namespace }, slice);
    this.remember(key, created.metadata!.name!, created.metadata!.resourceVersion!);
  }

  private async updateSlice(key: string, svc: Service, s: EndpointSlice, labels: Record<string, string>, ports: EndpointPort[], endpoints: Endpoint[], triggerTime: string | undefined): Promise<void> {
    const refs = s.metadata?.ownerReferences ?? [];
    const owned = refs.some((r) => r.uid === svc.metadata?.uid && r.controller);
    const same =
      owned &&
      canonicalJson(s.metadata?.labels ?? {}) === canonicalJson(labels) &&
      canonicalJson(normalizePorts(s.ports ?? [])) === canonicalJson(ports) &&
      canonicalJson(s.endpoints ?? []) === canonicalJson(endpoints);
    if (same) return;
    const body: EndpointSlice = {
      ...s,
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        ...s.metadata,
        labels,
        ownerReferences: owned ? refs : [newControllerRef(svc, 'v1', 'Service')],
        ...(triggerTime ? { annotations: { ...s.metadata?.annotations, [LAST_CHANGE_TRIGGER_TIME_ANNOTATION]: triggerTime } } : {}),
      },
      endpoints,
      ports,
    };
    const updated = await this.ctx.client.update<EndpointSlice>({ ...ENDPOINT_SLICES, namespace: s.metadata!.namespace, name: s.metadata!.name }, body);
    this.remember(key, updated.metadata!.name!, updated.metadata!.resourceVersion!);
  }

  private async deleteSlice(key: string, s: EndpointSlice): Promise<void> {
    try {
      await this.ctx.client.delete({ ...ENDPOINT_SLICES, namespace: s.metadata!.namespace, name: s.metadata!.name });
    } catch (e) {
      if (!isNotFound(e)) throw new Error(`deleting EndpointSlice ${metaNamespaceKey(s)}: ${(e as Error).message}`);
    }
    if (this.services.store.getByKey(key)) this.remember(key, s.metadata!.name!, DELETED);
  }
}

function managedSlice(s: EndpointSlice): boolean {
  const l = s.metadata?.labels;
  return !!l && l[MANAGED_BY_LABEL] === CONTROLLER_NAME && !!l[SERVICE_NAME_LABEL];
}

/** The slice ports of a pod (upstream getEndpointPorts): Service ports whose target resolves on it. */
export function endpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  return normalizePorts(resolvePorts(svc, pod));
}

/** Ports in a stable order with defaults filled, so a slice read back compares equal. */
function normalizePorts(ports: EndpointPort[]): EndpointPort[] {
  return ports
    .map((p) => ({ ...p, name: p.name ?? '', protocol: p.protocol ?? 'TCP' }))
    .sort((a, b) => a.name.localeCompare(b.name) || (a.port ?? 0) - (b.port ?? 0));
}
