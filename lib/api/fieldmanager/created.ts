/**
 * The fields an Update owns when it creates an object: everything the object sets,
 * compared with the Go zero value of its type (upstream compares the new object with an
 * empty one). Written straight into FieldsV1, sorted, in one walk: this runs on every
 * create (the scheduler benchmark's pod creates), so it builds no intermediate set.
 */
import { deepFreeze } from '../canonical.js';
import { GeneratedCodeSwitch, ownMemberSource } from '../../schema/generated.js';
import { comparePathElements } from './pathelement.js';
import type { FieldScope, FieldsV1, ListShape, ShapeNode, StructShape } from './types.js';
import { childShape, isLeaf, isObject, itemElement, rootFieldInScope, UNTRACKED_METADATA } from './values.js';

/** An associative list item without its key fields: the object has no field set upstream can express. */
export class FieldPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldPathError';
  }
}

/** The `{}` of every leaf and "." marker: one frozen object, as nothing ever writes into them. */
const LEAF: FieldsV1 = Object.freeze({}) as FieldsV1;

const fieldElements = new Map<string, string>();

/** "f:<name>", built once per field name rather than once per object. */
function fieldPe(name: string): string {
  let pe = fieldElements.get(name);
  if (pe === undefined) {
    pe = 'f:' + name;
    if (fieldElements.size < 10_000) fieldElements.set(name, pe);
  }
  return pe;
}

/** FieldsV1 of every field `obj` sets in `scope`, untracked metadata left out. */
export function createdFieldsV1(root: ShapeNode, obj: Record<string, unknown>, scope: FieldScope): FieldsV1 {
  const out: FieldsV1 = {};
  const keys = Object.keys(obj).sort();
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || !rootFieldInScope(scope, k)) continue;
    const shape = childShape(root, k);
    if (k === 'metadata' && isObject(v)) {
      const m: FieldsV1 = {};
      const mk = Object.keys(v).sort();
      for (const f of mk) {
        if (UNTRACKED_METADATA.has(f) || v[f] === undefined) continue;
        const fs = childShape(shape, f);
        emit(m, fieldPe(f), fs, v[f], false);
      }
      for (const _ in m) {
        out['f:metadata'] = m;
        break;
      }
      continue;
    }
    if (scope.kind === 'path' && isObject(v)) {
      const inner = scoped(shape, v, scope.path.slice(1));
      if (inner) out['f:' + k] = inner;
      continue;
    }
    // the top-level fields of a kind are structs held by value: present in the zero object
    const zeroPresent = root.kind === 'struct' && root.zeroPresent.has(k);
    if (isObject(v) && Object.isFrozen(v)) emitFrozen(out, fieldPe(k), shape, v, zeroPresent);
    else emit(out, fieldPe(k), shape, v, zeroPresent);
  }
  return out;
}

/**
 * The FieldsV1 of frozen top-level values (the spec pods of one template share,
 * services/apiserver/sharedspecs.ts), by value and shape: a frozen value never changes, so
 * neither does its part of a create's FieldsV1, which is frozen too and shared as well.
 */
const frozenFields = new WeakMap<object, { shape: ShapeNode; zeroPresent: boolean; fields: FieldsV1 }>();

function emitFrozen(out: FieldsV1, pe: string, shape: ShapeNode, v: Record<string, unknown>, zeroPresent: boolean): void {
  const known = frozenFields.get(v);
  if (known !== undefined && known.shape === shape && known.zeroPresent === zeroPresent) {
    out[pe] = known.fields;
    return;
  }
  const o: FieldsV1 = {};
  emit(o, pe, shape, v, zeroPresent);
  const fields = o[pe];
  if (fields === undefined) return;
  deepFreeze(fields);
  frozenFields.set(v, { shape, zeroPresent, fields });
  out[pe] = fields;
}

/** whether structs are emitted by their generated code (createdFieldsV1Walked turns it off) */
const generated = new GeneratedCodeSwitch();

/** createdFieldsV1 by the walk alone, without generated code: what the generated code must agree with. */
export function createdFieldsV1Walked(root: ShapeNode, obj: Record<string, unknown>, scope: FieldScope): FieldsV1 {
  return generated.withoutIt(() => createdFieldsV1(root, obj, scope));
}

