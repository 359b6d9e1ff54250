/**
 * Strategic merge patch (Content-Type application/strategic-merge-patch+json), with the
 * semantics of k8s.io/apimachinery/pkg/util/strategicpatch as the apiserver applies it
 * (StrategicMergeMapPatch: parallel lists merged, unmatched nulls ignored).
 *
 * The patch metadata upstream reads from Go struct tags (patchStrategy, patchMergeKey)
 * comes from the schema here: Field.strategy and Field.mergeKey. Where the schema knows
 * nothing (fieldType.any, preserveUnknown types, fields not in the schema), maps still merge,
 * null still deletes and lists are replaced: JSON merge patch behaviour, with the
 * directives still honoured as upstream's mergeMap does regardless of schema.
 *
 * Directives:
 *   $patch: replace | delete | merge   on a map, or as an item of a merging list
 *   $retainKeys: [keys]                clear every key of the live map not listed
 *   $setElementOrder/<list>: [...]     the final order of a merging list
 *   $deleteFromPrimitiveList/<list>    items to remove from a list of primitives
 */
import type { Prop, TypeDef } from '../../schema/types.js';
import { typeDef } from '../../schema/registry.js';
import { BadRequestError, StatusError } from '../errors.js';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

type JsonObject = Record<string, unknown>;
type Kind = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean';

/** Where in the schema a map being merged sits. */
type Schema = { kind: 'struct'; def: TypeDef } | { kind: 'map'; values: Prop } | { kind: 'opaque' };
const OPAQUE: Schema = { kind: 'opaque' };

/** What the schema says about one key of a map (upstream PatchMeta plus the field's type). */
interface FieldMeta {
  prop?: Prop;
  /** "merge", "replace" or "" (retainKeys only shapes client-side diffs) */
  strategy: string;
  mergeKey: string;
}

/**
 * Applies a strategic merge patch to `original`, a JSON object of the named type (an
 * OpenAPI definition name registered in the schema). Neither input is modified.
 * Malformed patches throw BadRequestError (422 Invalid for lists of lists, as upstream).
 */
export function applyStrategicMergePatch(original: object, patch: object, typeName: string): JsonObject {
  if (!isObject(patch)) {
    throw new BadRequestError(`strategic merge patch must be a JSON object, got ${kindOf(patch)}`);
  }
  if (!isObject(original)) {
    throw new BadRequestError(`strategic merge patch target must be a JSON object, got ${kindOf(original)}`);
  }
  const schema: Schema = { kind: 'struct', def: typeDef(typeName) };
  return mergeMap(cloneJson(original), cloneJson(patch), schema, '');
}

// ---- maps ----

/** Merges `patch` into `original` (both owned by this module: mutated and returned). */
function mergeMap(original: JsonObject, patch: JsonObject, schema: Schema, path: string): JsonObject {
  if (Object.hasOwn(patch, PATCH)) {
    const directive = patch[PATCH];
    // "merge" is the default and documented as such; upstream rejects it on maps, we accept it.
    if (directive !== 'replace' && directive !== 'delete' && directive !== 'merge') {
      throw unknownPatchType(path, directive, patch);
    }
    if (directive === 'delete') return {};
    delete patch[PATCH];
    if (directive === 'replace') return stripMap(patch, path);
  }

  applyRetainKeys(original, patch, path);
  // Ordering directives consume their list from the patch, so they run before the main loop.
  applySetElementOrder(original, patch, schema, path);

  for (const [patchKey, patchV] of Object.entries(patch)) {
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      key = directiveTarget(patchKey, DELETE_FROM_PRIMITIVE_LIST, path);
      isDeleteList = true;
    }
    const at = join(path, key);

    if (patchV === null) {
      delete original[key];
      continue;
    }
    if (isDeleteList) {
      if (!Array.isArray(patchV)) {
        throw bad(at, `invalid patch format of primitive list: ${patchKey} must be a list, got ${kindOf(patchV)}`);
      }
      const current = Object.hasOwn(original, key) ? original[key] : undefined;
      // Nothing to delete from: the directive never adds the list.
      if (!Array.isArray(current)) continue;
      const meta = lookupField(schema, key);
      setKey(original, key, mergeSlice(current, patchV, elementSchema(meta), meta.mergeKey, true, at));
      continue;
    }

    if (!Object.hasOwn(original, key) || kindOf(original[key]) !== kindOf(patchV)) {
      const v = strip(patchV, at, false);
      if (v === DROP) delete original[key];
      else setKey(original, key, v);
      continue;
    }

    const meta = lookupField(schema, key);
    if (isObject(patchV)) {
      setKey(
        original,
        key,
        meta.strategy === 'replace'
          ? stripMap(patchV, at)
          : mergeMap(original[key] as JsonObject, patchV, schemaOf(meta.prop), at),
      );
    } else if (Array.isArray(patchV)) {
      setKey(
        original,
        key,
        meta.strategy === 'merge'
          ? mergeSlice(original[key] as unknown[], patchV, elementSchema(meta), meta.mergeKey, false, at)
          : stripList(patchV, at),
      );
    } else {
      setKey(original, key, patchV);
    }
  }
  return original;
}

