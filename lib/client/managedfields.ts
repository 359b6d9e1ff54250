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
    if (depth > 0) break; // truncated text: leave the rest to JSON.parse's error
    let start = at;
    let end = j;
    // take one comma with the member: the one after it, else the one before it
    if (b[end] === COMMA) end++;
    else if (start > 0 && b[start - 1] === COMMA) start--;
    kept.push(b.subarray(from, start));
    from = end;
    at = b.indexOf(KEY, end);
  }
  kept.push(b.subarray(from));
  return Buffer.concat(kept);
}

/** Drops metadata.managedFields of a decoded object (what a list reply's items get). */
export function dropManagedFields<T extends { metadata?: { managedFields?: unknown } }>(obj: T): T {
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}
