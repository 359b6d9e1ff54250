/**
 * Global search: objects of every listable kind by name or label, on the server and
 * bounded. A query with a label-selector operator (`app=web`, `tier!=db`,
 * `env in (a,b)`) is a label selector, anything else a part of the name. Kinds the
 * dashboard already follows (its informers' rows) are searched in its cache; every other
 * kind with one list call: by labelSelector when the query is a selector, else one page
 * of at most SCAN_LIMIT objects whose names are matched (a longer list is reported as
 * partial). Events are left out (they have their own view, and name their objects).
 */
import type { ApiClient, GroupVersionResource, KubeObject } from '../../lib/client/mod.js';
import { parseSelector, type Selector } from '../../lib/api/labels.js';
import { listableResources, preferredOnly, type ServedResource } from './discovery.js';
import { QueryError, type Tables } from './tables.js';

export const MAX_RESULTS = 200;
export const PER_KIND = 50;
export const SCAN_LIMIT = 500;
const CONCURRENCY = 6;

export interface SearchHit {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

export interface SearchResult {
  hits: SearchHit[];
  /** more matched than were returned (MAX_RESULTS in all, PER_KIND per kind) */
  truncated: boolean;
  /** kinds whose objects were not all looked at (a name search over more than SCAN_LIMIT) */
  partial: string[];
  /** kinds whose list failed, with why */
  errors: Array<{ resource: string; message: string }>;
  searched: number;
}

/** A query is a label selector when it has a selector operator; else it is a part of a name. */
export function parseQuery(q: string): { text: string } | { selector: Selector; labelSelector: string } {
  const s = q.trim();
  if (!s) throw new QueryError('search: the query is empty');
  if (/[=!]|\s(not)?in\s*\(/.test(s)) {
    try {
      return { selector: parseSelector(s), labelSelector: s };
    } catch (e) {
      throw new QueryError(`search: label selector: ${(e as Error).message}`);
    }
  }
  return { text: s.toLowerCase() };
}

const EVENTS = new Set(['/events', 'events.k8s.io/events']);

export async function search(client: ApiClient, tables: Tables, args: { query?: unknown; namespace?: unknown }): Promise<SearchResult> {
  const q = parseQuery(String(args.query ?? ''));
  const namespace = typeof args.namespace === 'string' ? args.namespace : '';
  const kinds = preferredOnly(await listableResources(client)).filter((r) => !EVENTS.has(`${r.group}/${r.resource}`));
  const result: SearchResult = { hits: [], truncated: false, partial: [], errors: [], searched: kinds.length };
  const perKind = new Map<ServedResource, SearchHit[]>();
  const matchName = (name: string) => 'text' in q && name.toLowerCase().includes(q.text);
  const matches = (name: string, labels: Record<string, string> | undefined) => ('text' in q ? matchName(name) : q.selector.matches(labels));
  const one = async (r: ServedResource): Promise<void> => {
    const hits: SearchHit[] = [];
    const add = (ns: string, name: string, labels: Record<string, string> | undefined) => {
      if (hits.length >= PER_KIND) return void (result.truncated = true);
      hits.push({ group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespace: ns, name, labels: labels ?? {} });
    };
    const gvr: GroupVersionResource = { group: r.group, version: r.version, resource: r.resource };
    const held = tables.held(gvr);
    if (held?.hasSynced()) {
      for (const row of held.rows.values()) {
        if (namespace && row.namespace && row.namespace !== namespace) continue;
        if (matches(row.name, row.labels)) add(row.namespace, row.name, row.labels);
      }
    } else {
      const where = { ...gvr, namespace: r.namespaced && namespace ? namespace : undefined };
      const list = await client.list<KubeObject>(where, 'labelSelector' in q ? { labelSelector: q.labelSelector, limit: PER_KIND + 1 } : { limit: SCAN_LIMIT });
      if ('text' in q && list.metadata?.continue) result.partial.push(r.group ? `${r.resource}.${r.group}` : r.resource);
      if ('labelSelector' in q && list.metadata?.continue) result.truncated = true;
      for (const o of list.items) {
        const name = o.metadata?.name ?? '';
        if (matches(name, o.metadata?.labels as Record<string, string> | undefined)) add(o.metadata?.namespace ?? '', name, o.metadata?.labels as Record<string, string> | undefined);
      }
    }
    hits.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    perKind.set(r, hits);
  };
  // a few kinds at a time: a cluster with many groups does not get every list at once
  let next = 0;
  const worker = async () => {
    while (next < kinds.length) {
      const r = kinds[next++]!;
      await one(r).catch((e: Error) => result.errors.push({ resource: r.group ? `${r.resource}.${r.group}` : r.resource, message: e.message }));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // in discovery's order (core first), so the same query gives the same page
  for (const r of kinds) {
    for (const h of perKind.get(r) ?? []) {
      if (result.hits.length >= MAX_RESULTS) {
        result.truncated = true;
        break;
      }
      result.hits.push(h);
    }
  }
  return result;
}