/** `$retainKeys`: every key of `original` not listed is cleared; the patch may only set listed keys. */
function applyRetainKeys(original: JsonObject, patch: JsonObject, path: string): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) {
    throw bad(path, `invalid patch format of retainKeys: ${RETAIN_KEYS} must be a list, got ${kindOf(list)}`);
  }
  const keep = new Set<unknown>(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) {
      throw bad(path, `invalid patch format of retainKeys: the patch sets "${k}", which ${RETAIN_KEYS} ${show(list)} does not list`);
    }
  }
  for (const k of Object.keys(original)) {
    if (!keep.has(k)) delete original[k];
  }
}

/**
 * `$setElementOrder/<list>`: merges the list (when the patch carries it) and puts the
 * listed items in the given order; items only the live object has keep their place
 * relative to the live order.
 */
function applySetElementOrder(original: JsonObject, patch: JsonObject, schema: Schema, path: string): void {
  for (const patchKey of Object.keys(patch)) {
    if (!patchKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[patchKey];
    delete patch[patchKey];
    const key = directiveTarget(patchKey, SET_ELEMENT_ORDER, path);
    const at = join(path, key);
    if (!Array.isArray(order)) {
      throw bad(at, `invalid patch format of setElementOrder list: ${patchKey} must be a list, got ${kindOf(order)}`);
    }
    // A live value that is not a list is replaced by the patch list, as a type change would be.
    const live = Array.isArray(original[key]) && Object.hasOwn(original, key) ? (original[key] as unknown[]) : undefined;
    let patchList: unknown[] | undefined;
    if (Object.hasOwn(patch, key)) {
      const v = patch[key];
      if (!Array.isArray(v)) {
        throw bad(at, `invalid patch format of setElementOrder list: ${patchKey} goes with a list, but the patch has ${kindOf(v)}`);
      }
      patchList = v;
    }
    const meta = lookupField(schema, key);
    validatePatchWithSetOrderList(patchList ?? [], order, meta.mergeKey, at);

    let merged: unknown[];
    if (live && !patchList) merged = live;
    else if (!live && patchList) merged = stripList(patchList, at);
    else if (live && patchList) {
      merged =
        meta.strategy === 'merge'
          ? mergeSlice(live, patchList, elementSchema(meta), meta.mergeKey, false, at)
          : stripList(patchList, at);
    } else continue;
    delete patch[key];

    const kind = elementKind([live ?? [], patchList ?? []], at);
    // Objects without a merge key have no identity to order by.
    if (kind === undefined || (kind === 'object' && !meta.mergeKey)) {
      setKey(original, key, merged);
      continue;
    }
    if (meta.mergeKey) requireMergeKeys(order, meta.mergeKey, `${at} (${patchKey})`);
    const [listed, serverOnly] = partitionByPresence(merged, order, meta.mergeKey, at);
    setKey(original, key, normalizeElementOrder(listed, serverOnly, order, live ?? [], meta.mergeKey));
  }
}

/**
 * The patch list's items (deletions aside) must appear in `$setElementOrder` in the same
 * relative order.
 */
function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string, at: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey ? patchList.filter((v) => !(isObject(v) && v[PATCH] === 'delete')) : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    if (isObject(items[p]) && Object.hasOwn(items[p] as JsonObject, PATCH)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(items[p], order[s], mergeKey, at)) p++;
    s++;
  }
  if (p < items.length) {
    throw bad(at, `invalid patch format of setElementOrder list: the order in the patch list ${show(patchList)} doesn't match ${SET_ELEMENT_ORDER} list ${show(order)}`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string, at: string): boolean {
  if (!mergeKey) return sameValue(left, right);
  if (!isObject(left) || !isObject(right)) {
    throw bad(at, `expected a map with merge key "${mergeKey}", got ${show(isObject(left) ? right : left)}`);
  }
  if (!Object.hasOwn(left, mergeKey)) throw noMergeKey(at, left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) throw noMergeKey(at, right, mergeKey);
  return sameValue(left[mergeKey], right[mergeKey]);
}

// ---- lists ----

/**
 * Merges a list with patch strategy "merge": maps by merge key, primitives as a set.
 * With `isDeleteList` the patch lists primitives to remove instead.
 */
function mergeSlice(
  original: unknown[],
  patch: unknown[],
  schema: Schema,
  mergeKey: string,
  isDeleteList: boolean,
  at: string,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind([original, patch], at);

  let merged: unknown[];
  let serverOrder: unknown[];
  let patchItems: unknown[];
  if (kind !== 'object') {
    if (isDeleteList) {
      const remove = new Set(patch);
      return original.filter((v) => !remove.has(v));
    }
    merged = [...new Set([...original, ...patch])];
    serverOrder = original;
    patchItems = patch;
  } else {
    if (isDeleteList) {
      throw bad(at, `invalid patch format of primitive list: ${DELETE_FROM_PRIMITIVE_LIST} applies to lists of primitives, not of maps`);
    }
    if (!mergeKey) throw bad(at, `cannot merge lists without merge key for ${at}`);
    [serverOrder, patchItems] = applyListDirectives(original, patch, mergeKey, at);
    merged = mergeByKey(serverOrder.slice(), patchItems, mergeKey, schema, at);
  }

  const [inPatch, serverOnly] = partitionByPresence(merged, patchItems, mergeKey, at);
  return normalizeElementOrder(inPatch, serverOnly, patchItems, serverOrder, mergeKey);
}

/**
 * Handles the items carrying `$patch`: `delete` removes every live item with that merge
 * key; `replace` makes the rest of the patch list the whole list. Returns the live list
 * to merge into and the patch items left to merge.
 */
function applyListDirectives(original: unknown[], patch: unknown[], mergeKey: string, at: string): [unknown[], unknown[]] {
  let live = original;
  const rest: unknown[] = [];
  let replace = false;
  patch.forEach((item, i) => {
    const m = item as JsonObject;
    if (!Object.hasOwn(m, PATCH)) {
      rest.push(item);
      return;
    }
    const itemAt = `${at}[${i}]`;
    switch (m[PATCH]) {
      case 'delete': {
        if (!Object.hasOwn(m, mergeKey)) throw noMergeKey(itemAt, m, mergeKey);
        const value = m[mergeKey];
        live = live.filter((v) => !(isObject(v) && Object.hasOwn(v, mergeKey) && sameValue(v[mergeKey], value)));
        break;
      }
      case 'replace':
        // Keep going: other directive items are still checked and dropped.
        replace = true;
        break;
      case 'merge':
        throw bad(itemAt, 'merging lists cannot yet be specified in the patch');
      default:
        throw unknownPatchType(itemAt, m[PATCH], m);
    }
  });
  if (replace) return [stripList(rest, at), []];
  return [live, rest];
}

/** Merges each patch item into the live item with the same merge key, or adds it. */
function mergeByKey(live: unknown[], patch: unknown[], mergeKey: string, schema: Schema, at: string): unknown[] {
  patch.forEach((item, i) => {
    const m = item as JsonObject;
    const itemAt = `${at}[${i}]`;
    if (!Object.hasOwn(m, mergeKey)) throw noMergeKey(itemAt, m, mergeKey);
    const idx = live.findIndex((v) => isObject(v) && Object.hasOwn(v, mergeKey) && sameValue(v[mergeKey], m[mergeKey]));
    if (idx >= 0) live[idx] = mergeMap(live[idx] as JsonObject, m, schema, itemAt);
    else {
      const added = strip(m, itemAt, false);
      if (added !== DROP) live.push(added);
    }
  });
  return live;
}

/** Splits `items` into those present in `by` (by merge key, or by value) and the rest. */
function partitionByPresence(items: unknown[], by: unknown[], mergeKey: string, at: string): [unknown[], unknown[]] {
  const present: unknown[] = [];
  const absent: unknown[] = [];
  for (const v of items) {
    let found: boolean;
    if (mergeKey) {
      if (!isObject(v)) throw bad(at, `expected a map with merge key "${mergeKey}", got ${show(v)}`);
      if (!Object.hasOwn(v, mergeKey)) throw noMergeKey(at, v, mergeKey);
      found = by.some((b) => {
        if (!isObject(b)) throw bad(at, `expected a map with merge key "${mergeKey}", got ${show(b)}`);
        return Object.hasOwn(b, mergeKey) && sameValue(b[mergeKey], v[mergeKey]);
      });
    } else {
      found = by.some((b) => sameValue(b, v));
    }
    (found ? present : absent).push(v);
  }
  return [present, absent];
}

/**
 * The order upstream gives a merged list: patch items in patch order, live-only items
 * in live order, then the two interleaved so that a live-only item goes before a patch
 * item only when both are in the live list and it came first there. Items new to the
 * list therefore land ahead of the live-only items that follow them.
 */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
): unknown[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Stable sort by position in `order`; items not in it go last, in their current order. */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string): unknown[] {
  return items
    .map((v, n) => ({ v, n, at: indexIn(order, v, mergeKey) }))
    .sort((a, b) => (a.at < 0 ? Infinity : a.at) - (b.at < 0 ? Infinity : b.at) || a.n - b.n)
    .map((e) => e.v);
}

