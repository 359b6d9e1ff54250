/**
 * The server side of every list the browser shows. A ResourceTable follows one resource
 * with an informer (list, then watch) and keeps a row per object (columns.ts); a
 * TableView is one browser table over it: its own filter and sort over those rows, kept
 * sorted under changes by binary search, and the window the browser shows. A view sends
 * only that window (and the total), again when a change touches it, so a list of
 * 100,000 pods costs the browser one page of rows.
 */
import type { ApiClient, GroupVersionResource, KubeObject } from '../../lib/client/mod.js';
import { SharedInformer, metaNamespaceKey } from '../../lib/client/mod.js';
import { parseSelector, type Selector } from '../../lib/api/labels.js';
import type { Cell, Column, KindColumns } from './columns.js';
import { kindColumns } from './printercolumns.js';

export interface Row {
  key: string;
  namespace: string;
  name: string;
  labels: Record<string, string> | undefined;
  cells: Cell[];
}

type RowListener = (old: Row | undefined, row: Row | undefined) => void;

export function gvrKey(g: GroupVersionResource): string {
  return `${g.group}/${g.version}/${g.resource}`;
}

/**
 * What the cache keeps of an object: the rows need only a few fields, and at 100,000 pods
 * managed fields, annotations and container specs are most of the memory. A view that
 * shows a whole object reads it from the API.
 */
function slim<T extends KubeObject>(obj: T): T {
  const o = obj as any;
  if (o.metadata) {
    delete o.metadata.managedFields;
    delete o.metadata.annotations;
  }
  return obj;
}

/** A pod as the cache keeps it: the pod table's and the overview's fields, and its containers' requests. */
function slimPod<T extends KubeObject>(obj: T): T {
  const o = slim(obj) as any;
  {
    // requests stay for the nodes' allocation bars (allocation.ts)
    o.spec = { nodeName: o.spec?.nodeName, containers: (o.spec?.containers ?? []).map((c: any) => (c.resources?.requests ? { name: c.name, resources: { requests: c.resources.requests } } : { name: c.name })) };
    if (o.status) delete o.status.conditions;
  }
  return obj;
}

export class ResourceTable {
  readonly informer: SharedInformer<KubeObject>;
  readonly columns: Column[];
  readonly rows = new Map<string, Row>();
  private readonly listeners = new Set<RowListener>();
  private readonly kind: KindColumns;

  constructor(
    client: ApiClient,
    readonly gvr: GroupVersionResource,
  ) {
    this.kind = kindColumns(gvr);
    this.columns = this.kind.columns;
    this.informer = new SharedInformer<KubeObject>(client, gvr, {
      transform: gvr.resource === 'pods' && gvr.group === '' ? slimPod : slim,
      onError: (e) => console.error(`dashboard: list/watch of ${gvrKey(gvr)} failed, will re-list: ${(e as Error).message}`),
    });
    this.informer.addEventHandler({
      onAdd: (o) => this.put(o),
      onUpdate: (_, o) => this.put(o),
      onDelete: (o) => {
        const key = 'key' in o && typeof o.key === 'string' ? o.key : metaNamespaceKey(o as KubeObject);
        const old = this.rows.get(key);
        if (!old) return;
        this.rows.delete(key);
        for (const l of this.listeners) l(old, undefined);
      },
    });
    this.informer.start();
  }

  private put(o: KubeObject): void {
    const key = metaNamespaceKey(o);
    const row: Row = { key, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '', labels: o.metadata?.labels as Record<string, string> | undefined, cells: this.kind.cells(o) };
    const old = this.rows.get(key);
    this.rows.set(key, row);
    for (const l of this.listeners) l(old, row);
  }

  listen(l: RowListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

/** The tables of one identity's client, one per resource, started on first use and kept warm. */
export class Tables {
  private readonly tables = new Map<string, ResourceTable>();
  constructor(private readonly client: ApiClient) {}

  get(gvr: GroupVersionResource): ResourceTable {
    const key = gvrKey(gvr);
    let t = this.tables.get(key);
    if (!t) this.tables.set(key, (t = new ResourceTable(this.client, gvr)));
    return t;
  }

  /** The table of a resource if one is already kept (search reads it rather than list). */
  held(gvr: GroupVersionResource): ResourceTable | undefined {
    return this.tables.get(gvrKey(gvr));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.tables.values()].map((t) => t.stop()));
  }
}

export interface ViewQuery {
  /** only this namespace ('' or absent: all); cluster-scoped objects pass (the header's namespace applies to every list) */
  namespace?: string;
  /** a substring of the name, case-insensitive */
  text?: string;
  /** a label selector, as kubectl -l takes it */
  labelSelector?: string;
  /** cells that must equal a value, by column name (e.g. {Type: 'Warning'}, {Node: 'n1'}) */
  where?: Record<string, string>;
  /** cells that must contain a text, case-insensitive, by column name (e.g. {Object: 'pod/web'}) */
  contains?: Record<string, string>;
  /** the column to sort by (default the first) and its direction */
  sort?: { column: string; desc?: boolean };
}

