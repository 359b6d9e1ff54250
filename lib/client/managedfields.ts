/**
 * Reading objects without their managedFields. A watched pod's managedFields are about
 * 40% of its bytes and most of its nested objects, and few readers need them (the
 * scheduler, a benchmark's tracker, caches of whole objects): a watch asked to omit them
 * cuts them out of each frame's bytes before the frame is decoded, so neither the UTF-8
 * decode nor JSON.parse nor the garbage collector pays for them, and a cache does not
 * hold them.
 */

const KEY = Buffer.from('"managedFields":[');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * The JSON text in `data` with every member named managedFields (an array) removed, at
 * any depth; `data` itself when there is none. Only compact JSON is cut (as the API
 * writes it: no space after the colon); other spacing leaves the text as it was. The
 * key cannot match inside a string, where its quotes would be escaped.
 */
export function withoutManagedFields(data: Uint8Array): Uint8Array {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = b.indexOf(KEY);
  if (at < 0) return data;
  const kept: Buffer[] = [];
  let from = 0;
  while (at >= 0) {
    const member = memberAt(b, at);
    if (!member) break; // truncated text: leave the rest to JSON.parse's error
    kept.push(b.subarray(from, member[0]));
    from = member[1];
    at = b.indexOf(KEY, from);
  }
  kept.push(b.subarray(from));
  return Buffer.concat(kept);
}

/**
 * The byte range of the managedFields member whose key starts at `at`, with one comma (the
 * one after it, else the one before it), so that cutting it leaves valid JSON; undefined
 * when the text ends inside it.
 */
function memberAt(b: Buffer, at: number): [number, number] | undefined {
  // find the array's closing bracket, skipping strings (brackets in field keys such as k:{"name":"c"})
  let j = at + KEY.length;
  let depth = 1;
  let inString = false;
  while (j < b.length && depth > 0) {
    const c = b[j++]!;
    if (inString) {
      if (c === BACKSLASH) j++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  if (depth > 0) return undefined;
  let start = at;
  let end = j;
  if (b[end] === COMMA) end++;
  else if (start > 0 && b[start - 1] === COMMA) start--;
  return [start, end];
}

const METADATA = Buffer.from('"metadata":{');

/**
 * One object's compact JSON without its metadata.managedFields, and nothing else: a member
 * of that name deeper in the object (a template's metadata, a custom resource's own field)
 * stays. `json` itself when there is none. What the apiserver sends a watch that asked to
 * omit them (the key cannot match inside a string, where its quotes would be escaped).
 */
export function withoutMetadataManagedFields(json: Uint8Array): Uint8Array {
  const member = metadataManagedFieldsMember(json);
  if (!member) return json;
  const b = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  return Buffer.concat([b.subarray(0, member[0]), b.subarray(member[1])]);
}

/**
 * The byte range of one object's metadata.managedFields member in its compact JSON, with
 * the comma that cutting it takes along (withoutMetadataManagedFields); undefined when
 * there is none. The apiserver copies the two pieces around it straight into its watch
 * frames rather than joining them first.
 */
export function metadataManagedFieldsMember(json: Uint8Array): [number, number] | undefined {
  const b = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  let at = b.indexOf(KEY);
  if (at < 0) return undefined;
  // walk the text up to each candidate, tracking depth and strings, to find the one that is
  // a member of the top-level metadata
  let depth = 0;
  let inMetadata = false;
  let i = 0;
  while (at >= 0) {
    for (; i < at; i++) {
      const c = b[i]!;
      if (c === QUOTE) {
        if (depth === 1 && b.compare(METADATA, 0, METADATA.length, i, i + METADATA.length) === 0) {
          inMetadata = true;
          depth++;
          i += METADATA.length - 1;
          continue;
        }
        // skip the string
        for (i++; i < b.length && b[i] !== QUOTE; i++) if (b[i] === BACKSLASH) i++;
      } else if (c === 0x5b || c === 0x7b) depth++;
      else if (c === 0x5d || c === 0x7d) {
        if (depth === 2) inMetadata = false;
        depth--;
      }
    }
    if (depth === 2 && inMetadata) return memberAt(b, at);
    at = b.indexOf(KEY, at + 1);
  }
  return undefined;
}

/** Drops metadata.managedFields of a decoded object (what a list reply's items get). */
export function dropManagedFields<T extends { metadata?: { managedFields?: unknown } }>(obj: T): T {
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}
