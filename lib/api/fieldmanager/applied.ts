/**
 * The fields an applied configuration sets (upstream's TypedValue.ToFieldSet), checked
 * against the kind's schema as upstream's typed conversion checks it: a field the schema
 * does not declare, a map-list item without its keys, or two items with the same key
 * make the configuration invalid.
 */
import { FieldSet } from './fieldset.js';
import { fieldElement, pathText } from './pathelement.js';
import type { FieldScope, ShapeNode } from './types.js';
import { childShape, isAtomic, isObject, itemElement, rootFieldInScope, UNTRACKED_METADATA } from './values.js';
import { missingKey } from './created.js';

export interface AppliedFields {
  set: FieldSet;
  /** upstream's messages, e.g. `.spec.foo: field not declared in schema` */
  errors: string[];
}

export function appliedFields(root: ShapeNode, config: Record<string, unknown>, scope: FieldScope): AppliedFields {
  const set = new FieldSet();
  const errors: string[] = [];
  const path: string[] = [];
  for (const k of Object.keys(config)) {
    const v = config[k];
    if (v === undefined) continue;
    path.push(fieldElement(k));
    if (root.kind === 'struct' && !root.fields.has(k) && !root.preserveUnknown) {
      errors.push(`${pathText(path)}: field not declared in schema`);
    } else if (rootFieldInScope(scope, k)) {
      visitField(root, k, v, path, set, errors);
    }
    path.pop();
  }
  // never owned (upstream's stripmeta); "metadata" itself neither
  const meta = set.get(fieldElement('metadata'));
  if (meta) {
    meta.member = false;
    for (const f of UNTRACKED_METADATA) meta.children?.delete(fieldElement(f));
  }
  if (scope.kind === 'path') {
    const only = new FieldSet();
    only.insert(scope.path.map(fieldElement));
    return { set: set.within(only), errors };
  }
  return { set, errors };
}

function visitField(parent: ShapeNode, k: string, v: unknown, path: string[], set: FieldSet, errors: string[]): void {
  const shape = childShape(parent, k);
  visit(shape, v, path, set, errors);
  if (v === null || (isObject(v) && Object.keys(v).length === 0)) set.insert(path);
  else if (parent.kind !== 'struct' || !parent.fields.has(k)) set.insert(path);
}

function visit(node: ShapeNode, v: unknown, path: string[], set: FieldSet, errors: string[]): void {
  if (isAtomic(node)) {
    if (node.kind === 'list' && v !== null && !Array.isArray(v)) errors.push(`${pathText(path)}: expected list, got ${JSON.stringify(v)}`);
    set.insert(path);
    return;
  }
  if (v === null || v === undefined) return;
  if (node.kind === 'list') {
    if (!Array.isArray(v)) {
      errors.push(`${pathText(path)}: expected list, got ${JSON.stringify(v)}`);
      return;
    }
    const seen = new Set<string>();
    for (let i = 0; i < v.length; i++) {
      const pe = itemElement(node, v[i]);
      if (pe === undefined) {
        errors.push(`${pathText(path)}: ${missingKey(node, v[i], i).message}`);
        continue;
      }
      path.push(pe);
      if (seen.has(pe)) errors.push(`${pathText(path.slice(0, -1))}: duplicate entries for key ${pathText([pe])}`);
      seen.add(pe);
      visit(node.items, v[i], path, set, errors);
      set.insert(path);
      path.pop();
    }
    return;
  }
  if (!isObject(v)) {
    if (node.kind === 'untyped') set.insert(path);
    else errors.push(`${pathText(path)}: expected map, got ${JSON.stringify(v)}`);
    return;
  }
  for (const k of Object.keys(v)) {
    const c = v[k];
    if (c === undefined) continue;
    path.push(fieldElement(k));
    if (node.kind === 'struct' && !node.fields.has(k) && !node.preserveUnknown) errors.push(`${pathText(path)}: field not declared in schema`);
    else visitField(node, k, c, path, set, errors);
    path.pop();
  }
}
