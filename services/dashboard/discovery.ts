/**
 * Every resource the API serves, from discovery (the apiserver's one-message discovery
 * over NATS: the same groups and resource lists as /api, /apis and their group versions,
 * APIService-served groups included). The Resources view lists them and opens any of
 * them as a generic table, so kinds added later appear without new dashboard code.
 */
import type { ApiClient } from '../../lib/client/mod.js';

export interface ServedResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  /** the group's preferred version serves it (the version `kubectl get` uses) */
  preferred: boolean;
}

/** The resources a table can show: list and watch served, subresources left out; by group (core first), preferred version first, then name. */
export async function listableResources(client: ApiClient): Promise<ServedResource[]> {
  const d = await client.discovery();
  const byGv = new Map(d.resources.map((l) => [l.groupVersion, l]));
  const out: ServedResource[] = [];
  for (const g of d.groups.groups) {
    const preferred = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
    const versions = [...g.versions.filter((v) => v.groupVersion === preferred), ...g.versions.filter((v) => v.groupVersion !== preferred)];
    for (const v of versions) {
      const rows: ServedResource[] = [];
      for (const r of byGv.get(v.groupVersion)?.resources ?? []) {
        if (r.name.includes('/') || !r.verbs.includes('list') || !r.verbs.includes('watch')) continue;
        rows.push({
          group: g.name,
          version: v.version,
          resource: r.name,
          kind: r.kind,
          namespaced: r.namespaced,
          verbs: [...r.verbs],
          shortNames: [...(r.shortNames ?? [])],
          preferred: v.groupVersion === preferred,
        });
      }
      rows.sort((a, b) => a.resource.localeCompare(b.resource));
      out.push(...rows);
    }
  }
  return out;
}

/** The preferred version's resources only: one entry per resource (what search goes over). */
export function preferredOnly(resources: ServedResource[]): ServedResource[] {
  return resources.filter((r) => r.preferred);
}