function indexIn(list: unknown[], item: unknown, mergeKey: string): number {
  if (!mergeKey) return list.findIndex((v) => sameValue(v, item));
  const want = (item as JsonObject)[mergeKey];
  return list.findIndex((v) => isObject(v) && Object.hasOwn(v, mergeKey) && sameValue(v[mergeKey], want));
}

function requireMergeKeys(list: unknown[], mergeKey: string, at: string): void {
  for (const v of list) {
    if (!isObject(v)) throw bad(at, `expected a map with merge key "${mergeKey}", got ${show(v)}`);
    if (!Object.hasOwn(v, mergeKey)) throw noMergeKey(at, v, mergeKey);
  }
}

/** The one kind shared by every item of the lists; undefined when they are all empty. */
function elementKind(lists: unknown[][], at: string): Kind | undefined {
  let kind: Kind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (k === 'array') throw new StatusError(422, 'Invalid', `${at}: lists of lists are not supported`);
      if (kind === undefined) kind = k;
      else if (kind !== k) {
        throw bad(at, `list element types are not identical: ${show(lists)}`);
      }
    }
  }
  return kind;
}

// ---- values taken from the patch as they are ----

const DROP = Symbol('drop');

/**
 * A patch value stored where the live object has nothing to merge it with. As upstream:
 * nulls inside maps are dropped and list items carrying `$patch` are dropped. A map
 * carrying `$patch: delete` is dropped; with `replace` or `merge` its content is kept
 * (upstream drops such a map entirely, losing content the client asked for). Other
 * directive keys have nothing to act on and are removed.
 */
