/**
 * API aggregation, kube-aggregator's role inside this apiserver: a request under
 * /apis/<group>/<version> whose APIService names a Service goes to that Service's
 * endpoints (targets.ts, proxy.ts); an unavailable one is 503 ServiceUnavailable.
 * Discovery lists the aggregated groups beside the built-in ones: /apis from the
 * APIService objects, aggregated discovery from what each service answered its
 * availability check with (availability.ts).
 */
import type http from 'node:http';
import { ServiceUnavailableError } from '../../../lib/api/errors.js';
import type { ObjectStorage } from '../storage.js';
import type { WatchCache } from '../watchcache.js';
import { groupVersions } from '../discovery.js';
import { AvailabilityController } from './availability.js';
import { proxyTo } from './proxy.js';
import { EndpointResolveError, ApiServiceIndex } from './targets.js';

export interface AggregatorOptions {
  /** how often every APIService is checked besides on changes (default 10 s) */
  checkIntervalMs?: number;
}

interface GroupEntry {
  name: string;
  priority: number;
  versions: Array<{ apiService: any; priority: number }>;
}

export class Aggregator {
  readonly index: ApiServiceIndex;
  readonly availability: AvailabilityController;

  constructor(cache: WatchCache, storage: ObjectStorage, opts: AggregatorOptions = {}) {
    this.index = new ApiServiceIndex(cache);
    this.availability = new AvailabilityController(this.index, storage, opts.checkIntervalMs);
  }

  start(): void {
    this.availability.start();
  }

  stop(): Promise<void> {
    return this.availability.stop();
  }

  /** The remote APIService that takes a request for these path segments (["apis", group, version, ...]). */
  match(segs: string[]): any | undefined {
    if (segs[0] !== 'apis' || segs.length < 3) return undefined;
    return this.index.remote(segs[1], segs[2]);
  }

  /** Sends the request to the APIService's service, or answers 503 when it is unavailable. */
  async proxy(apiService: any, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.isAvailable(apiService)) throw new ServiceUnavailableError('service unavailable');
    let endpoint: string;
    try {
      endpoint = this.index.resolve(apiService);
    } catch (e) {
      if (e instanceof EndpointResolveError) throw new ServiceUnavailableError('service unavailable');
      throw e;
    }
    await proxyTo(endpoint, req, res);
  }

  private isAvailable(apiService: any): boolean {
    const checked = this.availability.get(apiService.metadata.name);
    if (checked) return checked.available;
    // not checked by this apiserver yet: what the condition says
    return (apiService.status?.conditions ?? []).some((c: any) => c.type === 'Available' && c.status === 'True');
  }

  /** Groups served only through APIServices, highest groupPriorityMinimum first, versions by versionPriority. */
  private groups(): GroupEntry[] {
    const local = new Set(groupVersions().map((gv) => gv.group));
    const byGroup = new Map<string, GroupEntry>();
    for (const a of this.index.list()) {
      const g: string = a.spec?.group ?? '';
      if (!g || local.has(g) || !a.spec?.service) continue;
      let e = byGroup.get(g);
      if (!e) byGroup.set(g, (e = { name: g, priority: 0, versions: [] }));
      e.priority = Math.max(e.priority, a.spec.groupPriorityMinimum ?? 0);
      e.versions.push({ apiService: a, priority: a.spec.versionPriority ?? 0 });
    }
    const out = [...byGroup.values()].sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : 1));
    for (const e of out) e.versions.sort((a, b) => b.priority - a.priority || (a.apiService.spec.version < b.apiService.spec.version ? -1 : 1));
    return out;
  }

  /** APIGroup entries for /apis (and the NATS discovery document). */
  apiGroups(): object[] {
    return this.groups().map((g) => {
      const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v.apiService.spec.version}`, version: v.apiService.spec.version }));
      return { name: g.name, versions, preferredVersion: versions[0] };
    });
  }

  /** GET /apis/<group> for an aggregated group. */
  apiGroup(group: string): object | undefined {
    const g = this.apiGroups().find((x: any) => x.name === group);
    return g && { kind: 'APIGroup', apiVersion: 'v1', ...g };
  }

  /** The aggregated groups and the APIResourceLists their servers answered, for the NATS discovery document. */
  discoveryDocument(): { groups: object[]; resources: object[] } {
    const resources: object[] = [];
    for (const g of this.groups()) {
      for (const v of g.versions) {
        const list = this.availability.get(v.apiService.metadata.name)?.resources ?? this.lastResources.get(v.apiService.metadata.name);
        if (list?.kind === 'APIResourceList') resources.push(list);
      }
    }
    return { groups: this.apiGroups(), resources };
  }

  /**
   * The APIGroupDiscovery items of the aggregated groups: each version with the resources
   * its service listed, "Stale" when the service no longer answers.
   */
  discoveryItems(): object[] {
    const items: object[] = [];
    for (const g of this.groups()) {
      const versions: object[] = [];
      for (const v of g.versions) {
        const state = this.availability.get(v.apiService.metadata.name);
        const list = state?.resources ?? this.lastResources.get(v.apiService.metadata.name);
        if (!list) continue;
        if (state?.resources) this.lastResources.set(v.apiService.metadata.name, state.resources);
        versions.push({ version: v.apiService.spec.version, resources: toResourceDiscovery(g.name, v.apiService.spec.version, list), freshness: state?.available ? 'Current' : 'Stale' });
      }
      if (versions.length) items.push({ metadata: { name: g.name, creationTimestamp: null }, versions });
    }
    return items;
  }

  private readonly lastResources = new Map<string, any>();
}

/** An APIResourceList's entries as aggregated discovery's APIResourceDiscovery (subresources folded in). */
function toResourceDiscovery(group: string, version: string, list: any): object[] {
  const resources = new Map<string, Record<string, any>>();
  const subs: any[] = [];
  for (const r of list?.resources ?? []) {
    if (typeof r?.name !== 'string') continue;
    if (r.name.includes('/')) {
      subs.push(r);
      continue;
    }
    const d: Record<string, any> = {
      resource: r.name,
      responseKind: { group: r.group ?? group, version: r.version ?? version, kind: r.kind },
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singularName || r.name,
      verbs: r.verbs ?? [],
    };
    if (r.shortNames?.length) d.shortNames = r.shortNames;
    if (r.categories?.length) d.categories = r.categories;
    resources.set(r.name, d);
  }
  for (const s of subs) {
    const [parent, sub] = s.name.split('/');
    const p = resources.get(parent);
    if (!p) continue;
    (p.subresources ??= []).push({ subresource: sub, responseKind: { group: s.group ?? group, version: s.version ?? version, kind: s.kind }, verbs: s.verbs ?? [] });
  }
  return [...resources.values()];
}
