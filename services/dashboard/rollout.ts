/**
 * Rollout history and undo, as `kubectl rollout history` and `kubectl rollout undo` do
 * them. A Deployment's revisions are its ReplicaSets (the `deployment.kubernetes.io/revision`
 * annotation; the change cause is `kubernetes.io/change-cause`), and undo copies the
 * chosen ReplicaSet's template back into the Deployment with a JSON patch (kubectl's
 * DeploymentRollbacker, annotations included). A DaemonSet's or StatefulSet's revisions
 * are its ControllerRevisions, and undo applies the revision's data as a strategic merge
 * patch (kubectl's DaemonSetRollbacker and StatefulSetRollbacker). Every request goes
 * through the session's client (credentials.ts).
 */
import type { ApiClient, KubeObject } from '../../lib/client/mod.js';
import { labelSelectorToString } from '../../lib/api/labels.js';
import type { ObjectRef } from './objectwatch.js';
import { QueryError } from './tables.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const POD_TEMPLATE_HASH = 'pod-template-hash';
const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

/** kubectl's annotationsToSkip: the Deployment keeps its own values of these on undo. */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export const ROLLABLE = new Set(['deployments', 'daemonsets', 'statefulsets']);

export interface Revision {
  revision: number;
  /** the ReplicaSet or ControllerRevision that holds it */
  name: string;
  changeCause: string;
  images: string[];
  /** the revision the workload runs now */
  current: boolean;
  created: string;
}

interface Owned {
  revision: number;
  obj: any;
  template: any;
}

const RS = { group: 'apps', version: 'v1', resource: 'replicasets' };
const CR = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };

function workloadRef(args: any): ObjectRef {
  const r = args?.ref;
  if (!r || typeof r.name !== 'string' || !r.name || typeof r.namespace !== 'string' || !r.namespace) throw new QueryError('args.ref {resource, namespace, name} is required');
  if (!ROLLABLE.has(r.resource) || (r.group ?? 'apps') !== 'apps') throw new QueryError(`${r.resource} has no rollout history (deployments, daemonsets and statefulsets have)`);
  return { group: 'apps', version: 'v1', resource: r.resource, namespace: r.namespace, name: r.name };
}

/** The template without the label the controller adds to tell revisions apart. */
function bareTemplate(t: any, hashLabel: string): any {
  const c = structuredClone(t ?? {});
  if (c.metadata?.labels) delete c.metadata.labels[hashLabel];
  return c;
}

/** Same template as JSON with keys in one order (the stored ones come back in any order). */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

async function revisionsOf(client: ApiClient, ref: ObjectRef): Promise<{ workload: any; owned: Owned[] }> {
  const workload = await client.get<any>(ref);
  const uid = workload.metadata?.uid;
  const labelSelector = labelSelectorToString(workload.spec?.selector);
  const controlled = (o: KubeObject) => o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid);
  if (ref.resource === 'deployments') {
    const list = await client.list<any>({ ...RS, namespace: ref.namespace }, { labelSelector });
    const owned = list.items
      .filter(controlled)
      .map((rs) => ({ revision: Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0), obj: rs, template: bareTemplate(rs.spec?.template, POD_TEMPLATE_HASH) }))
      .filter((o) => o.revision > 0);
    return { workload, owned: owned.sort((a, b) => a.revision - b.revision) };
  }
  const list = await client.list<any>({ ...CR, namespace: ref.namespace }, { labelSelector });
  const owned = list.items
    .filter(controlled)
    .map((cr) => {
      const t = structuredClone(cr.data?.spec?.template ?? {});
      delete t.$patch;
      return { revision: Number(cr.revision ?? 0), obj: cr, template: bareTemplate(t, CONTROLLER_REVISION_HASH) };
    });
  return { workload, owned: owned.sort((a, b) => a.revision - b.revision) };
}

function currentRevision(ref: ObjectRef, workload: any, owned: Owned[]): number {
  if (ref.resource === 'deployments') return Number(workload.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0) || (owned.find((o) => canonical(o.template) === canonical(bareTemplate(workload.spec?.template, POD_TEMPLATE_HASH)))?.revision ?? 0);
  // a StatefulSet names its revision in status; a DaemonSet's is the one whose template it has
  const byName = workload.status?.updateRevision ?? workload.status?.currentRevision;
  const named = owned.find((o) => o.obj.metadata?.name === byName);
  if (named) return named.revision;
  return owned.find((o) => canonical(o.template) === canonical(bareTemplate(workload.spec?.template, CONTROLLER_REVISION_HASH)))?.revision ?? 0;
}

/** `kubectl rollout history`: the revisions, oldest first. */
export async function rolloutHistory(client: ApiClient, args: unknown): Promise<{ revisions: Revision[] }> {
  const ref = workloadRef(args);
  const { workload, owned } = await revisionsOf(client, ref);
  const current = currentRevision(ref, workload, owned);
  return {
    revisions: owned.map((o) => ({
      revision: o.revision,
      name: o.obj.metadata?.name ?? '',
      changeCause: o.obj.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] ?? '',
      images: (o.template.spec?.containers ?? []).map((c: any) => c.image ?? ''),
      current: o.revision === current,
      created: o.obj.metadata?.creationTimestamp ?? '',
    })),
  };
}

/**
 * `kubectl rollout undo [--to-revision=N]`: revision 0 (or none) is the one before the
 * current. A template already equal to the chosen revision's is left alone (kubectl's
 * "skipped rollback"); a paused Deployment is refused, as kubectl refuses it.
 */
export async function rolloutUndo(client: ApiClient, args: any): Promise<{ message: string; revision: number }> {
  const ref = workloadRef(args);
  const to = args?.revision === undefined || args?.revision === null || args?.revision === '' ? 0 : Number(args.revision);
  if (!Number.isInteger(to) || to < 0) throw new QueryError(`revision must be a whole number >= 0, not ${args.revision}`);
  const { workload, owned } = await revisionsOf(client, ref);
  if (ref.resource === 'deployments' && workload.spec?.paused) throw new QueryError(`you cannot rollback a paused deployment; resume it first with kubectl rollout resume deployment/${ref.name} and try again`);
  let target: Owned | undefined;
  if (to === 0) {
    const current = currentRevision(ref, workload, owned);
    target = [...owned].reverse().find((o) => o.revision < current) ?? [...owned].reverse().find((o) => o.revision !== current);
    if (!target) throw new QueryError(`no rollout history found for ${ref.resource} "${ref.name}": there is no previous revision`);
  } else {
    target = owned.find((o) => o.revision === to);
    if (!target) throw new QueryError(`unable to find the specified revision ${to} of ${ref.resource} "${ref.name}"`);
  }
  const hashLabel = ref.resource === 'deployments' ? POD_TEMPLATE_HASH : CONTROLLER_REVISION_HASH;
  if (canonical(target.template) === canonical(bareTemplate(workload.spec?.template, hashLabel))) {
    return { message: `skipped rollback (current template already matches revision ${target.revision})`, revision: target.revision };
  }
  if (ref.resource === 'deployments') {
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries<string>(workload.metadata?.annotations ?? {})) if (ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
    for (const [k, v] of Object.entries<string>(target.obj.metadata?.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
    // "add" replaces a member that is there and creates one that is not (annotations may be absent)
    await client.patch(ref, 'json', [
      { op: 'replace', path: '/spec/template', value: target.template },
      { op: 'add', path: '/metadata/annotations', value: annotations },
    ]);
  } else {
    await client.patch(ref, 'strategic', target.obj.data);
  }
  return { message: `rolled back to revision ${target.revision}`, revision: target.revision };
}
