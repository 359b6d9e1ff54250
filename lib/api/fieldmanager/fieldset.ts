/**
 * A set of field paths (upstream's fieldpath.Set) as a trie keyed by serialized path
 * elements, with the set algebra field management needs and the FieldsV1 encoding.
 * A path is in the set when the trie node it leads to is a member; nodes that are not
 * members exist only to reach deeper ones.
 */
import { comparePathElements, isPathElement, pathText } from './pathelement.js';
import type { FieldsV1 } from './types.js';

export class FieldSet {
  member = false;
  children?: Map<string, FieldSet>;

  /** The child node for `pe`, created when missing. */
  child(pe: string): FieldSet {
    const c = (this.children ??= new Map()).get(pe);
    if (c) return c;
    const n = new FieldSet();
    this.children.set(pe, n);
    return n;
  }

  get(pe: string): FieldSet | undefined {
    return this.children?.get(pe);
  }

  /** Adds a path (the empty path is not a field and is ignored, as upstream). */
  insert(path: readonly string[]): void {
    if (!path.length) return;
    let n: FieldSet = this;
    for (const pe of path) n = n.child(pe);
    n.member = true;
  }

  has(path: readonly string[]): boolean {
    if (!path.length) return false;
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n.children?.get(pe);
      if (!n) return false;
    }
    return n.member;
  }

  /** The node at `path`, if the trie reaches it. */
  at(path: readonly string[]): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n?.children?.get(pe);
      if (!n) return undefined;
    }
    return n;
  }

  /** Whether any path in this subtree (the node itself excluded) is a member. */
  empty(): boolean {
    if (!this.children) return true;
    for (const c of this.children.values()) if (c.member || !c.empty()) return false;
    return true;
  }

  /** Whether the node at `pe` or anything under it is a member. */
  touches(pe: string): boolean {
    const c = this.children?.get(pe);
    return !!c && (c.member || !c.empty());
  }

  clone(): FieldSet {
    const n = new FieldSet();
    n.member = this.member;
    if (this.children) {
      n.children = new Map();
      for (const [k, c] of this.children) n.children.set(k, c.clone());
    }
    return n;
  }

  union(o: FieldSet): FieldSet {
    const n = new FieldSet();
    n.member = this.member || o.member;
    const keys = new Set<string>();
    if (this.children) for (const k of this.children.keys()) keys.add(k);
    if (o.children) for (const k of o.children.keys()) keys.add(k);
    if (keys.size) {
      n.children = new Map();
      for (const k of keys) {
        const a = this.children?.get(k);
        const b = o.children?.get(k);
        n.children.set(k, a && b ? a.union(b) : (a ?? b)!.clone());
      }
    }
    return n;
  }

  /** Paths in this set and not in `o` (a member of `o` removes only itself, not its children). */
  difference(o: FieldSet): FieldSet {
    const n = new FieldSet();
    n.member = this.member && !o.member;
    if (this.children) {
      for (const [k, a] of this.children) {
        const b = o.children?.get(k);
        const d = b ? a.difference(b) : a.clone();
        if (d.member || !d.empty()) (n.children ??= new Map()).set(k, d);
      }
    }
    return n;
  }

  /** Paths in both sets. */
  intersection(o: FieldSet): FieldSet {
    const n = new FieldSet();
    n.member = this.member && o.member;
    if (this.children && o.children) {
      for (const [k, a] of this.children) {
        const b = o.children.get(k);
        if (!b) continue;
        const d = a.intersection(b);
        if (d.member || !d.empty()) (n.children ??= new Map()).set(k, d);
      }
    }
    return n;
  }

  /** Paths in this set that are `o`'s members or under them (the part of this set `o` covers). */
  within(o: FieldSet): FieldSet {
    const n = new FieldSet();
    if (!this.children || !o.children) return n;
    for (const [k, a] of this.children) {
      const b = o.children.get(k);
      if (!b) continue;
      const d = b.member ? a.clone() : a.within(b);
      if (d.member || !d.empty()) (n.children ??= new Map()).set(k, d);
    }
    return n;
  }

  /**
   * Every member path, in upstream's order: a node's members first, then the subtrees of
   * its children, each level sorted by path element.
   */
  paths(): string[][] {
    const out: string[][] = [];
    const walk = (n: FieldSet, prefix: string[]) => {
      if (!n.children) return;
      const keys = [...n.children.keys()].sort(comparePathElements);
      for (const k of keys) if (n.children.get(k)!.member) out.push([...prefix, k]);
      for (const k of keys) {
        const c = n.children.get(k)!;
        if (c.children) walk(c, [...prefix, k]);
      }
    };
    walk(this, []);
    return out;
  }

  /** The paths as upstream prints them, one per line (for tests and messages). */
  toString(): string {
    return this.paths().map(pathText).join('\n');
  }

  /** The FieldsV1 encoding: children sorted as upstream sorts them, "." first for a member with children. */
  toFieldsV1(): FieldsV1 {
    const out: FieldsV1 = {};
    if (!this.children) return out;
    const keys = [...this.children.keys()].sort(comparePathElements);
    for (const k of keys) {
      const c = this.children.get(k)!;
      const empty = c.empty();
      if (empty && !c.member) continue;
      if (empty) out[k] = {};
      else out[k] = c.member ? { '.': {}, ...c.toFieldsV1() } : c.toFieldsV1();
    }
    return out;
  }

  /**
   * Decodes FieldsV1. Keys of an unknown element type are skipped, as upstream does; a
   * node without children is a member even without ".".
   */
  static fromFieldsV1(f: unknown): FieldSet {
    const root = new FieldSet();
    if (!f || typeof f !== 'object' || Array.isArray(f)) throw new Error('FieldsV1 must be a JSON object');
    decodeInto(root, f as Record<string, unknown>);
    return root;
  }
}

/** Returns whether the object marks its node a member. */
function decodeInto(n: FieldSet, f: Record<string, unknown>): boolean {
  let member = false;
  let hasChildren = false;
  for (const k in f) {
    if (k === '.') {
      member = true;
      continue;
    }
    if (!isPathElement(k)) continue;
    const v = f[k];
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`FieldsV1: the value of ${JSON.stringify(k)} is not an object`);
    const c = n.child(k);
    c.member = decodeInto(c, v as Record<string, unknown>) || c.member;
    hasChildren = true;
  }
  return member || !hasChildren;
}
