/**
 * What every walk over an object shares: the shape of a child, the path element of a
 * list item, which fields are never tracked (upstream's stripmeta), and value equality.
 */
import { keyElement, valueElement } from './pathelement.js';
import { UNTYPED } from './shape.js';
import type { FieldScope, ListShape, ShapeNode } from './types.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** null, an empty object or an empty list: compared and owned as a leaf, as upstream does. */
export function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') {
    for (const _ in v as object) return false;
    return true;
  }
  return false;
}

/** The shape of field `key` of a struct or map; unknown struct fields are free-form. */
export function childShape(node: ShapeNode, key: string): ShapeNode {
  if (node.kind === 'struct') return node.fields.get(key) ?? UNTYPED;
  if (node.kind === 'map') return node.values;
  return UNTYPED;
}

/** Whether values of this shape are owned whole: scalars and atomic lists, maps and structs. */
export function isAtomic(node: ShapeNode): boolean {
  switch (node.kind) {
    case 'scalar':
      return true;
    case 'struct':
    case 'map':
      return node.atomic;
    case 'list':
      return node.relationship === 'atomic';
    case 'untyped':
      return false;
  }
}

/** Whether a value is owned whole (a leaf) rather than field by field. */
export function isLeaf(node: ShapeNode, v: unknown): boolean {
  switch (node.kind) {
    case 'scalar':
      return true;
    case 'struct':
    case 'map':
      return node.atomic || !isObject(v) || isEmptyValue(v);
    case 'list':
      return node.relationship === 'atomic' || !Array.isArray(v) || v.length === 0;
    case 'untyped':
      return !isObject(v) || isEmptyValue(v);
  }
}

/** The path element of a list item, or undefined when the item lacks a key field. */
export function itemElement(list: ListShape, item: unknown): string | undefined {
  if (list.relationship === 'set') return valueElement(item);
  if (!isObject(item)) return undefined;
  return keyElement(item, list.keys, list.keyDefaults);
}

/** Fields never tracked by any manager (upstream's stripmeta): TypeMeta and server-set metadata. */
export const UNTRACKED_METADATA = new Set([
  'name',
  'namespace',
  'creationTimestamp',
  'selfLink',
  'uid',
  'clusterName',
  'generation',
  'managedFields',
  'resourceVersion',
]);

/** Whether a top-level field is part of what a write in this scope owns. */
export function rootFieldInScope(scope: FieldScope, key: string): boolean {
  if (key === 'apiVersion' || key === 'kind') return false;
  switch (scope.kind) {
    case 'main':
      return !(scope.ignoreStatus && key === 'status');
    case 'status':
      return key === 'status';
    case 'path':
      return key === scope.path[0];
  }
}