export interface Page {
  total: number;
  offset: number;
  rows: Array<{ key: string; namespace: string; name: string; cells: Cell[] }>;
  synced: boolean;
}

/** Bad input from the browser (an unparsable selector, an unknown column): told back, not thrown further. */
export class QueryError extends Error {}

export class TableView {
  private sorted: Row[] = [];
  private match!: (r: Row) => boolean;
  private compare!: (a: Row, b: Row) => number;
  private offset = 0;
  private limit = 50;
  private unlisten: () => void;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = '';
  private dirty = true;
  private closed = false;

  constructor(
    readonly table: ResourceTable,
    query: ViewQuery,
    /** the page as JSON: it is encoded once, for the comparison with the last one and the socket */
    private readonly send: (pageJson: string) => void,
    /** the shortest time between two pages, so a storm of changes costs few messages */
    private readonly minIntervalMs = 100,
  ) {
    this.setQuery(query);
    this.unlisten = table.listen((old, row) => this.onChange(old, row));
    // the page sent before the sync says "not synced": once synced it is sent again, even
    // when no object came (an empty list would otherwise stay "loading" in the browser)
    if (!table.hasSynced()) void table.informer.waitForSync().then(() => ((this.dirty = true), this.schedule()), () => undefined);
  }

  /** A new filter or sort: the rows are filtered and sorted again. */
  setQuery(q: ViewQuery): void {
    const cols = this.table.columns;
    const colIndex = (name: string) => {
      const i = cols.findIndex((c) => c.name === name);
      if (i < 0) throw new QueryError(`no column "${name}" (columns: ${cols.map((c) => c.name).join(', ')})`);
      return i;
    };
    let selector: Selector | undefined;
    if (q.labelSelector?.trim()) {
      try {
        selector = parseSelector(q.labelSelector.trim());
      } catch (e) {
        throw new QueryError(`label selector: ${(e as Error).message}`);
      }
    }
    const where = Object.entries(q.where ?? {}).map(([k, v]) => [colIndex(k), v] as const);
    const contains = Object.entries(q.contains ?? {})
      .filter(([, v]) => v.trim())
      .map(([k, v]) => [colIndex(k), v.trim().toLowerCase()] as const);
    const ns = q.namespace || '';
    const text = q.text?.trim().toLowerCase() ?? '';
    this.match = (r) =>
      (!ns || !r.namespace || r.namespace === ns) &&
      (!text || r.name.toLowerCase().includes(text)) &&
      (!selector || selector.matches(r.labels)) &&
      where.every(([i, v]) => String(r.cells[i]) === v) &&
      contains.every(([i, v]) => String(r.cells[i]).toLowerCase().includes(v));
    const si = q.sort ? colIndex(q.sort.column) : 0;
    const dir = q.sort?.desc ? -1 : 1;
    this.compare = (a, b) => {
      const x = a.cells[si]!;
      const y = b.cells[si]!;
      if (x < y) return -dir;
      if (x > y) return dir;
      return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    };
    const rows: Row[] = [];
    for (const r of this.table.rows.values()) if (this.match(r)) rows.push(r);
    rows.sort(this.compare);
    this.sorted = rows;
    this.dirty = true;
    this.schedule(0);
  }

  /** The window the browser shows moved (scrolling, resizing). */
  setWindow(offset: number, limit: number): void {
    this.offset = Math.max(0, Math.floor(offset));
    this.limit = Math.min(500, Math.max(1, Math.floor(limit)));
    this.dirty = true;
    this.schedule(0);
  }

  private position(r: Row): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.sorted[mid]!, r) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private onChange(old: Row | undefined, row: Row | undefined): void {
    let touched = false;
    if (old && this.match(old)) {
      const i = this.position(old);
      if (this.sorted[i]?.key === old.key) {
        this.sorted.splice(i, 1);
        touched = true;
      } else {
        // the old row is not where its cells say (it cannot happen while rows are immutable): find it the slow way
        const j = this.sorted.findIndex((r) => r.key === old.key);
        if (j >= 0) this.sorted.splice(j, 1), (touched = true);
      }
    }
    if (row && this.match(row)) {
      this.sorted.splice(this.position(row), 0, row);
      touched = true;
    }
    if (touched) {
      this.dirty = true;
      this.schedule();
    }
  }

  private schedule(delay = this.minIntervalMs): void {
    // a closed view's id may be taken by a new view already: nothing more goes out under it
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }

  private flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const end = Math.min(this.sorted.length, this.offset + this.limit);
    const rows = [];
    for (let i = this.offset; i < end; i++) {
      const r = this.sorted[i]!;
      rows.push({ key: r.key, namespace: r.namespace, name: r.name, cells: r.cells });
    }
    const page: Page = { total: this.sorted.length, offset: this.offset, rows, synced: this.table.hasSynced() };
    const text = JSON.stringify(page);
    // a change outside the window that left the total alone is nothing to tell
    if (text === this.lastSent) return;
    this.lastSent = text;
    this.send(text);
  }

  close(): void {
    this.closed = true;
    this.unlisten();
    if (this.timer) clearTimeout(this.timer);
  }
}
