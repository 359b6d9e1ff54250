/**
 * Looking up the served kinds: from a REST path's group/version/plural, or from a NATS
 * request's ResourceRef, to the KindDef and the store resource token it lives under.
 */
import type { Qualified } from '../../lib/api/errors.js';
import { allKinds, apiVersionOf } from '../../lib/schema/registry.js';
import type { KindDef } from '../../lib/schema/types.js';
import { resourceToken } from '../../lib/store/keys.js';

export interface ServedKind {
  def: KindDef;
  /** store resource token, e.g. "pods", "apps/deployments" */
  storage: string;
  apiVersion: string;
  qualified: Qualified & { kind: string };
}

let byPath: Map<string, ServedKind> | undefined;
/** how many kinds the index was built from: a kind registered later (a test's) rebuilds it */
let indexedKinds = 0;

function index(): Map<string, ServedKind> {
  if (byPath && indexedKinds === allKinds().length) return byPath;
  byPath = new Map();
  indexedKinds = allKinds().length;
  for (const def of allKinds()) {
    const storage = def.storage ? resourceToken(def.storage.group, def.storage.plural) : resourceToken(def.group, def.plural);
    byPath.set(`${def.group}/${def.version}/${def.plural}`, {
      def,
      storage,
      apiVersion: apiVersionOf(def),
      qualified: { resource: def.plural, group: def.group, kind: def.kind },
    });
  }
  return byPath;
}

export function findKind(group: string, version: string, plural: string): ServedKind | undefined {
  return index().get(`${group}/${version}/${plural}`);
}

export function servedKinds(): ServedKind[] {
  return [...index().values()];
}
