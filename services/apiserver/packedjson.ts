/**
 * The JSON text of an object the watch cache keeps cold, packed against a dictionary of its
 * resource: the text of a recent object of that resource, so what every object of the
 * resource shares (field names, the pod template, managed fields) is a few bytes of
 * references into it. A bench pod's 1.9 kB of JSON packs to about 95 bytes, an Event's
 * 1.0 kB to about 175. At a million pods the texts were most of the apiserver's heap.
 *
 * The packing is LZ77 against the dictionary alone, in JavaScript, on the text's UTF-16
 * code units: the dictionary's index of substrings is built once, when it is picked. It
 * was zlib's raw deflate with a preset dictionary, which cost ~25 µs per object, most of it
 * a zlib stream made for each call (its state allocated and cleared, the dictionary hashed
 * again) and the text's UTF-8 encoding; every pod freezes twice (itself and its Event).
 * npm's pure-JavaScript deflate with dictionaries, fflate 0.8.3, was no answer: it allocates
 * its tables and hashes the dictionary on each call too (a 1.2 kB pod: 65-99 µs to pack,
 * 200-325 µs to unpack, against 7.5 and 1-2 µs here, Dec 5 11:29 UTC, load 3.9).
 *
 * A text much longer than a dictionary (a large ConfigMap) is deflated by zlib instead, on
 * its own: what it repeats is in itself, and zlib's cost per call is small beside it.
 *
 * A packed text is a string of operations, each a literal run and a copy from the
 * dictionary: varint(literal length), the literal code units, varint(copy length), and
 * when that is not 0 (the end), varint(copy start). A varint is 7 bits per code unit, the
 * high bit (128) set on all but the last, so a packed ASCII text is a one-byte string.
 */

import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** the longest text a dictionary is made of (copy starts stay two varint units) */
const DICTIONARY_MAX = 4096;

/** the shortest copy: a shorter one would not pay for its varints */
const MIN_MATCH = 8;
/** the dictionary's index: the first position of each hashed run of MIN_MATCH code units */
const HASH_BITS = 13;

function hashAt(s: Uint16Array, i: number): number {
  let h = 0;
  for (let k = 0; k < MIN_MATCH; k++) h = Math.imul(h ^ s[i + k], 0x9e3779b1);
  return h >>> (32 - HASH_BITS);
}

/**
 * A text's UTF-16 code units, and a view of the same bytes for 32-bit reads: a match is
 * extended four code units a step (two reads on each side), about 3× faster than charCodeAt
 * on both strings a unit at a time (a bench pod: 2.1 against 7.0 µs a pack), and a text is
 * one `write` away (lone surrogates kept).
 */
interface Units {
  units: Uint16Array;
  view: DataView;
}

function unitsOf(bytes: Buffer): Units {
  return { units: new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1), view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length) };
}

/** the text being packed, as code units: one buffer for every pack */
let scratchBytes = Buffer.allocUnsafeSlow(32 * 1024);
let scratch = unitsOf(scratchBytes);

/** `text` written into the scratch units; returns its length */
function toScratch(text: string): number {
  if (scratchBytes.length < text.length * 2) {
    scratchBytes = Buffer.allocUnsafeSlow(text.length * 2);
    scratch = unitsOf(scratchBytes);
  }
  return scratchBytes.write(text, 0, 'utf16le') >> 1;
}

/** output code units, grown as a text needs: one buffer for every pack */
let out = new Uint16Array(16 * 1024);

function ensure(n: number): void {
  if (out.length < n) out = new Uint16Array(Math.max(n, out.length * 2));
}

/** `out[0, n)` as a string */
function outString(n: number): string {
  const CHUNK = 8192;
  if (n <= CHUNK) return String.fromCharCode.apply(null, out.subarray(0, n) as unknown as number[]);
  let s = '';
  for (let i = 0; i < n; i += CHUNK) s += String.fromCharCode.apply(null, out.subarray(i, Math.min(n, i + CHUNK)) as unknown as number[]);
  return s;
}

/** texts from this length on are deflated by zlib */
const ZLIB_FROM = 16 * 1024;

/** What gives a packed text back. */
export interface Unpacker {
  inflate(packed: string): string;
}

/** A long text deflated by zlib on its own, kept as a latin1 string as the packed ones are. */
const ZLIB: Unpacker = {
  inflate: (packed) => inflateRawSync(Buffer.from(packed, 'latin1')).toString('utf8'),
};

function zlibDeflate(text: string): string {
  return deflateRawSync(Buffer.from(text)).toString('latin1');
}

/**
 * The texts of a resource's objects are packed against. Never changed once made: every
 * packed text keeps a reference to the one it was packed with, so a resource that picks a
 * newer dictionary leaves the older texts readable.
 */
