/**
 * Compares two versions of an object by its shape (upstream's TypedValue.Compare): which
 * fields the new one added, modified or removed. Leaves (scalars, atomic values, empty
 * containers) are compared by value; a container that appears or disappears is itself
 * added or removed along with what it holds.
 */
import { FieldSet } from './fieldset.js';
import type { FieldScope, ShapeNode } from './types.js';
import { jsonEqual } from '../canonical.js';
import { childShape, isAtomic, isEmptyValue, isObject, itemElement, rootFieldInScope, UNTRACKED_METADATA } from './values.js';

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

export function isSame(c: Comparison): boolean {
  return c.added.empty() && c.modified.empty() && c.removed.empty();
}

/** Compares two objects of a kind in `scope`; untracked metadata is not compared. */
export function compareObjects(root: ShapeNode, l: Record<string, unknown>, r: Record<string, unknown>, scope: FieldScope): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const path: string[] = [];
  const visit = (k: string) => {
    if (!rootFieldInScope(scope, k)) return;
    const lv = l[k];
    const rv = r[k];
    if (lv === rv) return;
    path.push('f:' + k);
    if (k === 'metadata' && isObject(lv) && isObject(rv)) {
      const shape = childShape(root, k);
      const mk = (f: string) => {
        if (UNTRACKED_METADATA.has(f) || lv[f] === rv[f]) return;
        path.push('f:' + f);
        walk(childShape(shape, f), lv[f], rv[f], path, c);
        path.pop();
      };
      for (const f in lv) mk(f);
      for (const f in rv) if (!(f in lv)) mk(f);
    } else {
      walk(childShape(root, k), lv, rv, path, c);
    }
    path.pop();
  };
  for (const k in l) visit(k);
  for (const k in r) if (!(k in l)) visit(k);
  if (scope.kind === 'path') {
    const only = new FieldSet();
    only.insert(scope.path.map((p) => 'f:' + p));
    c.added = c.added.within(only);
    c.modified = c.modified.within(only);
    c.removed = c.removed.within(only);
  }
  return c;
}

function fits(node: ShapeNode, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (node.kind === 'list') return Array.isArray(v);
  return isObject(v);
}

function leaf(l: unknown, r: unknown, path: string[], c: Comparison): void {
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
  else if (!jsonEqual(l, r)) c.modified.insert(path);
}

function walk(node: ShapeNode, l: unknown, r: unknown, path: string[], c: Comparison): void {
  if (l === undefined && r === undefined) return;
  if (isAtomic(node) || (isEmptyValue(l) && isEmptyValue(r)) || !fits(node, l) || !fits(node, r)) {
    leaf(l, r, path, c);
    return;
  }
  if (node.kind === 'list') {
    const lm = indexItems(node, l as unknown[] | null | undefined);
    const rm = indexItems(node, r as unknown[] | null | undefined);
    if (!lm || !rm) {
      // items without keys, or duplicates: owned as a whole, as upstream does
      leaf(l, r, path, c);
      return;
    }
    for (const [pe, lv] of lm) {
      path.push(pe);
      walk(node.items, lv, rm.get(pe), path, c);
      path.pop();
    }
    for (const [pe, rv] of rm) {
      if (lm.has(pe)) continue;
      path.push(pe);
      walk(node.items, undefined, rv, path, c);
      path.pop();
    }
  } else {
    const lo = (l ?? {}) as Record<string, unknown>;
    const ro = (r ?? {}) as Record<string, unknown>;
    for (const k in lo) {
      if (lo[k] === ro[k] || lo[k] === undefined) continue;
      path.push('f:' + k);
      walk(childShape(node, k), lo[k], ro[k], path, c);
      path.pop();
    }
    for (const k in ro) {
      if ((k in lo && lo[k] !== undefined) || ro[k] === undefined) continue;
      path.push('f:' + k);
      walk(childShape(node, k), undefined, ro[k], path, c);
      path.pop();
    }
  }
  if (l === undefined) c.added.insert(path);
  else if (r === undefined) c.removed.insert(path);
}

/** The items of a granular list by path element; undefined when one has no key or two share one. */
function indexItems(node: ShapeNode & { kind: 'list' }, items: unknown[] | null | undefined): Map<string, unknown> | undefined {
  const m = new Map<string, unknown>();
  if (!items) return m;
  for (const it of items) {
    const pe = itemElement(node, it);
    if (pe === undefined || m.has(pe)) return undefined;
    m.set(pe, it);
  }
  return m;
}