/** A single path (the scale subresource's spec.replicas): only what lies on it. */
function scoped(node: ShapeNode, v: Record<string, unknown>, rest: readonly string[]): FieldsV1 | undefined {
  if (!rest.length) return undefined;
  const k = rest[0];
  if (!(k in v) || v[k] === undefined) return undefined;
  const out: FieldsV1 = {};
  const shape = childShape(node, k);
  if (rest.length === 1) {
    out['f:' + k] = {};
    return out;
  }
  const c = v[k];
  if (!isObject(c)) return undefined;
  const inner = scoped(shape, c, rest.slice(1));
  if (!inner) return undefined;
  out['f:' + k] = inner;
  return out;
}

/** Upstream's error for a map-list item that lacks a key field (and the key has no default). */
export function missingKey(list: ListShape, item: unknown, index: number): FieldPathError {
  if (!isObject(item)) return new FieldPathError(`element ${index}: expected map, got ${JSON.stringify(item)}`);
  const k = list.keys.find((key) => (item[key] === undefined || item[key] === null) && list.keyDefaults[key] === undefined) ?? '';
  return new FieldPathError(`element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(k)}`);
}

function emit(out: FieldsV1, pe: string, node: ShapeNode, v: unknown, zeroPresent: boolean): void {
  if (isLeaf(node, v)) {
    out[pe] = LEAF;
    return;
  }
  if (node.kind === 'struct' && generated.on) {
    const o = structEmitter(node)(v as Record<string, unknown>, zeroPresent);
    if (o !== undefined) {
      out[pe] = o;
      return;
    }
  }
  emitWalked(out, pe, node, v, zeroPresent);
}

/**
 * A struct's FieldsV1, or undefined when the object has members its schema does not name
 * (or set to undefined): then the generic walk (emitWalked) does it.
 */
type StructEmitter = (v: Record<string, unknown>, zeroPresent: boolean) => FieldsV1 | undefined;

const emitters = new WeakMap<StructShape, StructEmitter>();

/**
 * What emitWalked does for a struct, as code generated once per struct: its fields in
 * sorted order, each read by name, their path elements and shapes written in. The walk
 * sorted each object's keys, looked up each child's shape and path element in Maps and read
 * members by computed key at one site shared by every kind, megamorphic on a busy apiserver.
 */
function structEmitter(node: StructShape): StructEmitter {
  let e = emitters.get(node);
  if (e === undefined) {
    // as emitWalked's keys.sort(): UTF-16 code unit order
    const names = [...node.fields.keys()].sort();
    const shapes = names.map((n) => node.fields.get(n)!);
    const lines = ['const o = zeroPresent ? {} : { ".": LEAF };', 'let n = 0;', 'let c;'];
    names.forEach((name, i) => {
      const get = ownMemberSource('c', 'v', name);
      const zp = node.zeroPresent.has(name) ? 'zeroPresent' : 'false';
      lines.push(`${get} if (c !== undefined) { n++; emit(o, ${JSON.stringify('f:' + name)}, shapes[${i}], c, ${zp}); }`);
    });
    lines.push('let keys = 0;', 'for (const k in v) keys++;', 'return keys === n ? o : undefined;');
    const make = new Function('emit', 'shapes', 'LEAF', `return function emitStruct(v, zeroPresent) {\n${lines.join('\n')}\n};`);
    e = make(emit, shapes, LEAF) as StructEmitter;
    emitters.set(node, e);
  }
  return e;
}

/** emit by walking the object's members: lists, maps, untyped values and structs with members beyond their schema. */
function emitWalked(out: FieldsV1, pe: string, node: ShapeNode, v: unknown, zeroPresent: boolean): void {
  const o: FieldsV1 = zeroPresent ? {} : { '.': LEAF };
  if (node.kind === 'list') {
    const items = v as unknown[];
    const byPe = new Map<string, unknown>();
    const dups = new Set<string>();
    for (let i = 0; i < items.length; i++) {
      const ipe = itemElement(node, items[i]);
      if (ipe === undefined) throw missingKey(node, items[i], i);
      if (byPe.has(ipe)) dups.add(ipe);
      else byPe.set(ipe, items[i]);
    }
    const pes = [...byPe.keys()];
    if (pes.length > 1) pes.sort(comparePathElements);
    for (const ipe of pes) {
      // upstream owns a duplicated item as a whole, not field by field
      if (dups.has(ipe)) o[ipe] = LEAF;
      else emit(o, ipe, node.items, byPe.get(ipe), false);
    }
  } else {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length > 1) keys.sort();
    for (const k of keys) {
      const c = obj[k];
      if (c === undefined) continue;
      // a struct held by value inside one that is itself in the zero object
      const zp = zeroPresent && node.kind === 'struct' && node.zeroPresent.has(k);
      emit(o, fieldPe(k), childShape(node, k), c, zp);
    }
  }
  out[pe] = o;
}
