/**
 * Which server answers an aggregated group version: the APIService named
 * "<version>.<group>" names a Service; the Service's port is resolved to one ready
 * endpoint of its EndpointSlices, as upstream's aggregator does with
 * --enable-aggregator-routing (no cluster IPs or kube-proxy on the way).
 */
import { DEFAULT_APISERVICE_PORT } from '../../../lib/schema/kinds/apiregistration-v1.js';
import { findKind } from '../kinds.js';
import type { WatchCache } from '../watchcache.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Why an APIService's service has no endpoint to send to: upstream's Available=False reasons. */
export class EndpointResolveError extends Error {
  constructor(
    readonly reason: 'ServiceNotFound' | 'ServicePortError' | 'MissingEndpoints',
    message: string,
  ) {
    super(message);
    this.name = 'EndpointResolveError';
  }
}

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

/** The APIService objects of the cache, by group version. */
export class ApiServiceIndex {
  private readonly apiServices = findKind('apiregistration.k8s.io', 'v1', 'apiservices')!.storage;
  private readonly services = findKind('', 'v1', 'services')!.storage;
  private readonly slices = findKind('discovery.k8s.io', 'v1', 'endpointslices')!.storage;

  constructor(readonly cache: WatchCache) {}

  get resource(): string {
    return this.apiServices;
  }

  /** Every APIService, as stored. */
  list(): any[] {
    return [...this.cache.list(this.apiServices)].map((c) => c.obj);
  }

  /** The APIService of group/version when it names a service (a proxied group version). */
  remote(group: string, version: string): any | undefined {
    const o = this.cache.get(this.apiServices, '', `${version}.${group}`)?.obj;
    return o?.spec?.service ? o : undefined;
  }

  /** Whether any APIService serves this group (local ones included). */
  hasGroup(group: string): boolean {
    return this.list().some((a) => a.spec?.group === group);
  }

  /** host:port of one ready endpoint behind the APIService's service. */
  resolve(apiService: any): string {
    const ref: ServiceRef = { namespace: apiService.spec.service.namespace, name: apiService.spec.service.name, port: apiService.spec.service.port ?? DEFAULT_APISERVICE_PORT };
    const svc = this.cache.get(this.services, ref.namespace, ref.name)?.obj;
    if (!svc) throw new EndpointResolveError('ServiceNotFound', `service/${ref.name} in "${ref.namespace}" is not present`);
    const port = (svc.spec?.ports ?? []).find((p: any) => p.port === ref.port);
    if (!port) throw new EndpointResolveError('ServicePortError', `service/${ref.name} in "${ref.namespace}" is not listening on port ${ref.port}`);
    const portName = port.name ?? '';
    const ready: string[] = [];
    for (const c of this.cache.list(this.slices, ref.namespace)) {
      const slice = c.obj;
      if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== ref.name) continue;
      const sp = (slice.ports ?? []).find((p: any) => (p.name ?? '') === portName);
      if (!sp?.port) continue;
      for (const ep of slice.endpoints ?? []) {
        // an unset ready condition means ready (discovery.k8s.io/v1)
        if (ep.conditions?.ready === false || !ep.addresses?.length) continue;
        const a = ep.addresses[0];
        ready.push(slice.addressType === 'IPv6' ? `[${a}]:${sp.port}` : `${a}:${sp.port}`);
      }
    }
    if (!ready.length) throw new EndpointResolveError('MissingEndpoints', `endpoints for service/${ref.name} in "${ref.namespace}" have no addresses with port name "${portName}"`);
    return ready[Math.floor(Math.random() * ready.length)];
  }
}
