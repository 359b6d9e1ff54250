/**
 * The field manager: keeps metadata.managedFields on every write and merges applied
 * configurations (server-side apply), as upstream's apiserver does with its chain of
 * managers (fieldmanager.go and what it wraps):
 *
 * - An Update (create, update, patch) compares the object before and after and gives the
 *   changed fields to the request's manager, taking them from whoever owned them; its
 *   entry merges with the manager's earlier Update entry and gets the time of the change.
 *   An object without managed fields is not tracked by updates (skipnonapplied), except
 *   on create. A request that sends managedFields replaces them (an empty list clears).
 * - An Apply merges the configuration by the schema's list and map types, owns exactly the
 *   fields it sets, removes the fields it set before and no longer sets (unless another
 *   manager owns them), and fails with a 409 Conflict naming each field another manager
 *   owns with a different value, unless forced, which takes them over.
 * - The client-side apply annotation (kubectl.kubernetes.io/last-applied-configuration) is
 *   kept current when kubectl applies server-side, and fields whose value is the one
 *   client-side apply last set do not conflict (lastappliedmanager.go, lastappliedupdater.go).
 */
import { BadRequestError, StatusError, type StatusCause } from '../errors.js';
import { appliedFields } from './applied.js';
import { compareObjects, isSame } from './compare.js';
import { createdFieldsV1, FieldPathError } from './created.js';
import { FieldSet } from './fieldset.js';
import { ManagedFields, managerIdentifier, ManagedFieldsError } from './managers.js';
import { mergeValue, removeFields } from './merge.js';
import { pathText } from './pathelement.js';
import { rootShape } from './shape.js';
import type { FieldConflict, FieldScope, ManagedFieldsEntry, ShapeNode } from './types.js';
import { jsonEqual } from '../canonical.js';
import { isObject } from './values.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** The manager kubectl applies server-side under by default; only it upgrades from client-side apply. */
const KUBECTL_SSA_MANAGER = 'kubectl';
const BEFORE_FIRST_APPLY = 'before-first-apply';

/** What a field manager is for: one kind, one version, one part of the object. */
export interface FieldManagerTarget {
  root: ShapeNode;
  /** e.g. "apps/v1" */
  apiVersion: string;
  kind: string;
  scope: FieldScope;
  /** "status" or "scale" for writes to those subresources */
  subresource?: string;
}

export function fieldManagerTarget(definition: string, apiVersion: string, kind: string, scope: FieldScope, subresource?: string): FieldManagerTarget {
  return { root: rootShape(definition), apiVersion, kind, scope, subresource };
}

/** Upstream's "group/version, Kind=K" (core: "/v1, Kind=Pod"). */
function gvkText(apiVersion: string, kind: string): string {
  return `${apiVersion.includes('/') ? apiVersion : '/' + apiVersion}, Kind=${kind}`;
}

/** An empty list, or a list of one empty entry: the client asks to clear managed fields. */
function isReset(mf: unknown): boolean {
  if (!Array.isArray(mf)) return false;
  if (mf.length === 0) return true;
  return mf.length === 1 && isObject(mf[0]) && Object.keys(mf[0]).length === 0;
}

function decodeOrEmpty(mf: unknown): ManagedFields {
  try {
    return ManagedFields.decode(mf);
  } catch {
    return new ManagedFields();
  }
}

/**
 * Records an Update by `manager` in `next.metadata.managedFields`: `live` is the object
 * before the write (undefined on create). Never fails the write: fields that cannot be
 * tracked leave the live object's managed fields in place, as upstream's UpdateNoErrors.
 */
