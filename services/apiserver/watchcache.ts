/**
 * The watch cache, as upstream's cacher: one KV watch over the whole bucket feeds an
 * in-memory store of every object and a ring buffer of recent events. Gets, lists and
 * watches are served from here. A consistent read first waits until the cache has
 * reached the store's current revision.
 */
import { GoneError, TimeoutError } from '../../lib/api/errors.js';
import sortedBtree from 'sorted-btree';
import { objectKey, parseKey } from '../../lib/store/keys.js';
import type { KvStore, StoreEntry } from '../../lib/store/kvstore.js';
import { rememberJson, withResourceVersionParts, writtenText, type StoredBytes } from './objectjson.js';
import { JsonPacker, type Unpacker } from './packedjson.js';

export interface CachedObject {
  key: string;
  /** storage resource token, e.g. "pods", "apps/deployments" */
  resource: string;
  /** "" for cluster-scoped */
  namespace: string;
  name: string;
  revision: number;
  /** the object, resourceVersion set; never mutate */
  readonly obj: any;
  /** JSON.stringify(obj), once someone made it */
  json?: string;
}

/**
 * An object the cache holds. While its last change is among the ring's recent events it is
 * kept parsed (watchers, bindings and status writes read it then); once that event leaves
 * the ring it is kept as its JSON text only, packed against its resource's dictionary
 * (packedjson.ts), and inflated and parsed again when read. A million pods parsed were
 * about 3 kB of JS heap each, and every major GC walked all their objects; as text they
 * were a string each of their JSON's size (1.9 kB); packed, about 100 bytes.
 */
class CacheEntry implements CachedObject {
  /**
   * The JSON text; once frozen, packed when `dictionary` is set. A thawed entry keeps it
   * packed beside the parsed object, so freezing it again packs nothing.
   */
  private text?: string;
  /** what `text` was packed with; null when it was left unpacked (packing made it no smaller) */
  private dictionary?: Unpacker | null;

  constructor(
    /** "namespace/name", or the name: the key of the resource's index (one string for the index's map, its order and this) */
    readonly indexKey: string,
    readonly resource: string,
    readonly namespace: string,
    readonly revision: number,
    private parsed: any,
    /** JSON.stringify(obj), once known */
    json?: string,
  ) {
    this.text = json;
  }

  // the store key and the name are derived, not kept: at a million pods each was two
  // more strings per object for every major GC to mark (the name a slice of the key,
  // the key a slice of its message's subject)
  get name(): string {
    return this.namespace ? this.indexKey.slice(this.namespace.length + 1) : this.indexKey;
  }

  get key(): string {
    return objectKey(this.resource, this.namespace, this.name);
  }

  get obj(): any {
    return this.parsed ?? JSON.parse(this.json!);
  }

  /** JSON.stringify(obj), once known (always, once frozen) */
  get json(): string | undefined {
    return this.dictionary ? this.dictionary.inflate(this.text!) : this.text;
  }

  set json(text: string | undefined) {
    // a packed entry's text is known already: only an unfrozen one learns its text
    if (this.dictionary === undefined) this.text = text;
  }

  get frozen(): boolean {
    return this.parsed === undefined;
  }

  /** Keeps only the JSON text, packed with `packer`, from now on. */
  freeze(packer: JsonPacker): void {
    if (this.parsed === undefined) return;
    if (this.dictionary === undefined) {
      const text = this.text ?? JSON.stringify(this.parsed);
      const packed = packer.pack(text);
      this.text = packed?.bytes ?? text;
      this.dictionary = packed?.dictionary ?? null;
    }
    this.parsed = undefined;
  }

  /** Keeps the object parsed again (until freeze). */
  thaw(): void {
    this.parsed ??= JSON.parse(this.json!);
  }
}

/**
 * How many objects kept as text stay parsed after a read of one of them (a get, an update,
 * an admission lookup): the namespace and PriorityClass every create looks up are read
 * again and again, a list reads each object once.
 */
const THAWED = 1024;

/**
 * How many created objects' stored bytes are kept for the binding that follows (about 2 kB
 * each for a pod): enough for the pods waiting to be scheduled in the benchmarks.
 */
const MAX_KEPT_STORED = 8_192;

