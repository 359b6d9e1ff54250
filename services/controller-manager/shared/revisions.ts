/**
 * Template revisions of the workload controllers (upstream pkg/controller/history and
 * deployment/util): the pod-template hash that names a Deployment's ReplicaSets and the
 * ControllerRevisions in which StatefulSets and DaemonSets record their templates, with
 * the revision numbers that order them.
 */
import { createHash } from 'node:crypto';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { canonicalJson } from '../../../lib/api/canonical.js';
import type { KubeObject } from '../../../lib/client/mod.js';
import { newControllerRef } from './controllerref.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** The value with empty values dropped (null, [], {} and what only held those): nil and empty are the same template. */
function pruneEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? v.map(pruneEmpty) : undefined;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(v)) {
      const c = pruneEmpty(value);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === null ? undefined : v;
}

/** Equal once canonical: key order and empty values do not count. */
export function canonicallyEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(pruneEmpty(a)) === canonicalJson(pruneEmpty(b));
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * upstream ComputeHash / HashControllerRevision: FNV-32a of the canonical data, plus the
 * collision count when one is given, its decimal digits mapped onto the vowel-free
 * alphabet of rand.SafeEncodeString, so names look like upstream's though the values differ.
 */
export function hashWithCollisionCount(data: unknown, collisionCount?: number): string {
  let text = canonicalJson(pruneEmpty(data) ?? {});
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  let h = 0x811c9dc5;
  for (const byte of createHash('sha256').update(text).digest()) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((ch) => SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const c = structuredClone(t ?? {});
  if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return c;
}

/** The pod-template-hash of a template, its own pod-template-hash label left out (upstream ComputeHash). */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  return hashWithCollisionCount(withoutHash(template), collisionCount ?? undefined);
}

/** Templates equal apart from the pod-template-hash label (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicallyEqual(withoutHash(a), withoutHash(b));
}

export type TemplateRevisionData = { spec: { template: PodTemplateSpec & { $patch: 'replace' } } };

/** What a revision records (upstream getPatch): the template alone, in a patch that replaces it whole. */
export function templateRevisionData(template: PodTemplateSpec | undefined): TemplateRevisionData {
  return { spec: { template: { ...structuredClone(template ?? {}), $patch: 'replace' } } };
}

/** The template a revision recorded with templateRevisionData. */
export function revisionTemplate(rev: ControllerRevision): PodTemplateSpec {
  const t = structuredClone((rev.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } })?.spec?.template ?? {});
  delete t.$patch;
  return t;
}

/** The highest revision number, 0 for none (upstream maxRevision). */
export function maxRevision(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
}

/** The number a new revision gets: one past the highest (upstream nextRevision). */
export function nextRevision(revisions: readonly ControllerRevision[]): number {
  return maxRevision(revisions) + 1;
}

/** upstream ControllerRevisionName: the prefix is cut to 223 characters, so the name stays a valid one. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.slice(0, 223)}-${hash}`;
}

export interface NewControllerRevision {
  owner: KubeObject;
  /** the owner's kind (apps/v1) */
  kind: string;
  name: string;
  /** the template recorded, whose labels the revision carries */
  template: PodTemplateSpec | undefined;
  data: TemplateRevisionData;
  hash: string;
  revision: number;
}

/** A ControllerRevision the owner controls, labelled as its template plus controller-revision-hash (upstream NewControllerRevision). */
export function newControllerRevision(r: NewControllerRevision): ControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: r.name,
      namespace: r.owner.metadata!.namespace,
      labels: { ...((r.template?.metadata?.labels ?? {}) as Record<string, string>), [CONTROLLER_REVISION_HASH_LABEL]: r.hash },
      ownerReferences: [newControllerRef(r.owner, 'apps/v1', r.kind)],
    },
    data: r.data,
    revision: r.revision,
  };
}