export function trackUpdate(t: FieldManagerTarget, live: any | undefined, next: any, manager: string, now: string): void {
  const meta = (next.metadata ??= {});
  const requested = meta.managedFields;
  const liveManaged = live?.metadata?.managedFields;
  try {
    let managed: ManagedFields;
    if (t.subresource) managed = decodeOrEmpty(liveManaged);
    else if (isReset(requested)) managed = new ManagedFields();
    else {
      managed = decodeOrEmpty(requested);
      if (!managed.size) managed = decodeOrEmpty(liveManaged);
    }
    // deleted only when present: a delete turns the object into a slow dictionary
    if (requested !== undefined) delete meta.managedFields;
    if (!managed.size) {
      // upstream tracks an untracked object from its creation only, then from its first apply
      if (live) return;
      const fields = createdFieldsV1(t.root, next, t.scope);
      for (const _ in fields) {
        meta.managedFields = [updateEntry(t, manager, now, fields)];
        break;
      }
      return;
    }
    let added: FieldSet;
    let modified: FieldSet;
    let removed: FieldSet;
    if (live) {
      const c = compareObjects(t.root, live, next, t.scope);
      if (isSame(c)) {
        meta.managedFields = managed.encode();
        if (!meta.managedFields) delete meta.managedFields;
        return;
      }
      ({ added, modified, removed } = c);
    } else {
      added = FieldSet.fromFieldsV1(createdFieldsV1(t.root, next, t.scope));
      modified = new FieldSet();
      removed = new FieldSet();
    }
    const changed = added.union(modified);
    releaseFields(managed, changed, removed);
    if (!changed.empty()) {
      const self = managerIdentifier({ manager, operation: 'Update', apiVersion: t.apiVersion, subresource: t.subresource });
      const previous = managed.managers.has(self) ? managed.fields(self) : undefined;
      managed.set(self, entryHead(t, manager, 'Update', now), previous ? previous.union(changed) : changed);
    }
    managed.capUpdaters();
    const encoded = managed.encode();
    if (encoded) meta.managedFields = encoded;
  } catch (e) {
    if (!(e instanceof FieldPathError) && !(e instanceof ManagedFieldsError)) throw e;
    if (liveManaged) meta.managedFields = liveManaged;
    else delete meta.managedFields;
  }
}

/** The top-level fields a change touches. */
function topLevel(...sets: FieldSet[]): string[] {
  const out = new Set<string>();
  for (const s of sets) if (s.children) for (const [k, c] of s.children) if (c.member || !c.empty()) out.add(k);
  return [...out];
}

/** Takes the fields a write changed or removed from every manager but `except`, which keeps what it has. */
function releaseFields(managed: ManagedFields, changed: FieldSet, removed: FieldSet, except?: string): void {
  const touched = topLevel(changed, removed);
  for (const id of [...managed.managers.keys()]) {
    // most writes touch one part of an object (a status update): leave other entries encoded
    if (id === except || !managed.mayOwnAny(id, touched)) continue;
    const before = managed.fields(id);
    const after = before.difference(changed).difference(removed);
    if (!sameSize(before, after)) managed.replaceFields(id, after);
  }
}

/** Whether a difference removed nothing (sets only shrink here, so equal member counts mean equal sets). */
function sameSize(a: FieldSet, b: FieldSet): boolean {
  return count(a) === count(b);
}

function count(s: FieldSet): number {
  let n = s.member ? 1 : 0;
  if (s.children) for (const c of s.children.values()) n += count(c);
  return n;
}

function entryHead(t: FieldManagerTarget, manager: string, operation: 'Apply' | 'Update', time: string | undefined): Omit<ManagedFieldsEntry, 'fieldsV1' | 'fieldsType'> {
  const e: Omit<ManagedFieldsEntry, 'fieldsV1' | 'fieldsType'> = { manager, operation, apiVersion: t.apiVersion };
  if (time) e.time = time;
  if (t.subresource) e.subresource = t.subresource;
  return e;
}

function updateEntry(t: FieldManagerTarget, manager: string, time: string, fieldsV1: ManagedFieldsEntry['fieldsV1']): ManagedFieldsEntry {
  const e: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion: t.apiVersion, time, fieldsType: 'FieldsV1', fieldsV1 };
  if (t.subresource) e.subresource = t.subresource;
  return e;
}