/**
 * How many recent events the ring keeps (all resources together) for watches and continued
 * lists from an older resourceVersion; older ones are answered 410 Gone and their clients
 * relist, as upstream's for a resourceVersion its watch cache no longer holds. Upstream sizes
 * each resource's ring to hold 75 s of events, between 100 and 102,400: up to ~430 events a
 * second this ring holds as long. It was 100,000: at the benchmarks' 15,000 events a second
 * that kept ~7 s of parsed objects (and the texts of versions replaced since) alive, each
 * surviving the young generation to die in the old one; at a million pods the apiserver cost
 * 194 µs per pod with it against 166 with this (16,384: 170). A smaller ring packs sooner:
 * a 10,000-pod benchmark, which never filled the old ring, packs its nodes and some pods
 * (docs/scheduler.md, Dec 7 17:15-18:30).
 */
export const DEFAULT_WATCH_CACHE_SIZE = 32_768;

/** a string comparison for the key index (sorted-btree's default also orders mixed types, slower) */
const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: EventType;
  revision: number;
  resource: string;
  namespace: string;
  name: string;
  /** the object after the change; for DELETED the last state, resourceVersion = deletion revision */
  obj: any;
  /** the object before the change (MODIFIED, DELETED) */
  prev?: any;
}

export type EventSink = (ev: CacheEvent) => void;

// sorted-btree is CommonJS: from ESM its class is the module object's `default`
const BTree = sortedBtree.default;
type SortedKeys = InstanceType<typeof BTree<string, undefined>>;

interface ResourceIndex {
  resource: string;
  objects: Map<string, CacheEntry>; // by "ns/name"
  /** the keys in order, for lists and continue tokens, as of the last read that needed order */
  order: SortedKeys;
  /**
   * keys created since, not yet in `order` (some may be deleted again): a create pays a push,
   * the next list sorts them in. A sorted insert per create cost ~3 µs at 200,000 keys and
   * ~8 µs at a million (pods and their Events: two per pod) while no one lists in order.
   */
  unordered: string[];
  /** packs the texts of its objects once their last change leaves the ring */
  packer: JsonPacker;
  /** the revision of the last change applied to an object of this resource (0: none yet) */
  changed: number;
  /** live objects per namespace ('' for cluster-scoped ones): a paged list's remainingItemCount without a scan */
  perNamespace: Map<string, number>;
}

export class WatchCache {
  private readonly resources = new Map<string, ResourceIndex>();
  private readonly namespaces = new Map<string, string>();
  /** objects kept as text that a read parsed again, oldest first (at most THAWED) */
  private readonly thawed: CacheEntry[] = [];
  private readonly ring: CacheEvent[] = [];
  private ringHead = 0;
  /** every event with revision > ringFloor is in the ring */
  private ringFloor = 0;
  private rev = 0;
  private synced = false;
  private readonly waiters: Array<{ rev: number; resolve: () => void }> = [];
  private readonly sinks = new Map<string, Set<EventSink>>();
  /** the sinks among `sinks` that encode what they are given (watches): only for those is an object's JSON remembered */
  private readonly encoders = new Map<string, Set<EventSink>>();
  private watchHandle?: { stop: () => void };
  private revisionRequest?: Promise<number>;
  private revisionQueued?: Promise<number>;
  /** writes this instance has sent and not yet seen come back, by key */
  private readonly expected = new Map<string, { stored: StoredBytes; obj?: object; keepStored?: boolean }>();
  /**
   * The stored bytes of objects this instance created that a binding will likely rewrite
   * (unscheduled pods), by their entry, so that the binding is spliced from them
   * (objectjson.ts splicedStored) rather than stringified. Dropped when the entry is
   * replaced or deleted; at most MAX_KEPT_STORED, oldest dropped first.
   */
  private readonly keptStored = new Map<CachedObject, StoredBytes>();

