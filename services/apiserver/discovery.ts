/**
 * API discovery: /version, /api, /apis, group-version resource lists, and aggregated
 * discovery (apidiscovery.k8s.io v2 and v2beta1) in one response per root.
 */
import type { SubresourceName } from '../../lib/schema/types.js';
import { KUBERNETES_VERSION as SERVER_VERSION } from '../../lib/api/version.js';
import { servedKinds, type ServedKind } from './kinds.js';

export function versionInfo(): object {
  return {
    major: SERVER_VERSION.major,
    minor: SERVER_VERSION.minor,
    gitVersion: SERVER_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-11-24T00:00:00Z',
    goVersion: 'go1.22.0',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

interface SubresourceInfo {
  verbs: string[];
  kind: { group: string; version: string; kind: string };
}

function subresourceInfo(k: ServedKind, s: SubresourceName): SubresourceInfo {
  const self = { group: k.def.group, version: k.def.version, kind: k.def.kind };
  switch (s) {
    case 'status':
      return { verbs: ['get', 'patch', 'update'], kind: self };
    case 'scale':
      return { verbs: ['get', 'patch', 'update'], kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } };
    case 'binding':
      return { verbs: ['create'], kind: { group: '', version: 'v1', kind: 'Binding' } };
    case 'log':
      return { verbs: ['get'], kind: { group: '', version: 'v1', kind: 'Pod' } };
    case 'token':
      return { verbs: ['create'], kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } };
    case 'eviction':
      return { verbs: ['create'], kind: { group: 'policy', version: 'v1', kind: 'Eviction' } };
    case 'ephemeralcontainers':
      return { verbs: ['get', 'patch', 'update'], kind: self };
    case 'exec':
      return { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodExecOptions' } };
    case 'attach':
      return { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodAttachOptions' } };
    case 'portforward':
      return { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' } };
  }
  return { verbs: [], kind: self };
}

function verbsOf(k: ServedKind): string[] {
  return [...(k.def.verbs ?? ALL_VERBS)].sort();
}

/** Group versions in serving order: core first, then groups by name. */
export function groupVersions(): Array<{ group: string; version: string; kinds: ServedKind[] }> {
  const m = new Map<string, { group: string; version: string; kinds: ServedKind[] }>();
  for (const k of servedKinds()) {
    const key = `${k.def.group}/${k.def.version}`;
    let gv = m.get(key);
    if (!gv) m.set(key, (gv = { group: k.def.group, version: k.def.version, kinds: [] }));
    gv.kinds.push(k);
  }
  return [...m.values()].sort((a, b) => (a.group === b.group ? 0 : a.group === '' ? -1 : b.group === '' ? 1 : a.group < b.group ? -1 : 1));
}

export function apiVersions(host: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }],
  };
}

function apiGroup(group: string, versions: string[]): object {
  // the core group's group versions are bare ("v1"), as /api lists them
  const gv = (v: string) => (group ? `${group}/${v}` : v);
  return {
    name: group,
    versions: versions.map((v) => ({ groupVersion: gv(v), version: v })),
    preferredVersion: { groupVersion: gv(versions[0]), version: versions[0] },
  };
}

export function apiGroupList(): object {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions()) {
    if (!gv.group) continue;
    const vs = groups.get(gv.group) ?? [];
    vs.push(gv.version);
    groups.set(gv.group, vs);
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([g, vs]) => apiGroup(g, vs)) };
}

export function apiGroupInfo(group: string): object | undefined {
  const vs = groupVersions().filter((gv) => gv.group === group).map((gv) => gv.version);
  if (!vs.length) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, vs) };
}

export function apiResourceList(group: string, version: string): object | undefined {
  const gv = groupVersions().find((x) => x.group === group && x.version === version);
  if (!gv) return undefined;
  const resources: object[] = [];
  for (const k of gv.kinds) {
    const r: Record<string, unknown> = {
      name: k.def.plural,
      singularName: k.def.singular,
      namespaced: k.def.namespaced,
      kind: k.def.kind,
      verbs: verbsOf(k),
    };
    if (k.def.shortNames?.length) r.shortNames = k.def.shortNames;
    if (k.def.categories?.length) r.categories = k.def.categories;
    resources.push(r);
    for (const s of k.def.subresources ?? []) {
      const info = subresourceInfo(k, s);
      const sr: Record<string, unknown> = {
        name: `${k.def.plural}/${s}`,
        singularName: '',
        namespaced: k.def.namespaced,
        kind: info.kind.kind,
        verbs: info.verbs,
      };
      if (info.kind.group !== k.def.group) sr.group = info.kind.group;
      if (info.kind.version !== k.def.version) sr.version = info.kind.version;
      resources.push(sr);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

/**
 * The whole discovery in one document (the NATS `discovery` verb, lib/client/protocol.ts
 * DiscoveryReply): the APIGroupList of /apis with the core group first under the name ""
 * (as client-go's ServerGroups folds /api into it), and the APIResourceList of every
 * served group version, as GET /api/v1 and /apis/<group>/<version> answer.
 */
export function discoveryDocument(aggregated?: { groups: object[]; resources: object[] }): { groups: object; resources: object[] } {
  const list = apiGroupList() as { groups: object[] };
  const core = groupVersions().filter((gv) => gv.group === '').map((gv) => gv.version);
  if (core.length) list.groups.unshift(apiGroup('', core));
  const resources = groupVersions().map((gv) => apiResourceList(gv.group, gv.version)!);
  // the groups served through APIServices, with what their servers listed
  if (aggregated) {
    list.groups.push(...aggregated.groups);
    resources.push(...aggregated.resources);
  }
  return { groups: list, resources };
}

/** apidiscovery.k8s.io APIGroupDiscoveryList for /api (core) or /apis (all other groups). */
export function aggregatedDiscovery(root: 'api' | 'apis', version: 'v2' | 'v2beta1'): object {
  const byGroup = new Map<string, object[]>();
  for (const gv of groupVersions()) {
    if ((root === 'api') !== (gv.group === '')) continue;
    const resources = gv.kinds.map((k) => {
      const r: Record<string, unknown> = {
        resource: k.def.plural,
        responseKind: { group: k.def.group, version: k.def.version, kind: k.def.kind },
        scope: k.def.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: k.def.singular,
        verbs: verbsOf(k),
      };
      if (k.def.shortNames?.length) r.shortNames = k.def.shortNames;
      if (k.def.categories?.length) r.categories = k.def.categories;
      const subs = (k.def.subresources ?? []).map((s) => {
        const info = subresourceInfo(k, s);
        return { subresource: s, responseKind: info.kind, verbs: info.verbs };
      });
      if (subs.length) r.subresources = subs;
      return r;
    });
    const versions = byGroup.get(gv.group) ?? [];
    versions.push({ version: gv.version, resources, freshness: 'Current' });
    byGroup.set(gv.group, versions);
  }
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: [...byGroup].map(([name, versions]) => ({ metadata: { name, creationTimestamp: null }, versions })),
  };
}
