/**
 * Merging an applied configuration into the live object (upstream's TypedValue.Merge)
 * and removing the fields an applier gave up (RemoveItems). Structs and granular maps
 * merge field by field; atomic values and scalars are replaced; set and map lists merge
 * item by item, keeping the live order and placing new items where the configuration
 * puts them relative to the items both share.
 */
import type { FieldSet } from './fieldset.js';
import type { ListShape, ShapeNode } from './types.js';
import { childShape, isAtomic, isObject, itemElement } from './values.js';

/**
 * Merges `config` into `live` and returns the result. `live` is modified (the caller
 * owns it); parts of `config` are placed into the result as they are.
 */
export function mergeValue(node: ShapeNode, live: unknown, config: unknown): unknown {
  if (config === undefined) return live;
  if (live === undefined || live === null || config === null || isAtomic(node)) return config;
  if (node.kind === 'list') {
    if (!Array.isArray(live) || !Array.isArray(config)) return config;
    return mergeList(node, live, config);
  }
  if (!isObject(live) || !isObject(config)) return config;
  for (const k of Object.keys(config)) {
    const c = config[k];
    if (c === undefined) continue;
    const merged = mergeValue(childShape(node, k), live[k], c);
    // a null field is an unset one once the object is typed again (Go omits it)
    if (merged === null && node.kind === 'struct') delete live[k];
    else live[k] = merged;
  }
  return live;
}

function mergeList(node: ListShape, live: unknown[], config: unknown[]): unknown[] {
  const lpes: (string | undefined)[] = live.map((it) => itemElement(node, it));
  const rpes: (string | undefined)[] = config.map((it) => itemElement(node, it));
  if (lpes.includes(undefined) || rpes.includes(undefined)) return config;
  const lByPe = new Map<string, unknown>();
  for (let i = 0; i < live.length; i++) if (!lByPe.has(lpes[i]!)) lByPe.set(lpes[i]!, live[i]);
  const rByPe = new Map<string, unknown>();
  for (let i = 0; i < config.length; i++) rByPe.set(rpes[i]!, config[i]);
  // the items both lists hold, in the configuration's order: the live order bends to it
  const shared = (rpes as string[]).filter((pe) => lByPe.has(pe));
  let next = 0;
  const out: unknown[] = [];
  const merged = new Set<string>();
  const take = (pe: string) => {
    merged.add(pe);
    out.push(mergeValue(node.items, lByPe.get(pe), rByPe.get(pe)));
  };
  let l = 0;
  let r = 0;
  while (l < live.length || r < config.length) {
    if (l < live.length && r < config.length) {
      const pe = lpes[l]!;
      if (pe === rpes[r]) {
        if (!merged.has(pe)) take(pe);
        l++;
        r++;
        next++;
        continue;
      }
      if (rByPe.has(pe) && next < shared.length && shared[next] !== pe) {
        // shared, but the configuration wants another shared item first
        l++;
        continue;
      }
    }
    if (l < live.length) {
      const pe = lpes[l]!;
      if (!rByPe.has(pe)) {
        out.push(live[l]);
        l++;
        continue;
      } else if (merged.has(pe)) {
        l++;
      }
    }
    if (r < config.length) {
      const pe = rpes[r]!;
      if (!merged.has(pe)) take(pe);
      r++;
      if (next < shared.length && shared[next] === pe) next++;
    }
  }
  return out;
}

/**
 * Removes from `obj` every path that is a member of `remove` (a struct field, a map key, a
 * list item), in place. Maps left empty go too: an empty map is an unset one once typed.
 */
export function removeFields(node: ShapeNode, obj: unknown, remove: FieldSet): void {
  if (!remove.children) return;
  if (Array.isArray(obj) && node.kind === 'list') {
    for (let i = obj.length - 1; i >= 0; i--) {
      const pe = itemElement(node, obj[i]);
      const r = pe === undefined ? undefined : remove.get(pe);
      if (!r) continue;
      if (r.member) obj.splice(i, 1);
      else removeFields(node.items, obj[i], r);
    }
    return;
  }
  if (!isObject(obj)) return;
  for (const [pe, r] of remove.children) {
    if (pe[0] !== 'f') continue;
    const k = pe.slice(2);
    if (!(k in obj)) continue;
    if (r.member) {
      delete obj[k];
      continue;
    }
    const shape = childShape(node, k);
    const v = obj[k];
    removeFields(shape, v, r);
    if (shape.kind === 'map' && isObject(v) && Object.keys(v).length === 0) delete obj[k];
  }
}
