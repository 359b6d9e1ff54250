/**
 * Lists and watches served from the watch cache: resourceVersion semantics, label and
 * field selectors, limit/continue paging, bookmarks, and selector transitions in watch
 * streams (an object that starts matching arrives as ADDED, one that stops as DELETED).
 */
import { BadRequestError, GoneError } from '../../lib/api/errors.js';
import { parseFieldSelector, type FieldSelector } from '../../lib/api/fields.js';
import { parseSelector as parseLabelSelector, type Selector as LabelSelector } from '../../lib/api/labels.js';
import type { ListOptions, WatchEvent } from '../../lib/client/mod.js';
import type { ServedKind } from './kinds.js';
import type { CacheEvent, CachedObject, WatchCache } from './watchcache.js';

export interface Filter {
  namespace: string; // "" = all
  labels?: LabelSelector;
  fields?: FieldSelector;
  fieldGetter: (obj: any, field: string) => string | undefined;
}

const STANDARD_FIELDS: Record<string, (o: any) => string | undefined> = {
  'metadata.name': (o) => o.metadata?.name,
  'metadata.namespace': (o) => o.metadata?.namespace ?? '',
};

export function buildFilter(kind: ServedKind, namespace: string, opts: ListOptions): Filter {
  const extra = kind.def.fieldSelectors ?? {};
  const getter = (obj: any, field: string) => (STANDARD_FIELDS[field] ?? extra[field])?.(obj);
  const f: Filter = { namespace, fieldGetter: getter };
  if (opts.labelSelector) f.labels = parseLabelSelector(opts.labelSelector);
  if (opts.fieldSelector) {
    f.fields = parseFieldSelector(opts.fieldSelector);
    for (const name of f.fields.fields) {
      if (!STANDARD_FIELDS[name] && !extra[name]) {
        throw new BadRequestError(`field label not supported: ${name}`);
      }
    }
  }
  return f;
}

function unfiltered(f: Filter): boolean {
  return !f.labels && !f.fields;
}

export function matches(f: Filter, obj: any): boolean {
  if (f.labels && !f.labels.matches(obj.metadata?.labels ?? {})) return false;
  if (f.fields && !f.fields.matches((field: string) => f.fieldGetter(obj, field))) return false;
  return true;
}

interface ContinueToken {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
  /**
   * how many objects come after `start` at `rv`, when the list has no selector: the next
   * page's remainingItemCount without counting them again (a count per page made paging
   * through N objects cost N²/limit)
   */
  rem?: number;
}

function encodeContinue(rv: number, start: string, rem?: number): string {
  const t: ContinueToken = { v: 'meta.k8s.io/v1', rv, start };
  if (rem !== undefined) t.rem = rem;
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.start !== 'string' || typeof t.rv !== 'number') throw new Error('bad');
    if (t.rem !== undefined && !(Number.isSafeInteger(t.rem) && t.rem >= 0)) throw new Error('bad');
    return t;
  } catch {
    throw new BadRequestError('invalid continue token: continue key is not valid: illegal base64 data or unknown version');
  }
}

/** upstream's words when a continue token's snapshot has been compacted away */
const EXPIRED_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export interface ListResult {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
  items: CachedObject[];
}

/** Parses a resourceVersion parameter: undefined for "" (consistent read). */
export function parseRV(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  const n = Number(rv);
  if (!Number.isSafeInteger(n) || n < 0) throw new BadRequestError(`invalid resource version "${rv}"`);
  return n;
}

export async function listObjects(cache: WatchCache, kind: ServedKind, namespace: string, opts: ListOptions): Promise<ListResult> {
  const filter = buildFilter(kind, namespace, opts);
  const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
  let after: string | undefined;
  let listRV: number;
  /** objects after `after` at listRV, when a continue token says */
  let afterCount: number | undefined;
  if (opts.continue) {
    if (opts.resourceVersion && opts.resourceVersion !== '0') throw new BadRequestError('specifying resource version is not allowed when using continue');
    const t = decodeContinue(opts.continue);
    after = t.start;
    listRV = t.rv;
    afterCount = t.rem;
  } else {
    const rv = parseRV(opts.resourceVersion);
    if (rv === undefined) await cache.waitConsistent();
    else if (rv > 0) await cache.waitFor(rv);
    // Exact reads the snapshot at rv (from the ring; 410 once it has gone), as upstream reads etcd
    listRV = rv !== undefined && rv > 0 && opts.resourceVersionMatch === 'Exact' ? rv : cache.revision;
  }
  const items: CachedObject[] = [];
  let next: string | undefined;
  let lastKey: string | undefined;
  const ns = kind.def.namespaced && namespace ? namespace : undefined;
  const snapshot = function* (from?: string): Generator<CachedObject> {
    try {
      yield* cache.listAt(kind.storage, listRV, ns, from);
    } catch (e) {
      if (!(e instanceof GoneError) || !opts.continue) throw e;
      throw new GoneError(EXPIRED_CONTINUE);
    }
  };
  const current = listRV >= cache.revision;
  for (const c of current ? cache.list(kind.storage, ns, after) : snapshot(after)) {
    if (limit && items.length >= limit) {
      next = lastKey;
      break;
    }
    lastKey = c.namespace ? `${c.namespace}/${c.name}` : c.name;
    // a cached object kept as text is parsed only when a selector reads it
    if (unfiltered(filter) || matches(filter, c.obj)) items.push(c);
  }
  const res: ListResult = { resourceVersion: String(listRV), items };
  if (next !== undefined) {
    let remaining: number | undefined;
    // without a selector every object passed is an item: what is left is what came after `after` less this page
    if (unfiltered(filter)) {
      if (afterCount !== undefined) remaining = Math.max(0, afterCount - items.length);
      else if (after === undefined && current) remaining = cache.count(kind.storage, ns) - items.length;
      else {
        remaining = 0;
        for (const _ of current ? cache.list(kind.storage, ns, next) : snapshot(next)) remaining++;
      }
      res.remainingItemCount = remaining;
    }
    res.continue = encodeContinue(listRV, next, remaining);
  }
  return res;
}

