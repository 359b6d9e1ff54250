/** What client-go's discovery helpers make of the apiserver's discovery reply. */
import type { APIResourceList } from 'kubernetes-types/meta/v1.js';
import type { DiscoveryReply } from './protocol.js';

export interface PreferredResourcesOptions {
  /** true: only namespaced resources; false: only cluster-scoped ones; unset: both */
  namespaced?: boolean;
}

/**
 * What client-go's ServerPreferredResources makes of a discovery: for each group, the
 * resources of its preferred version, plus any resource only other versions serve, taken
 * from the first of them in the group's order. Subresources ("pods/status") are left
 * out, and so are lists the filter leaves empty. Lists are in the group's version order.
 */
export function preferredResources(d: DiscoveryReply, opts: PreferredResourcesOptions = {}): APIResourceList[] {
  const byGroupVersion = new Map(d.resources.map((l) => [l.groupVersion, l]));
  const out: APIResourceList[] = [];
  for (const g of d.groups.groups) {
    const preferred = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
    const order = [...g.versions.filter((v) => v.groupVersion === preferred), ...g.versions.filter((v) => v.groupVersion !== preferred)];
    // which version each resource is taken from
    const chosen = new Map<string, string>();
    for (const v of order) {
      for (const r of byGroupVersion.get(v.groupVersion)?.resources ?? []) {
        if (!r.name.includes('/') && !chosen.has(r.name)) chosen.set(r.name, v.groupVersion);
      }
    }
    for (const v of g.versions) {
      const list = byGroupVersion.get(v.groupVersion);
      if (!list) continue;
      const resources = list.resources.filter(
        (r) => chosen.get(r.name) === v.groupVersion && (opts.namespaced === undefined || r.namespaced === opts.namespaced),
      );
      if (resources.length) out.push({ groupVersion: v.groupVersion, resources });
    }
  }
  return out;
}
