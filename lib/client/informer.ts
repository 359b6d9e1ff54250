/**
 * Informers in the client-go manner. A reflector lists a resource (paged) and then
 * watches from the list's resourceVersion, keeping a local indexed store equal to the
 * server's state; event handlers hear of every change. A 410 Gone, a broken watch, a
 * vanished apiserver or a NATS reconnect all lead to a fresh list (with backoff), and
 * objects that disappeared meanwhile are reported as deletes carrying a
 * DeletedFinalStateUnknown tombstone.
 *
 * Handlers must be cheap: the controller pattern is that handlers enqueue keys into a
 * work queue and workers read the current object from the store.
 */
import { ServiceUnavailableError, StatusError, isGone } from '../api/errors.js';
import type { ApiClient, KubeObject } from './client.js';
import type { GroupVersionResource } from './resources.js';
import { toStatusError } from './transport.js';
import type { Watch } from './watch.js';
import type { ListOptions, WatchEvent } from './protocol.js';
import { BackoffStepper, sleep } from './retry.js';
import { dropManagedFields } from './managedfields.js';

export type IndexFunc<T> = (obj: T) => Array<string | undefined | null>;

export const NAMESPACE_INDEX = 'namespace';

/** The store key of an object: "namespace/name", or "name" when cluster-scoped. */
export function metaNamespaceKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : `${m.name ?? ''}`;
}

/** Splits a store key back into namespace ("" for cluster-scoped) and name. */
export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * What onDelete receives for an object that was deleted while the watch was down: the
 * re-list no longer has it, so its final state is unknown; `obj` is the last state seen.
 */
export class DeletedFinalStateUnknown<T> {
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

/** The object of a delete notification, whether or not it is a tombstone. */
export function deletedObject<T>(o: T | DeletedFinalStateUnknown<T>): T {
  return o instanceof DeletedFinalStateUnknown ? o.obj : o;
}

function sameValues(a: ReadonlyArray<string | undefined | null>, b: ReadonlyArray<string | undefined | null>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A keyed store with secondary indexes (client-go's cache.Indexer). */
export class Indexer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = { [NAMESPACE_INDEX]: (o) => [o.metadata?.namespace] }) {
    this.addIndexers(indexers);
  }

  /** Adds indexes; objects already stored are indexed at once. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer "${name}" already exists`);
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) this.indexOne(index, fn, key, obj);
    }
  }

  private indexOne(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const v of fn(obj)) {
      if (v === undefined || v === null) continue;
      let keys = index.get(v);
      if (!keys) index.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindexOne(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const v of fn(obj)) {
      if (v === undefined || v === null) continue;
      const keys = index.get(v);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) index.delete(v);
    }
  }

  /** Stores obj under key, replacing what was there; returns the previous object. */
  set(key: string, obj: T): T | undefined {
    const old = this.items.get(key);
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      if (old) {
        // most updates leave an object's index values as they were (always its namespace)
        const was = fn(old);
        const now = fn(obj);
        if (sameValues(was, now)) continue;
        this.unindexOne(index, fn, key, old);
      }
      this.indexOne(index, fn, key, obj);
    }
    this.items.set(key, obj);
    return old;
  }

