/**
 * The JSON text of an object the watch cache keeps cold, deflated against a preset
 * dictionary of its resource: the text of a recent object of that resource, so what every
 * object of the resource shares (field names, the pod template, managed fields) costs a few
 * bytes of back-references. A bench pod's 1.9 kB of JSON packs to about 100 bytes, an
 * Event's 1.0 kB to about 160. At a million pods the texts were most of the apiserver's heap.
 *
 * The packed bytes are kept as a one-byte JS string (latin1: a character per byte), not a
 * Buffer: a small Buffer is a view on a pooled 8 KiB slab and keeps the whole slab alive
 * (pooled slices retained 374 MiB more than the strings they would have replaced).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** the longest text a dictionary is made of: zlib's window must hold it and the text packed after it */
const DICTIONARY_MAX = 4096;

/**
 * zlib settings: an 8 KiB window (dictionary and object both fit; deflate's state is a
 * quarter of the default's, so each call allocates and clears less) and small output
 * chunks (one packed object is a few hundred bytes, its text a few kB).
 */
const WINDOW_BITS = 13;
const DEFLATE_OPTIONS = { windowBits: WINDOW_BITS, memLevel: 7, chunkSize: 4096 } as const;
const INFLATE_CHUNK = 512;

/**
 * The texts of a resource's objects are packed against. Never changed once made: every
 * packed text keeps a reference to the one it was packed with, so a resource that picks a
 * newer dictionary leaves the older texts readable.
 */
export class PackDictionary {
  private readonly deflateOptions: object;
  private readonly inflateOptions: object;

  constructor(text: string) {
    let bytes = Buffer.from(text);
    if (bytes.length > DICTIONARY_MAX) bytes = Buffer.from(bytes.subarray(0, DICTIONARY_MAX));
    this.deflateOptions = { ...DEFLATE_OPTIONS, dictionary: bytes };
    this.inflateOptions = { windowBits: WINDOW_BITS, chunkSize: INFLATE_CHUNK, dictionary: bytes };
  }

  /** `text` deflated, as a latin1 string */
  deflate(text: string): string {
    return deflateRawSync(Buffer.from(text), this.deflateOptions).toString('latin1');
  }

  /** the text `deflate` packed */
  inflate(packed: string): string {
    return inflateRawSync(Buffer.from(packed, 'latin1'), this.inflateOptions).toString('utf8');
  }
}

/** A text as packed, and the dictionary that unpacks it. */
export interface Packed {
  bytes: string;
  dictionary: PackDictionary;
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