export interface ApplyResult {
  /** the merged object with its managed fields; the caller owns it */
  object: any;
  /** whether the object (managed fields aside) differs from the live one */
  changed: boolean;
}

/**
 * Applies `config` for `manager` to `live` (undefined: the object does not exist yet).
 * Throws a 400 for a configuration the schema refuses and a 409 for conflicts.
 */
export function applyConfiguration(t: FieldManagerTarget, live: any | undefined, config: any, manager: string, force: boolean, now: string): ApplyResult {
  if (!isObject(config)) throw new BadRequestError('error decoding YAML: the apply configuration must be an object');
  if (config.apiVersion !== t.apiVersion || config.kind !== t.kind) {
    const g = typeof config.apiVersion === 'string' ? config.apiVersion : '';
    throw new BadRequestError(`invalid object type: ${gvkText(g, typeof config.kind === 'string' ? config.kind : '')}`);
  }
  if ((config.metadata as any)?.managedFields !== undefined) throw new BadRequestError('metadata.managedFields must be nil');
  let managed: ManagedFields;
  try {
    managed = ManagedFields.decode(live?.metadata?.managedFields);
  } catch (e) {
    throw new StatusError(500, 'InternalError', `failed to decode managed fields: ${(e as Error).message}`);
  }
  // the live object without its managed fields, only read: a shallow copy, the one deep copy is the merge's
  const base: any = live ? { ...live } : {};
  if (base.metadata) {
    base.metadata = { ...base.metadata };
    delete base.metadata.managedFields;
  }
  const meta = (config.metadata ?? {}) as any;
  const objectName = `${meta.namespace ?? live?.metadata?.namespace ?? ''}/${meta.name ?? ''}; ${gvkText(t.apiVersion, t.kind)}`;
  try {
    if (!managed.size && live) {
      // fields set before the first apply belong to a manager of their own, so they can conflict
      const before = createdFieldsV1(t.root, base, t.scope);
      for (const _ in before) {
        managed.set(
          managerIdentifier({ manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: t.apiVersion, subresource: t.subresource }),
          entryHead(t, BEFORE_FIRST_APPLY, 'Update', undefined),
          FieldSet.fromFieldsV1(before),
        );
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof FieldPathError)) throw e;
  }
  const applied = appliedFields(t.root, config, t.scope);
  if (applied.errors.length) {
    const msg = applied.errors.length === 1 ? applied.errors[0] : `errors:\n  ${applied.errors.join('\n  ')}`;
    throw new BadRequestError(`failed to create typed patch object (${objectName}): ${msg}`);
  }
  const merged = mergeValue(t.root, structuredClone(base), structuredClone(config)) as any;
  const self = managerIdentifier({ manager, operation: 'Apply', subresource: t.subresource });
  const lastSet = managed.managers.has(self) ? managed.fields(self) : undefined;
  const previousTime = managed.managers.get(self)?.entry.time;
  managed.set(self, entryHead(t, manager, 'Apply', previousTime), applied.set);
  if (lastSet) prune(t, merged, managed, self, lastSet.difference(applied.set));
  const cmp = compareObjects(t.root, live ? base : {}, merged, t.scope);
  const changedFields = cmp.added.union(cmp.modified);
  let conflicts = findConflicts(managed, self, changedFields);
  if (conflicts.length && !force) {
    const allowed = manager === KUBECTL_SSA_MANAGER && live ? allowedByLastApplied(t, base) : undefined;
    if (allowed) conflicts = conflicts.filter((c) => !allowed.has(c.fieldPath));
    if (conflicts.length) throw conflictError(conflicts.map(({ manager: m, path }) => ({ manager: m, path })));
  }
  releaseFields(managed, changedFields, cmp.removed, self);
  if (applied.set.empty()) managed.managers.delete(self);
  const changed = !jsonEqual(live ? base : {}, merged);
  if (changed && managed.managers.has(self)) managed.managers.get(self)!.entry.time = now;
  if (manager === KUBECTL_SSA_MANAGER && merged.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]) {
    merged.metadata.annotations[LAST_APPLIED_ANNOTATION] = lastAppliedOf(config);
  }
  const encoded = managed.encode();
  merged.metadata ??= {};
  if (encoded) merged.metadata.managedFields = encoded;
  else delete merged.metadata.managedFields;
  return { object: merged, changed };
}