/**
 * The first `keep` items of a list page, continuing after the last one kept: a page cut
 * short (a NATS reply must fit max_payload) is still a valid page, as upstream's `limit`
 * allows fewer items than asked. remainingItemCount, known only without selectors,
 * counts the items cut off too.
 */
export function shortenPage(page: ListResult, keep: number, selected: boolean): ListResult {
  const dropped = page.items.length - keep;
  if (dropped <= 0) return page;
  const last = page.items[keep - 1];
  const remaining = page.remainingItemCount !== undefined ? page.remainingItemCount + dropped : page.continue === undefined && !selected ? dropped : undefined;
  const res: ListResult = {
    resourceVersion: page.resourceVersion,
    items: page.items.slice(0, keep),
    continue: encodeContinue(Number(page.resourceVersion), last.namespace ? `${last.namespace}/${last.name}` : last.name, remaining),
  };
  if (remaining !== undefined) res.remainingItemCount = remaining;
  return res;
}

export interface WatchSink {
  send(ev: WatchEvent): void;
  /** the stream ends (timeout, error) */
  end(err?: unknown): void;
}

export interface WatchOptions extends ListOptions {
  bookmarkIntervalMs: number;
}

export interface ActiveWatch {
  stop(): void;
}

/**
 * Starts a watch. Resolves once initial events (if any) are queued to the sink;
 * `present` converts a stored object to the served version.
 */
export async function startWatch(
  cache: WatchCache,
  kind: ServedKind,
  namespace: string,
  opts: WatchOptions,
  sink: WatchSink,
  present: (obj: any) => any,
): Promise<ActiveWatch> {
  const filter = buildFilter(kind, namespace, opts);
  const rv = parseRV(opts.resourceVersion);
  // sendInitialEvents decides when given; a legacy watch from "" or "0" starts with the current state
  const initial = opts.sendInitialEvents ?? (rv === undefined || rv === 0);
  if (rv === undefined) await cache.waitConsistent();
  else if (rv > 0 && rv > cache.revision) await cache.waitFor(rv);
  const ns = kind.def.namespaced && namespace ? namespace : undefined;
  const from = initial ? cache.revision : rv!;
  const bookmark = () =>
    sink.send({
      type: 'BOOKMARK',
      object: { kind: kind.def.kind, apiVersion: kind.apiVersion, metadata: { resourceVersion: String(cache.revision) } },
    });
  const onEvent = (ev: CacheEvent) => {
    if (ns && ev.namespace !== ns) return;
    const now = ev.type === 'DELETED' ? false : matches(filter, ev.obj);
    const before = ev.prev ? matches(filter, ev.prev) : false;
    if (ev.type === 'DELETED') {
      if (before) sink.send({ type: 'DELETED', object: present(ev.obj) });
    } else if (now && before) sink.send({ type: 'MODIFIED', object: present(ev.obj) });
    else if (now) sink.send({ type: 'ADDED', object: present(ev.obj) });
    else if (before) sink.send({ type: 'DELETED', object: present(ev.obj) });
  };
  const buffered: CacheEvent[] = [];
  let live = false;
  // subscribe first so no event between the snapshot and the subscription is lost
  const unsubscribe = cache.subscribe(kind.storage, from, (ev) => (live ? onEvent(ev) : buffered.push(ev)), { encodes: true });
  if (initial) {
    for (const c of cache.list(kind.storage, ns)) if (unfiltered(filter) || matches(filter, c.obj)) sink.send({ type: 'ADDED', object: present(c.obj) });
    if (opts.sendInitialEvents && opts.allowWatchBookmarks) {
      sink.send({
        type: 'BOOKMARK',
        object: {
          kind: kind.def.kind,
          apiVersion: kind.apiVersion,
          metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } },
        },
      });
    }
  }
  for (const ev of buffered.splice(0)) if (ev.revision > from) onEvent(ev);
  live = true;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
  };
  if (opts.allowWatchBookmarks) {
    const t = setInterval(bookmark, opts.bookmarkIntervalMs);
    t.unref();
    timers.push(t);
  }
  if (opts.timeoutSeconds && opts.timeoutSeconds > 0) {
    const t = setTimeout(() => {
      stop();
      sink.end();
    }, opts.timeoutSeconds * 1000);
    t.unref();
    timers.push(t);
  }
  return { stop };
}