export class PackDictionary implements Unpacker {
  private readonly text: string;
  /** `text`'s code units */
  private readonly dict: Units;
  /** hash of MIN_MATCH code units -> 1 + their first position in `text` (0: none) */
  private readonly index = new Int32Array(1 << HASH_BITS);

  constructor(text: string) {
    const cut = text.length > DICTIONARY_MAX ? text.slice(0, DICTIONARY_MAX) : text;
    // an ArrayBuffer of its own, aligned for the code units (a pool slab's offset may be odd)
    const bytes = Buffer.allocUnsafeSlow(cut.length * 2);
    bytes.write(cut, 0, 'utf16le');
    // a string of its own: a slice would keep the whole text it was cut from alive
    this.text = bytes.toString('utf16le');
    this.dict = unitsOf(bytes);
    const units = this.dict.units;
    for (let p = 0; p + MIN_MATCH <= units.length; p++) {
      const h = hashAt(units, p);
      if (this.index[h] === 0) this.index[h] = p + 1;
    }
  }

  /** `text` packed */
  deflate(text: string): string {
    const { units: d, view: dv } = this.dict;
    const dl = d.length;
    const n = toScratch(text);
    const { units: t, view: tv } = scratch;
    // worst case: one literal run (3 varint units for its length) and the end
    ensure(n + 8);
    let o = 0;
    let lit = 0;
    let i = 0;
    const varint = (v: number) => {
      while (v >= 128) {
        out[o++] = (v & 127) | 128;
        v >>>= 7;
      }
      out[o++] = v;
    };
    while (i + MIN_MATCH <= n) {
      let p = this.index[hashAt(t, i)] - 1;
      let len = 0;
      if (p >= 0) {
        while (len < MIN_MATCH && t[i + len] === d[p + len]) len++;
      }
      if (len < MIN_MATCH) {
        i++;
        continue;
      }
      // four code units a step while both have four more, then one at a time
      const last4 = Math.min(n - i, dl - p) - 4;
      let a = (i + len) * 2;
      let b = (p + len) * 2;
      while (len <= last4 && tv.getUint32(a, true) === dv.getUint32(b, true) && tv.getUint32(a + 4, true) === dv.getUint32(b + 4, true)) {
        len += 4;
        a += 8;
        b += 8;
      }
      while (i + len < n && p + len < dl && t[i + len] === d[p + len]) len++;
      // a copy may start earlier, in the literal run before it
      while (i > lit && p > 0 && t[i - 1] === d[p - 1]) {
        i--;
        p--;
        len++;
      }
      // a copy costs at most 8 units of varints, and saves at least MIN_MATCH literal ones
      ensure(o + (i - lit) + 16);
      varint(i - lit);
      for (let k = lit; k < i; k++) out[o++] = t[k];
      varint(len);
      varint(p);
      i += len;
      lit = i;
    }
    ensure(o + (n - lit) + 8);
    varint(n - lit);
    for (let k = lit; k < n; k++) out[o++] = t[k];
    out[o++] = 0;
    return outString(o);
  }

  /** the text `deflate` packed */
  inflate(packed: string): string {
    const dict = this.text;
    let i = 0;
    const varint = () => {
      let v = 0;
      let shift = 0;
      for (;;) {
        const c = packed.charCodeAt(i++);
        v += (c & 127) * 2 ** shift;
        if (c < 128) return v;
        shift += 7;
      }
    };
    let s = '';
    for (;;) {
      const l = varint();
      if (l) s += packed.slice(i, (i += l));
      const len = varint();
      if (len === 0) return s;
      const p = varint();
      s += dict.slice(p, p + len);
    }
  }
}

/** A text as packed, and the dictionary that unpacks it. */
export interface Packed {
  bytes: string;
  dictionary: Unpacker;
}

/**
 * The packs after which a resource takes the text being packed as its new dictionary: its
 * first object may not be what most of them become (a system pod before the workload's;
 * a pod frozen before it was bound), a later one is likelier to be. A few only: each old
 * dictionary stays alive as long as a text packed with it.
 */
const REPICK_AT = new Set([1, 64, 4096, 65536]);

/** Packs the texts of one resource's objects. */
export class JsonPacker {
  private dictionary?: PackDictionary;
  private packs = 0;

  /** `text` packed, or undefined when packing would not make it smaller. */
  pack(text: string): Packed | undefined {
    if (text.length >= ZLIB_FROM) {
      const bytes = zlibDeflate(text);
      return bytes.length < text.length ? { bytes, dictionary: ZLIB } : undefined;
    }
    if (REPICK_AT.has(++this.packs)) this.dictionary = new PackDictionary(text);
    const dictionary = this.dictionary!;
    const bytes = dictionary.deflate(text);
    return bytes.length < text.length ? { bytes, dictionary } : undefined;
  }

  /** The dictionary texts are packed with now (undefined before the first). */
  get current(): PackDictionary | undefined {
    return this.dictionary;
  }
}