interface Conflict extends FieldConflict {
  fieldPath: string[];
}

function findConflicts(managed: ManagedFields, self: string, changed: FieldSet): Conflict[] {
  const out: Conflict[] = [];
  const touched = topLevel(changed);
  for (const id of managed.managers.keys()) {
    if (id === self || !managed.mayOwnAny(id, touched)) continue;
    const both = managed.fields(id).intersection(changed);
    for (const p of both.paths()) out.push({ manager: id, path: pathText(p), fieldPath: p });
  }
  return out;
}

/**
 * Removes what the applier set last time and no longer sets, unless another manager owns
 * it (or, for a field, something under it): upstream's prune with its owned items added back.
 */
function prune(t: FieldManagerTarget, merged: any, managed: ManagedFields, self: string, dropped: FieldSet): void {
  if (dropped.empty()) return;
  let others = new FieldSet();
  for (const id of managed.managers.keys()) if (id !== self) others = others.union(managed.fields(id));
  const owned = managed.fields(self);
  const remove = new FieldSet();
  for (const p of dropped.paths()) {
    if (others.has(p) || owned.has(p)) continue;
    const last = p[p.length - 1];
    const below = others.at(p);
    if (last[0] === 'f' && below && !below.empty()) continue;
    const ownBelow = owned.at(p);
    if (ownBelow && !ownBelow.empty()) continue;
    remove.insert(p);
  }
  removeFields(t.root, merged, remove);
}

/**
 * The fields client-side apply last set that still hold the value it set: a server-side
 * apply by kubectl takes them over from the client-side manager without a conflict.
 */
function allowedByLastApplied(t: FieldManagerTarget, live: any): FieldSet | undefined {
  const text = live?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof text !== 'string' || !text) return undefined;
  let last: any;
  try {
    last = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(last) || last.apiVersion !== t.apiVersion) return undefined;
  const a = appliedFields(t.root, last, t.scope);
  if (a.errors.length) return undefined;
  const c = compareObjects(t.root, last, live, t.scope);
  return a.set.difference(c.modified).difference(c.added).difference(c.removed);
}

/** The annotation's value: the applied configuration without the annotation itself. */
function lastAppliedOf(config: any): string {
  const c = structuredClone(config);
  if (c.metadata?.annotations) {
    delete c.metadata.annotations[LAST_APPLIED_ANNOTATION];
    if (!Object.keys(c.metadata.annotations).length) delete c.metadata.annotations;
  }
  return JSON.stringify(c);
}

/** How upstream names a manager in conflict messages: `"kubectl" using v1`, `"x" with subresource "status"`. */
function printManager(id: string): string {
  let e: ManagedFieldsEntry;
  try {
    e = JSON.parse(id);
  } catch {
    return JSON.stringify(id);
  }
  let s = JSON.stringify(e.manager ?? '');
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion ?? ''}`;
  return s;
}

/** Upstream's apply conflict: 409 Conflict, one FieldManagerConflict cause per field. */
export function conflictError(conflicts: FieldConflict[]): StatusError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: c.path }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0].manager)}: ${conflicts[0].path}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const l = byManager.get(c.manager) ?? [];
      l.push(c.path);
      byManager.set(c.manager, l);
    }
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${printManager(m)}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

/** The manager of a request without `fieldManager`: its User-Agent up to the first "/", printable, at most 128 characters (upstream). */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const prefix = (userAgent ?? '').split('/')[0];
  let out = '';
  for (const ch of prefix) {
    if (!/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) continue;
    if (out.length > 128) break;
    out += ch;
  }
  return out;
}
