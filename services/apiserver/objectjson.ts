/**
 * An object's JSON, made once per write. Every write used to stringify its object three
 * times: for the store (without resourceVersion), for its change event and batch reply,
 * and for the watch frames the watch cache fans out once the store's entry comes back.
 * The last two differ from the first only by `metadata.resourceVersion`, which every
 * write path appends last to metadata once the store has answered, so they are the stored
 * text with that one field spliced in: byte for byte what JSON.stringify would give.
 */

/** The stored encoding: the object's JSON without resourceVersion and selfLink, and where its metadata ends. */
export interface StoredJson {
  text: string;
  /** index in `text` of the `}` that closes metadata */
  metaEnd: number;
}

/** The same text as JSON.stringify({ ...obj, metadata: <metadata without resourceVersion, selfLink> }). */
export function encodeStored(obj: any): StoredJson {
  const { resourceVersion: _rv, selfLink: _sl, ...meta } = obj.metadata ?? {};
  let text = '{';
  let metaEnd = -1;
  const add = (key: string, value: unknown) => {
    const json = JSON.stringify(value);
    if (json === undefined) return;
    text += (text.length > 1 ? ',' : '') + JSON.stringify(key) + ':' + json;
  };
  for (const key of Object.keys(obj)) {
    if (key !== 'metadata') add(key, obj[key]);
    else {
      add(key, meta);
      metaEnd = text.length - 1;
    }
  }
  if (metaEnd < 0) {
    // a spread adds the metadata key last when the object had none
    add('metadata', meta);
    metaEnd = text.length - 1;
  }
  return { text: text + '}', metaEnd };
}

/**
 * JSON.stringify of the written object: the stored text with `"resourceVersion":"<rev>"`
 * as the last field of metadata. Only for an object whose metadata has resourceVersion
 * last and no selfLink, and is otherwise what was encoded.
 */
export function withResourceVersion(s: StoredJson, rev: number | string): string {
  const empty = s.text.charCodeAt(s.metaEnd - 1) === 0x7b; // metadata is "{}"
  return `${s.text.slice(0, s.metaEnd)}${empty ? '' : ','}"resourceVersion":${JSON.stringify(String(rev))}${s.text.slice(s.metaEnd)}`;
}

/**
 * Encodings of objects the watch cache just took from the store (their written JSON is
 * known), until a watch frame uses them. Bounded: an encoding nobody sent is dropped
 * oldest first, and the object is then simply stringified.
 */
const MAX_KNOWN = 16_384;
const known = new Map<object, string>();

/** Records `json` as JSON.stringify(obj); the caller vouches that obj is not changed afterwards. */
export function rememberJson(obj: object, json: string): void {
  if (known.size >= MAX_KNOWN) known.delete(known.keys().next().value!);
  known.set(obj, json);
}

/**
 * The objects watch frames carried this turn, encoded: every watcher of a resource is sent
 * the watch cache's same object (the scheduler's informer and the benchmark's tracker both
 * watch pods), so each is encoded once per turn rather than once per watcher. Cleared by a
 * setImmediate queued behind the flushes that share it, so an object is never served from
 * an encoding older than the turn it was queued in.
 */
const encodedThisTurn = new Map<object, string>();

/** JSON.stringify(obj), from its write's encoding or this turn's when there is one. */
export function objectJson(obj: object): string {
  let json = encodedThisTurn.get(obj);
  if (json === undefined) {
    if (encodedThisTurn.size === 0) setImmediate(() => encodedThisTurn.clear());
    json = known.get(obj);
    if (json !== undefined) known.delete(obj);
    else json = JSON.stringify(obj);
    encodedThisTurn.set(obj, json);
  }
  return json;
}
