/**
 * The Endpoints controller (upstream pkg/controller/endpoint, v1.31): for every Service
 * with a selector, the core/v1 Endpoints object of the same name, listing the selected
 * pods that have an IP as addresses (ready, or the Service publishes unready pods) or
 * notReadyAddresses, in subsets grouped by their resolved port set (upstream
 * RepackSubsets: addresses sorted by IP, ports by name). At most 1000 addresses are kept,
 * as upstream, with the over-capacity annotation saying they were truncated. The object
 * is written only when it changes and deleted with its Service. Unlike EndpointSlices,
 * Endpoints carry no ownerReference.
 */
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSubset, Pod, Service } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from '../../../../lib/api/errors.js';
import { type EventRecorder, NAMESPACE_INDEX, Resources, type SharedInformer, splitMetaNamespaceKey } from '../../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../../lib/controller/mod.js';
import { derivedLabels, podHostname, podServing, resolvePorts, serviceAndPodHandlers, serviceSelector, shouldPodBeInEndpoints } from './serviceendpoints.js';
import { canonicalJson } from '../../../../lib/api/canonical.js';

export const MAX_CAPACITY = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

export class EndpointsController extends QueueController {
  private readonly services: SharedInformer<Service>;
  private readonly pods: SharedInformer<Pod>;
  private readonly endpoints: SharedInformer<Endpoints>;
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext) {
    super('endpoint', ctx);
    this.recorder = ctx.recorder('endpoint-controller');
    this.services = ctx.informers.forResource<Service>(Resources.services);
    this.pods = ctx.informers.forResource<Pod>(Resources.pods);
    this.endpoints = ctx.informers.forResource<Endpoints>(Resources.endpoints);
    const handlers = serviceAndPodHandlers(this.services, (s) => this.enqueue(s));
    this.handle(this.services, handlers.services);
    this.handle(this.pods, handlers.pods);
    // an Endpoints object of a selector Service deleted by someone else comes back
    this.handle(this.endpoints, { onDelete: (e) => this.enqueue(e) });
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const ref = { ...Resources.endpoints, namespace, name };
    const svc = this.services.store.getByKey(key);
    if (!svc) {
      try {
        await this.ctx.client.delete(ref);
      } catch (e) {
        if (!isNotFound(e)) throw new Error(`deleting Endpoints ${key}: ${(e as Error).message}`);
      }
      return;
    }
    const selector = serviceSelector(svc);
    if (!selector) return;
    const includeTerminating = svc.spec?.publishNotReadyAddresses === true;
    const pods = this.pods.store.byIndex(NAMESPACE_INDEX, namespace).filter((p) => selector.matches(p.metadata?.labels ?? {}) && shouldPodBeInEndpoints(p, includeTerminating));
    const { subsets, truncated } = computeSubsets(svc, pods);

    const current = this.endpoints.store.getByKey(key);
    const labels = derivedLabels(svc);
    const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    if (
      current &&
      canonicalJson(current.subsets ?? []) === canonicalJson(subsets) &&
      canonicalJson(current.metadata?.labels ?? {}) === canonicalJson(labels) &&
      canonicalJson(current.metadata?.annotations ?? {}) === canonicalJson(annotations)
    ) {
      return;
    }
    const body: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { ...(current?.metadata ?? {}), name, namespace, labels, annotations },
      subsets,
    };
    try {
      if (current) await this.ctx.client.update<Endpoints>(ref, body);
      else await this.ctx.client.create<Endpoints>({ ...Resources.endpoints, namespace }, body);
    } catch (e) {
      // the cache lagged behind our own create: the next sync updates it
      if (isAlreadyExists(e)) throw new Error(`Endpoints ${key} exists but is not yet in the cache`);
      this.recorder.eventf(svc, undefined, 'Warning', 'FailedToUpdateEndpoint', 'Update', `Failed to update endpoint ${key}: ${(e as Error).message}`);
      throw new Error(`writing Endpoints ${key}: ${(e as Error).message}`);
    }
  }
}

/**
 * The subsets of a Service's pods: one per distinct resolved port set, ready pods in
 * addresses and others in notReadyAddresses, addresses sorted by IP; past MAX_CAPACITY
 * addresses the rest are dropped (ready ones kept first).
 */
export function computeSubsets(svc: Service, pods: Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    const ports: EndpointPort[] = resolvePorts(svc, pod);
    // a Service with ports none of which resolve on this pod gets nothing from it
    if ((svc.spec?.ports?.length ?? 0) > 0 && ports.length === 0) continue;
    ports.sort((a, b) => a.name!.localeCompare(b.name!) || a.port - b.port);
    const pkey = canonicalJson(ports);
    let g = groups.get(pkey);
    if (!g) groups.set(pkey, (g = { ports, ready: [], notReady: [] }));
    const addr: EndpointAddress = {
      ip: pod.status!.podIP!,
      targetRef: { kind: 'Pod', namespace: pod.metadata!.namespace, name: pod.metadata!.name, uid: pod.metadata!.uid },
    };
    const hostname = podHostname(svc, pod);
    if (hostname) addr.hostname = hostname;
    if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
    (podServing(svc, pod) ? g.ready : g.notReady).push(addr);
  }
  let budget = MAX_CAPACITY;
  let truncated = false;
  const take = (addrs: EndpointAddress[]) => {
    addrs.sort((a, b) => compareIp(a.ip, b.ip));
    if (addrs.length > budget) {
      truncated = true;
      addrs = addrs.slice(0, budget);
    }
    budget -= addrs.length;
    return addrs;
  };
  const sorted = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => g);
  for (const g of sorted) g.ready = take(g.ready);
  for (const g of sorted) g.notReady = take(g.notReady);
  const subsets: EndpointSubset[] = [];
  for (const g of sorted) {
    if (!g.ready.length && !g.notReady.length) continue;
    const s: EndpointSubset = {};
    if (g.ready.length) s.addresses = g.ready;
    if (g.notReady.length) s.notReadyAddresses = g.notReady;
    if (g.ports.length) s.ports = g.ports;
    subsets.push(s);
  }
  return { subsets, truncated };
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.localeCompare(b);
}