  /** Removes key; returns the object that was there. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    for (const [name, fn] of this.indexers) this.unindexOne(this.indices.get(name)!, fn, key, old);
    this.items.delete(key);
    return old;
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** The stored version of obj (looked up by its key). */
  get(obj: KubeObject): T | undefined {
    return this.items.get(metaNamespaceKey(obj));
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Objects whose index function yields value, e.g. byIndex('namespace', 'default'). */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k)!);
  }

  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no indexer named "${indexName}"`);
    return [...(index.get(value) ?? [])];
  }

  /** The values an index holds, e.g. every node name with pods. */
  listIndexFuncValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`no indexer named "${indexName}"`);
    return [...index.keys()];
  }
}

export interface EventHandlers<T> {
  /** isInInitialList: the object came with the first list, not a later change */
  onAdd?(obj: T, isInInitialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface InformerOptions<T> {
  /** only this namespace (default: all) */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** list page size (default 250: a page must fit NATS's max_payload, 1 MB by default) */
  pageSize?: number;
  /** deliver onUpdate(obj, obj) for every object this often (0 = never, the default) */
  resyncPeriodMs?: number;
  /** indexes beside the default namespace index */
  indexers?: Record<string, IndexFunc<T>>;
  /**
   * each watch asks the server to end it after this to twice this many seconds, so
   * watches are renewed now and then, as upstream's reflector does (default 300)
   */
  minWatchTimeoutSeconds?: number;
  /** first and longest wait between failed list/watch attempts (default 100 ms .. 30 s) */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** told about every list/watch failure (default: logged to stderr) */
  onError?: (err: unknown) => void;
  /**
   * applied to each listed or watched object before the store keeps it and handlers see
   * it (client-go's SetTransform): drop what no reader needs, e.g. managedFields
   */
  transform?: (obj: T) => T;
  /**
   * read objects without metadata.managedFields: watch frames are cut before they are
   * decoded (managedfields.ts), listed objects lose them before the store keeps them
   */
  omitManagedFields?: boolean;
}

/** The store key of a delete notification, tombstone or not. */
export function deletionHandlingKey(o: KubeObject | DeletedFinalStateUnknown<KubeObject>): string {
  return o instanceof DeletedFinalStateUnknown ? o.key : metaNamespaceKey(o);
}

/** One resource's list+watch loop, store and handlers; shared by every user in a process. */
export class SharedInformer<T extends KubeObject = KubeObject> {
  readonly store: Indexer<T>;
  private readonly handlers = new Set<EventHandlers<T>>();
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private stopped = false;
  private running?: Promise<void>;
  private readonly abort = new AbortController();
  private currentWatch?: Watch<T>;
  private resyncTimer?: NodeJS.Timeout;
  private rv = '';
  private transform?: (obj: T) => T;
  /** how many full lists the reflector ran (1 after the first sync) */
  listCount = 0;

  constructor(
    readonly client: ApiClient,
    readonly gvr: GroupVersionResource,
    readonly opts: InformerOptions<T> = {},
  ) {
    this.store = new Indexer<T>();
    if (opts.indexers) this.store.addIndexers(opts.indexers);
    this.transform = opts.transform;
  }

  /**
   * client-go's SetTransform: each listed or watched object passes through `fn` before the
   * store keeps it and handlers see it (replacing InformerOptions.transform). Only before
   * start(), so the store never holds objects of both shapes.
   */
  setTransform(fn: (obj: T) => T): void {
    if (this.running) throw new Error(`informer for ${this.gvr.resource}: setTransform after start`);
    this.transform = fn;
  }

  /** Registers handlers; objects already in the store are delivered to them as adds. */
  addEventHandler(h: EventHandlers<T>): { remove(): void } {
    this.handlers.add(h);
    if (h.onAdd) for (const obj of this.store.list()) this.call(() => h.onAdd!(obj, !this.synced));
    return { remove: () => this.handlers.delete(h) };
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.store.addIndexers(indexers);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is in the store; rejects if signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal!.reason ?? new Error(`informer for ${this.gvr.resource} did not sync`));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** The resourceVersion the store reflects. */
  lastSyncResourceVersion(): string {
    return this.rv;
  }

  /** Starts the list+watch loop (idempotent). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.run();
    if (this.opts.resyncPeriodMs && this.opts.resyncPeriodMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncPeriodMs);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('informer stopped'));
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.currentWatch?.stop();
    await this.running;
  }

  private listOptions(): ListOptions {
    const o: ListOptions = {};
    if (this.opts.labelSelector) o.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector) o.fieldSelector = this.opts.fieldSelector;
    return o;
  }

  private async run(): Promise<void> {
    const backoff = new BackoffStepper(this.opts.backoffInitialMs ?? 100, this.opts.backoffMaxMs ?? 30_000);
    let needList = true;
    let watchReadyAt = 0;
    while (!this.stopped) {
      watchReadyAt = 0;
      try {
        if (needList) {
          await this.listAndReplace();
          needList = false;
        }
        const w = this.client.watch<T>(
          { ...this.gvr, namespace: this.opts.namespace },
          { ...this.listOptions(), resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds: this.watchTimeoutSeconds() },
          { omitManagedFields: this.opts.omitManagedFields },
        );
        this.currentWatch = w;
        if (this.stopped) w.stop();
        await w.ready;
        watchReadyAt = Date.now();
        let events = 0;
        for await (const ev of w) {
          // a watch that delivers is healthy: the next failure starts from a short wait
          if (events++ === 0) backoff.reset();
          this.apply(ev);
        }
        // a clean end (server timeout) means watch on from where the store is; a watch
        // the server ends at once without a word is suspect (upstream's "very short watch")
        if (events === 0 && Date.now() - watchReadyAt < 1000 && !this.stopped)
          throw new Error(`very short watch of ${this.gvr.resource}: ended at once without events`);
      } catch (e) {
        if (this.stopped) break;
        this.report(e);
        // as upstream's reflector: when no apiserver answers (one stopping, none reachable)
        // the store is still good, so watch again from its resourceVersion once one does; a
        // watch cache that no longer reaches back that far answers 410, and that re-lists
        needList = !(this.rv && e instanceof ServiceUnavailableError);
        // a watch that ran a good while before it broke was healthy: retry soon
        if (watchReadyAt && Date.now() - watchReadyAt > 10_000) backoff.reset();
        // after 410 the list is all that is needed, and it can run at once
        if (!isGone(e)) {
          try {
            await sleep(backoff.next(), this.abort.signal);
          } catch {
            break;
          }
        }
      }
    }
  }

  private watchTimeoutSeconds(): number {
    const min = this.opts.minWatchTimeoutSeconds ?? 300;
    return Math.max(1, Math.round(min * (1 + Math.random())));
  }

  private report(e: unknown): void {
    if (this.opts.onError) this.opts.onError(e);
    else console.error(`informer ${this.gvr.resource}${this.gvr.group ? '.' + this.gvr.group : ''}: list/watch failed, will re-list: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Lists every page at one resourceVersion and makes the store equal to it. */
  private async listAndReplace(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list<T>(
        { ...this.gvr, namespace: this.opts.namespace },
        { ...this.listOptions(), limit: this.opts.pageSize ?? 250, continue: cont },
      );
      if (this.stopped) return;
      if (this.opts.omitManagedFields) for (const item of page.items) items.push(dropManagedFields(item));
      else for (const item of page.items) items.push(item);
      // every page of one list shares the first page's resourceVersion
      if (!cont) rv = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue || undefined;
    } while (cont);
    this.replace(items, rv);
  }

  /** @internal Replaces the store's content as a re-list does, notifying handlers. */
  replace(items: T[], rv: string): void {
    const fresh = new Map<string, T>();
    const transform = this.transform;
    for (const o of items) fresh.set(metaNamespaceKey(o), transform ? transform(o) : o);
    for (const key of this.store.listKeys()) {
      if (fresh.has(key)) continue;
      const old = this.store.delete(key)!;
      const tomb = new DeletedFinalStateUnknown(key, old);
      this.notify((h) => h.onDelete?.(tomb));
    }
    const initial = !this.synced;
    for (const [key, obj] of fresh) {
      const old = this.store.set(key, obj);
      if (!old) this.notify((h) => h.onAdd?.(obj, initial));
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.notify((h) => h.onUpdate?.(old, obj));
    }
    this.rv = rv;
    this.listCount++;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** @internal Applies one watch event to the store. */
  apply(ev: WatchEvent<T>): void {
    const obj = this.transform && (ev.type === 'ADDED' || ev.type === 'MODIFIED') ? this.transform(ev.object) : ev.object;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const old = this.store.set(metaNamespaceKey(obj), obj);
        if (old) this.notify((h) => h.onUpdate?.(old, obj));
        else this.notify((h) => h.onAdd?.(obj, false));
        break;
      }
      case 'DELETED': {
        const old = this.store.delete(metaNamespaceKey(obj));
        // a delete of something never seen is nothing to tell
        if (old) this.notify((h) => h.onDelete?.(obj));
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR':
        throw toStatusError(obj);
      default:
        throw new StatusError(500, 'InternalError', `unknown watch event type ${(ev as WatchEvent).type} for ${this.gvr.resource}`);
    }
    const rv = obj?.metadata?.resourceVersion;
    if (rv) this.rv = rv;
  }

  private resync(): void {
    if (!this.synced) return;
    for (const obj of this.store.list()) this.notify((h) => h.onUpdate?.(obj, obj));
  }

  private notify(fn: (h: EventHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (e) {
        this.handlerThrew(e);
      }
    }
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.handlerThrew(e);
    }
  }

  /** one faulty handler must not stop the informer or starve the other handlers */
  private handlerThrew(e: unknown): void {
    console.error(`informer ${this.gvr.resource}: event handler threw: ${e instanceof Error ? e.stack : String(e)}`);
  }
}

export interface InformerFactoryOptions {
  /** only this namespace (default: all) */
  namespace?: string;
  resyncPeriodMs?: number;
  /** every informer's transform (InformerOptions.transform) */
  transform?: <T extends KubeObject>(obj: T) => T;
  /** every informer's omitManagedFields (InformerOptions.omitManagedFields) */
  omitManagedFields?: boolean;
}

/** One shared informer per resource, so every controller in a process uses the same cache. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer<any>>();
  constructor(
    readonly client: ApiClient,
    readonly opts: InformerFactoryOptions = {},
  ) {}

  forResource<T extends KubeObject>(gvr: GroupVersionResource): SharedInformer<T> {
    const key = `${gvr.group}/${gvr.version}/${gvr.resource}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new SharedInformer<T>(this.client, { group: gvr.group, version: gvr.version, resource: gvr.resource }, this.opts);
      this.informers.set(key, inf);
    }
    return inf as SharedInformer<T>;
  }

  start(): void {
    for (const inf of this.informers.values()) inf.start();
  }

  async waitForCacheSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
