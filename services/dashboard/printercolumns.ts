/**
 * Rows for any kind the API serves: the printer columns the apiserver's Table output uses
 * (`kubectl get`, `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`). The dashboard
 * reads the cluster over NATS, which has no Table verb, so it applies the same column
 * definitions (lib/schema, the ones services/apiserver/table.ts prints) to the objects
 * its informers hold. A resource whose kind this build does not define (a group served
 * through an APIService) gets name, namespace and age.
 */
import '../../lib/schema/kinds/mod.js';
import { allKinds } from '../../lib/schema/registry.js';
import type { KindDef } from '../../lib/schema/types.js';
import type { GroupVersionResource } from '../../lib/client/mod.js';
import { COLUMNS, GENERIC, type Cell, type Column, type KindColumns } from './columns.js';

const ts = (s: string | undefined): number => (s ? Date.parse(s) : 0);

export function kindDefOf(gvr: GroupVersionResource): KindDef | undefined {
  return allKinds().find((k) => k.group === gvr.group && k.version === gvr.version && k.plural === gvr.resource);
}

/**
 * Name, Namespace (namespaced kinds: as `kubectl get -A` adds it), then the kind's
 * priority-0 printer columns. "Age" is kept as the creation time so it sorts and the
 * browser renders it as it passes; the other cells are computed when the object changes.
 */
export function printerColumns(def: KindDef): KindColumns {
  const own = def.columns.filter((c) => c.priority === 0 && c.format !== 'name');
  const columns: Column[] = [{ name: 'Name' }];
  if (def.namespaced) columns.push({ name: 'Namespace' });
  for (const c of own) columns.push({ name: c.name, type: c.name === 'Age' ? 'age' : c.type === 'integer' || c.type === 'number' ? 'number' : 'text' });
  return {
    columns,
    cells(o: any): Cell[] {
      const now = Date.now();
      const cells: Cell[] = [o.metadata?.name ?? ''];
      if (def.namespaced) cells.push(o.metadata?.namespace ?? '');
      for (const c of own) {
        if (c.name === 'Age') {
          cells.push(ts(o.metadata?.creationTimestamp));
          continue;
        }
        let v: unknown;
        try {
          v = c.value(o, now);
        } catch {
          v = '<error>';
        }
        cells.push(typeof v === 'number' ? v : v === null || v === undefined ? (c.type === 'integer' || c.type === 'number' ? 0 : '<none>') : String(v));
      }
      return cells;
    },
  };
}

/**
 * An EndpointSlice's endpoints in full (the printer column stops at three): the service
 * view lists them. Each is "address (ready|not ready) pod/name on node".
 */
export const ENDPOINT_SLICES: KindColumns = {
  columns: [{ name: 'Name' }, { name: 'Namespace' }, { name: 'Service' }, { name: 'Ports' }, { name: 'Ready', type: 'number' }, { name: 'Endpoints' }, { name: 'Age', type: 'age' }],
  cells: (o: any) => [
    o.metadata?.name ?? '',
    o.metadata?.namespace ?? '',
    o.metadata?.labels?.['kubernetes.io/service-name'] ?? '',
    (o.ports ?? []).map((p: any) => `${p.name ? `${p.name}:` : ''}${p.port ?? '*'}/${p.protocol ?? 'TCP'}`).join(', '),
    (o.endpoints ?? []).filter((e: any) => e.conditions?.ready !== false).length,
    (o.endpoints ?? [])
      .map((e: any) => {
        const target = e.targetRef ? ` ${String(e.targetRef.kind ?? '').toLowerCase()}/${e.targetRef.name}` : '';
        return `${(e.addresses ?? []).join(',')} (${e.conditions?.ready === false ? 'not ready' : 'ready'})${target}${e.nodeName ? ` on ${e.nodeName}` : ''}`;
      })
      .join('; '),
    ts(o.metadata?.creationTimestamp),
  ],
};

/** The groups the dashboard's own columns (columns.ts, by resource name) are written for. */
const OWN_GROUPS = new Set(['', 'apps', 'batch']);

/** The dashboard's own columns for the kinds its views know (columns.ts), else the printer columns, else the generic ones. */
export function kindColumns(gvr: GroupVersionResource): KindColumns {
  if (OWN_GROUPS.has(gvr.group) && COLUMNS[gvr.resource]) return COLUMNS[gvr.resource]!;
  if (gvr.group === 'discovery.k8s.io' && gvr.resource === 'endpointslices') return ENDPOINT_SLICES;
  const def = kindDefOf(gvr);
  return def ? printerColumns(def) : GENERIC;
}
