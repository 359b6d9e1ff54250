/**
 * Server-side printing: metav1 Table responses built from each kind's printer columns,
 * as `kubectl get` asks for them (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
 */
import type { ServedKind } from './kinds.js';

const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Kinds that declare their own name column (events: last, wide only) get no leading NAME. */
function hasOwnName(kind: ServedKind): boolean {
  return kind.def.columns.some((c) => c.format === 'name');
}

export function columnDefinitions(kind: ServedKind): object[] {
  return [
    ...(hasOwnName(kind) ? [] : [NAME_COLUMN]),
    ...kind.def.columns.map((c) => ({
      name: c.name,
      type: c.type === 'date' ? 'string' : c.type,
      format: c.type === 'date' ? 'date' : (c.format ?? ''),
      description: c.description,
      priority: c.priority,
    })),
  ];
}

function rowObject(obj: any, include: IncludeObject): object | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function tableRow(kind: ServedKind, obj: any, include: IncludeObject, now: number): object {
  const cells: unknown[] = hasOwnName(kind) ? [] : [obj.metadata?.name ?? ''];
  for (const c of kind.def.columns) {
    let v: unknown;
    try {
      v = c.value(obj, now);
    } catch {
      v = '<error>';
    }
    cells.push(v ?? (c.type === 'integer' || c.type === 'number' ? 0 : '<none>'));
  }
  const row: Record<string, unknown> = { cells };
  const o = rowObject(obj, include);
  if (o) row.object = o;
  return row;
}

export function table(
  kind: ServedKind,
  objs: Iterable<any>,
  opts: { include: IncludeObject; withColumns: boolean; resourceVersion?: string; continue?: string; remainingItemCount?: number },
): object {
  const now = Date.now();
  const rows: object[] = [];
  for (const o of objs) rows.push(tableRow(kind, o, opts.include, now));
  const metadata: Record<string, unknown> = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  const t: Record<string, unknown> = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata };
  t.columnDefinitions = opts.withColumns ? columnDefinitions(kind) : null;
  t.rows = rows;
  return t;
}