  constructor(
    private readonly store: KvStore,
    private readonly ringSize = DEFAULT_WATCH_CACHE_SIZE,
  ) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.store
        .watch({
          onEntry: (e) => this.apply(e),
          onSynced: (rev) => {
            if (rev > this.rev) this.rev = rev;
            this.ringFloor = this.rev;
            this.synced = true;
            this.wake();
            resolve();
          },
        })
        .then((h) => (this.watchHandle = h), reject);
    });
  }

  stop(): void {
    this.watchHandle?.stop();
  }

  /** The revision the cache has applied everything up to. */
  get revision(): number {
    return this.rev;
  }

  get isSynced(): boolean {
    return this.synced;
  }

  private index(resource: string): ResourceIndex {
    let idx = this.resources.get(resource);
    if (!idx) {
      idx = { resource, objects: new Map(), order: new BTree<string, undefined>(undefined, compareKeys), unordered: [], packer: new JsonPacker(), changed: 0, perNamespace: new Map() };
      this.resources.set(resource, idx);
    }
    return idx;
  }

  private created(idx: ResourceIndex, k: string): void {
    idx.unordered.push(k);
    // keys created and deleted again with no list between would pile up: at most one per live object
    if (idx.unordered.length > idx.objects.size + 1024) this.sortIn(idx);
  }

  /** puts the keys created since the last ordered read into the key index */
  private sortIn(idx: ResourceIndex): void {
    if (!idx.unordered.length) return;
    // sorted first so that consecutive inserts walk the same part of the tree
    const keys = idx.unordered.sort(compareKeys);
    idx.unordered = [];
    for (const k of keys) if (idx.objects.has(k)) idx.order.set(k, undefined);
  }

  /** one string per namespace name for all the entries in it (a key's part is a string of its own) */
  private namespaceString(ns: string): string {
    let s = this.namespaces.get(ns);
    if (s === undefined) this.namespaces.set(ns, (s = ns));
    return s;
  }

  /**
   * A write this instance is about to send: when the store's entry comes back with the
   * same bytes, the cached object's JSON is the stored text with its revision spliced in
   * (objectjson.ts), so watch frames need not encode it again; and when `obj` is given, the
   * cache holds that very object instead of parsing the entry. The caller vouches that `obj`
   * is what parsing its bytes would give (plain JSON values, no undefined), resourceVersion
   * aside, and that nothing changes it afterwards but setting that resourceVersion. With
   * `keepStored`, the entry's stored bytes are kept for storedOf. Returns what undoes it
   * when the write fails.
   */
  expectWrite(key: string, stored: StoredBytes, obj?: object, keepStored?: boolean): () => void {
    // the very StoredBytes the write keeps: its change event and the cache share one splice of it
    const entry = { stored, obj, keepStored };
    this.expected.set(key, entry);
    return () => {
      if (this.expected.get(key) === entry) this.expected.delete(key);
    };
  }

  private apply(e: StoreEntry): void {
    const pk = parseKey(e.key);
    if (pk) {
      const idx = this.index(pk.resource);
      const ns = this.namespaceString(pk.namespace);
      const k = ns ? `${ns}/${pk.name}` : pk.name;
      const prev = idx.objects.get(k);
      let ev: CacheEvent | undefined;
      if (e.operation === 'PUT' && e.value) {
        let obj: any;
        const expected = this.expected.get(e.key);
        // compared as they came: every write's object passes here, and a Buffer view of the bytes costs more than the comparison
        const mine = expected !== undefined && expected.stored.bytes.equals(e.value);
        if (mine) this.expected.delete(e.key);
        if (mine && expected.obj) obj = expected.obj;
        else {
          try {
            obj = JSON.parse(Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength).toString('utf8'));
          } catch {
            obj = undefined; // a foreign or corrupt value is not served
          }
        }
        if (obj && typeof obj === 'object') {
          // the written JSON (the stored bytes with the revision spliced in) is the text the
          // object is kept as once its change leaves the ring, so it is not stringified then
          const written = mine && !Array.isArray(obj);
          // the text this instance wrote, parsed: its JSON is known (worth keeping only for
          // watchers that encode it: a kept encoding nobody takes lives on, and with it the
          // Buffer pool slab it was cut from, until MAX_KNOWN pushes it out)
          const known = written && obj.metadata !== undefined && this.synced && !!this.encoders.get(pk.resource)?.size;
          obj.metadata ??= {};
          obj.metadata.resourceVersion = String(e.revision);
          if (known) rememberJson(obj, withResourceVersionParts(expected.stored, e.revision));
          const entry = new CacheEntry(prev?.indexKey ?? k, idx.resource, ns, e.revision, obj, written ? writtenText(expected.stored, e.revision) : undefined);
          idx.objects.set(k, entry);
          if (prev && this.keptStored.size) this.keptStored.delete(prev);
          if (written && expected.keepStored) this.keepStored(entry, expected.stored);
          if (!prev) {
            this.created(idx, k);
            idx.perNamespace.set(ns, (idx.perNamespace.get(ns) ?? 0) + 1);
          }
          ev = { type: prev ? 'MODIFIED' : 'ADDED', revision: e.revision, resource: pk.resource, namespace: pk.namespace, name: pk.name, obj, prev: prev?.obj };
          // an object that reaches the cache before it is synced has no event in the ring
          if (!this.synced) entry.freeze(idx.packer);
        }
      } else if (prev) {
        idx.objects.delete(k);
        const left = (idx.perNamespace.get(ns) ?? 1) - 1;
        if (left > 0) idx.perNamespace.set(ns, left);
        else idx.perNamespace.delete(ns);
        if (this.keptStored.size) this.keptStored.delete(prev);
        // a key still in `unordered` is dropped when it is sorted in (not in `objects` then)
        idx.order.delete(k);
        // read once: a frozen object is unpacked and parsed at each read
        const last = prev.obj;
        const obj = { ...last, metadata: { ...last.metadata, resourceVersion: String(e.revision) } };
        ev = { type: 'DELETED', revision: e.revision, resource: pk.resource, namespace: pk.namespace, name: pk.name, obj, prev: last };
      }
      if (ev) idx.changed = e.revision;
      if (ev && this.synced) this.emit(ev);
    }
    if (e.revision > this.rev) this.rev = e.revision;
    if (this.synced) this.wake();
  }

  private keepStored(entry: CachedObject, stored: StoredBytes): void {
    if (this.keptStored.size >= MAX_KEPT_STORED) this.keptStored.delete(this.keptStored.keys().next().value!);
    // the bytes alone: not the text they were encoded from nor their splice with the revision
    this.keptStored.set(entry, { bytes: stored.bytes, metaEnd: stored.metaEnd, managedFields: stored.managedFields });
  }

  /**
   * The bytes the store was sent for `c` (its object without resourceVersion) when this
   * instance created it and kept them (expectWrite's `keepStored`); c must be an entry get gave.
   */
  storedOf(c: CachedObject): StoredBytes | undefined {
    return this.keptStored.get(c);
  }

  private emit(ev: CacheEvent): void {
    if (this.ring.length < this.ringSize) {
      this.ring.push(ev);
    } else {
      const old = this.ring[this.ringHead];
      this.ringFloor = old.revision;
      this.ring[this.ringHead] = ev;
      this.ringHead = (this.ringHead + 1) % this.ringSize;
      // the object's last change leaves the ring: keep it as text unless it changed since
      const idx = this.resources.get(old.resource);
      const entry = idx?.objects.get(old.namespace ? `${old.namespace}/${old.name}` : old.name);
      if (entry?.revision === old.revision) entry.freeze(idx!.packer);
    }
    const sinks = this.sinks.get(ev.resource);
    if (sinks) for (const s of sinks) s(ev);
  }

  private wake(): void {
    if (!this.waiters.length) return;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].rev <= this.rev) {
        this.waiters[i].resolve();
        this.waiters.splice(i, 1);
      }
    }
  }

  /** Resolves once the cache has applied `rev`. */
  waitFor(rev: number, timeoutMs = 10_000): Promise<void> {
    if (this.synced && this.rev >= rev) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = { rev, resolve: () => (clearTimeout(t), resolve()) };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new TimeoutError(`Too large resource version: ${rev}, current: ${this.rev}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /**
   * Waits until the cache has every write the store has acknowledged so far. Concurrent
   * callers share one stream-info request, but only one that started after they asked.
   */
  async waitConsistent(): Promise<number> {
    const rev = await this.storeRevision();
    await this.waitFor(rev);
    return this.rev;
  }

  private storeRevision(): Promise<number> {
    if (!this.revisionRequest) {
      this.revisionRequest = this.store.currentRevision().finally(() => (this.revisionRequest = undefined));
      return this.revisionRequest;
    }
    if (!this.revisionQueued) {
      const after = this.revisionRequest.catch(() => 0);
      this.revisionQueued = after.then(() => {
        this.revisionQueued = undefined;
        return this.storeRevision();
      });
    }
    return this.revisionQueued;
  }

  get(resource: string, namespace: string, name: string): CachedObject | undefined {
    const entry = this.resources.get(resource)?.objects.get(namespace ? `${namespace}/${name}` : name);
    if (entry?.frozen) {
      entry.thaw();
      // the oldest thawed object is kept as text again
      if (this.thawed.length >= THAWED) {
        const oldest = this.thawed.shift()!;
        oldest.freeze(this.resources.get(oldest.resource)!.packer);
      }
      this.thawed.push(entry);
    }
    return entry;
  }

  /**
   * The revision of an object's last change, or undefined when it is not cached: unlike
   * `get`, a frozen object is neither unpacked nor parsed.
   */
  revisionOf(resource: string, namespace: string, name: string): number | undefined {
    return this.resources.get(resource)?.objects.get(namespace ? `${namespace}/${name}` : name)?.revision;
  }

  /** Objects of a resource (in one namespace, or all) sorted by namespace/name, starting after `after`. */
  *list(resource: string, namespace?: string, after?: string): Generator<CachedObject> {
    const idx = this.resources.get(resource);
    if (!idx) return;
    // from the first key past `after` (exclusive), or the namespace prefix (inclusive)
    const prefix = namespace ? `${namespace}/` : '';
    this.sortIn(idx);
    for (const k of idx.order.keys(after ?? prefix)) {
      if (k === after) continue;
      if (prefix && !k.startsWith(prefix)) break;
      const o = idx.objects.get(k);
      if (o) yield o;
    }
  }

  /**
   * Like `list`, but as the resource stood at `revision` (a continued list is served from
   * its first page's snapshot, as upstream's etcd read at that revision): the objects
   * changed since are rolled back with the ring's `prev` states. Throws GoneError once the
   * ring no longer reaches back that far.
   */
  *listAt(resource: string, revision: number, namespace?: string, after?: string): Generator<CachedObject> {
    if (revision >= this.rev) {
      yield* this.list(resource, namespace, after);
      return;
    }
    if (revision < this.ringFloor) throw new GoneError(`too old resource version: ${revision} (${this.ringFloor})`);
    const prefix = namespace ? `${namespace}/` : '';
    // the first event after `revision` for a key carries the key's state at `revision`
    const then = new Map<string, CachedObject | undefined>();
    for (const ev of this.eventsSince(revision)) {
      if (ev.resource !== resource) continue;
      const k = ev.namespace ? `${ev.namespace}/${ev.name}` : ev.name;
      if (then.has(k) || (prefix && !k.startsWith(prefix))) continue;
      const prev = ev.prev;
      then.set(k, prev && { key: '', resource, namespace: ev.namespace, name: ev.name, revision: Number(prev.metadata?.resourceVersion), obj: prev });
    }
    const restored = [...then].filter(([k, c]) => c && (after === undefined || k > after)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let r = 0;
    for (const o of this.list(resource, namespace, after)) {
      const k = o.namespace ? `${o.namespace}/${o.name}` : o.name;
      while (r < restored.length && restored[r][0] < k) yield restored[r++][1]!;
      if (!then.has(k)) yield o;
    }
    while (r < restored.length) yield restored[r++][1]!;
  }

  /**
   * The revision of the last change (create, update or delete) the cache applied to an
   * object of a resource, 0 when none: what a reader derived from a resource's objects
   * stays true while this does not move.
   */
  changedAt(resource: string): number {
    return this.resources.get(resource)?.changed ?? 0;
  }

  /** Live objects of a resource, in one namespace ('' for cluster-scoped ones) or in all. */
  count(resource: string, namespace?: string): number {
    const idx = this.resources.get(resource);
    if (!idx) return 0;
    return namespace === undefined ? idx.objects.size : (idx.perNamespace.get(namespace) ?? 0);
  }

  /**
   * Subscribes to the events of a resource after `fromRevision`: replays what the ring
   * holds, then delivers live events. Throws GoneError when the ring no longer reaches
   * back that far. A sink that `encodes` the objects it is given as JSON (a watch's) has
   * the JSON of the objects this instance writes kept for it (objectjson.ts objectJson).
   */
  subscribe(resource: string, fromRevision: number, sink: EventSink, opts: { encodes?: boolean } = {}): () => void {
    if (fromRevision < this.ringFloor) {
      throw new GoneError(`too old resource version: ${fromRevision} (${this.ringFloor})`);
    }
    for (const ev of this.eventsSince(fromRevision)) if (ev.resource === resource) sink(ev);
    const add = (byResource: Map<string, Set<EventSink>>) => {
      let set = byResource.get(resource);
      if (!set) byResource.set(resource, (set = new Set()));
      return set.add(sink);
    };
    const all = add(this.sinks);
    const encoding = opts.encodes ? add(this.encoders) : undefined;
    return () => {
      all.delete(sink);
      encoding?.delete(sink);
    };
  }

  private *eventsSince(rev: number): Generator<CacheEvent> {
    const n = this.ring.length;
    if (!n || this.ring[(this.ringHead + n - 1) % n].revision <= rev) return;
    // binary search over the ring (oldest at ringHead)
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ring[(this.ringHead + mid) % n].revision <= rev) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < n; i++) yield this.ring[(this.ringHead + i) % n];
  }
}