function strip(v: unknown, at: string, inList: boolean): unknown | typeof DROP {
  if (Array.isArray(v)) return stripList(v, at);
  if (!isObject(v)) return v;
  if (Object.hasOwn(v, PATCH)) {
    if (inList) return DROP;
    const directive = v[PATCH];
    if (directive === 'delete') return DROP;
    if (directive !== 'replace' && directive !== 'merge') throw unknownPatchType(at, directive, v);
  }
  return stripMap(v, at);
}

function stripMap(m: JsonObject, at: string): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === null || k === PATCH || k === RETAIN_KEYS) continue;
    if (k.startsWith(SET_ELEMENT_ORDER) || k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    const s = strip(v, join(at, k), false);
    if (s !== DROP) setKey(out, k, s);
  }
  return out;
}

function stripList(list: unknown[], at: string): unknown[] {
  const out: unknown[] = [];
  list.forEach((v, i) => {
    const s = strip(v, `${at}[${i}]`, true);
    if (s !== DROP) out.push(s);
  });
  return out;
}

// ---- schema lookups ----

function schemaOf(prop: Prop | undefined): Schema {
  if (prop?.type === 'ref') return { kind: 'struct', def: typeDef(prop.ref) };
  if (prop?.type === 'map') return { kind: 'map', values: prop.values };
  return OPAQUE;
}

function lookupField(schema: Schema, key: string): FieldMeta {
  if (schema.kind === 'struct') {
    const f = schema.def.fields[key];
    if (!f) return { strategy: '', mergeKey: '' };
    const strategy = (f.strategy ?? '').split(',').find((s) => s !== 'retainKeys') ?? '';
    return { prop: f, strategy, mergeKey: f.mergeKey ?? '' };
  }
  if (schema.kind === 'map') return { prop: schema.values, strategy: '', mergeKey: '' };
  return { strategy: '', mergeKey: '' };
}

function elementSchema(meta: FieldMeta): Schema {
  return meta.prop?.type === 'array' ? schemaOf(meta.prop.items) : OPAQUE;
}

// ---- helpers ----

function directiveTarget(patchKey: string, prefix: string, path: string): string {
  const slash = patchKey.indexOf('/');
  if (slash < 0 || patchKey.slice(0, slash) !== prefix || slash === patchKey.length - 1) {
    const what = prefix === SET_ELEMENT_ORDER ? 'setElementOrder list' : 'primitive list';
    throw bad(path, `invalid patch format of ${what}: "${patchKey}" must be "${prefix}/<field>"`);
  }
  return patchKey.slice(slash + 1);
}

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  return 'object';
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merge-key and primitive-list equality: scalars by value, anything else by JSON text. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Sets an own property even for "__proto__", which plain assignment would turn into a prototype change. */
function setKey(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function cloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function bad(path: string, message: string): BadRequestError {
  return new BadRequestError(path ? `${path}: ${message}` : message);
}

function noMergeKey(at: string, m: JsonObject, mergeKey: string): BadRequestError {
  return bad(at, `map: ${show(m)} does not contain declared merge key: ${mergeKey}`);
}

function unknownPatchType(at: string, directive: unknown, m: JsonObject): BadRequestError {
  return bad(at, `unknown patch type: ${show(directive)} in map: ${show(m)}`);
}
