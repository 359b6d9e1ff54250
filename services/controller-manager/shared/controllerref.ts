/**
 * Controller references (upstream pkg/controller/controller_ref_manager.go): which pods a
 * controller owns. A pod owned by this controller that no longer matches its selector is
 * released; an orphan that matches is adopted, both by strategic-merge patches of
 * metadata.ownerReferences that carry the pod's uid, so a pod replaced under the same
 * name is never touched. Adoption first re-reads the owner from the apiserver (not the
 * cache), because adopting for an owner that is being deleted would leak the pod.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { LabelSelector, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { selectorFromLabelSelector, type Selector } from '../../../lib/api/labels.js';
import { type ApiClient, type Indexer, type KubeObject, NAMESPACE_INDEX, type ResourceRef, Resources } from '../../../lib/client/mod.js';

type Owner = KubeObject & { metadata?: { uid?: string; name?: string; namespace?: string; deletionTimestamp?: string } };

/** The ownerReference with controller=true, if any. */
export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/**
 * The owner a controllerRef names, from the owners' cache (upstream resolveControllerRef):
 * only an owner of `kind` with the referenced uid, so one recreated under the same name is
 * not taken for the old one.
 */
export function resolveControllerRef<T extends KubeObject>(owners: Indexer<T>, kind: string, obj: KubeObject): T | undefined {
  const ref = getControllerOf(obj);
  if (!ref || ref.kind !== kind) return undefined;
  const owner = owners.getByKey(`${obj.metadata?.namespace}/${ref.name}`);
  return owner?.metadata?.uid === ref.uid ? owner : undefined;
}

/**
 * The owners in obj's namespace whose selector matches its labels: who may adopt an
 * orphan. An empty selector selects nothing here, as upstream's controllers treat it.
 */
export function selectingOwners<T extends KubeObject & { spec?: { selector?: LabelSelector } }>(owners: Indexer<T>, obj: KubeObject): T[] {
  const labels = obj.metadata?.labels;
  if (!labels) return [];
  return owners.byIndex(NAMESPACE_INDEX, obj.metadata!.namespace!).filter((o) => {
    const sel = selectorFromLabelSelector(o.spec?.selector);
    return !sel.empty() && sel.matches(labels);
  });
}

/** The controller reference an owner puts on what it creates (blockOwnerDeletion for foreground GC). */
export function newControllerRef(owner: Owner, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

export interface ClaimOptions {
  client: ApiClient;
  owner: Owner;
  /** where `owner` lives in the API, for the fresh read before adopting */
  ownerRef: ResourceRef;
  apiVersion: string;
  kind: string;
  selector: Selector;
}

/**
 * The pods `owner` controls after adopting matching orphans and releasing its pods that
 * no longer match. Pods another controller owns are left alone. A pod that vanished
 * meanwhile is skipped; other patch failures are thrown (the sync is retried).
 */
export async function claimPods(pods: Pod[], o: ClaimOptions): Promise<Pod[]> {
  const uid = o.owner.metadata!.uid!;
  const claimed: Pod[] = [];
  const errors: Error[] = [];
  let canAdopt: Promise<void> | undefined;
  const recheck = async (): Promise<void> => {
    const fresh = await o.client.get<Owner>(o.ownerRef);
    if (fresh.metadata?.uid !== uid) throw new Error(`original ${o.kind} ${o.owner.metadata!.namespace}/${o.owner.metadata!.name} is gone: got uid ${fresh.metadata?.uid}, wanted ${uid}`);
    if (fresh.metadata?.deletionTimestamp) throw new Error(`${o.kind} ${o.owner.metadata!.namespace}/${o.owner.metadata!.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  };
  await Promise.all(
    pods.map(async (pod) => {
      const ref = getControllerOf(pod);
      const matches = o.selector.matches(pod.metadata?.labels);
      try {
        if (ref) {
          if (ref.uid !== uid) return;
          if (matches) {
            claimed.push(pod);
            return;
          }
          // an owner being deleted leaves its pods to the garbage collector
          if (o.owner.metadata?.deletionTimestamp) return;
          await patchPod(o.client, pod, { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: pod.metadata!.uid } });
          return;
        }
        if (!matches || o.owner.metadata?.deletionTimestamp || pod.metadata?.deletionTimestamp) return;
        canAdopt ??= recheck();
        await canAdopt;
        const adopted = await patchPod(o.client, pod, {
          metadata: { ownerReferences: [newControllerRef(o.owner, o.apiVersion, o.kind)], uid: pod.metadata!.uid },
        });
        if (adopted) claimed.push(adopted);
      } catch (e) {
        errors.push(e as Error);
      }
    }),
  );
  if (errors.length) throw new Error(`claiming pods for ${o.kind} ${o.owner.metadata!.namespace}/${o.owner.metadata!.name}: ${errors.map((e) => e.message).join('; ')}`);
  return claimed;
}

async function patchPod(client: ApiClient, pod: Pod, body: unknown): Promise<Pod | undefined> {
  try {
    return await client.patch<Pod>({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name }, 'strategic', body);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
