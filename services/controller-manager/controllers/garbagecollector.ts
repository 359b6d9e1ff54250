/**
 * The garbage collector (upstream pkg/controller/garbagecollector). A dependency graph,
 * keyed by UID, is built from the ownerReferences of every object of the collected kinds;
 * two queues act on it:
 * - attemptToDelete: an object whose owners are all gone (dangling references) is deleted
 *   (background cascading deletion); references to owners that are gone are removed from
 *   an object that still has a live owner, so a dependent with two owners survives until
 *   both are gone. An owner deleted with propagationPolicy=Foreground carries the
 *   `foregroundDeletion` finalizer (added by the apiserver): its dependents are deleted
 *   first, and the finalizer is removed once no dependent with blockOwnerDeletion is left.
 * - attemptToOrphan: an owner deleted with propagationPolicy=Orphan carries the `orphan`
 *   finalizer: the references to it are removed from its dependents, then the finalizer.
 *
 * Simplifications against upstream, on purpose:
 * - Graph changes are applied synchronously in the informer handlers instead of through a
 *   graphChanges queue with one worker: Node's single thread already serialises them.
 *   Workers that find an owner gone remove its node from the graph directly (upstream
 *   routes that "virtual delete event" through the graphChanges queue).
 * - The collected kinds are the apiserver's served kinds (lib/schema, which the
 *   apiserver serves from), fixed at start: no periodic discovery resync (there are no
 *   CRDs yet). Events are ignored, as upstream does; Leases too (node heartbeats: their
 *   churn costs more than collecting the Lease of a deleted Node is worth).
 * - No per-object events, no OwnerRefInvalidNamespace check, no gc metrics beyond the
 *   queues' workqueue_* metrics.
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { isConflict, isNotFound } from '../../../lib/api/errors.js';
import { type DeletedFinalStateUnknown, deletedObject, forEachLimited, type GroupVersionResource, type KubeObject, type RateLimitingQueue, type ResourceRef, retryOnConflict } from '../../../lib/client/mod.js';
import '../../../lib/schema/kinds/mod.js';
import { allKinds, apiVersionOf } from '../../../lib/schema/registry.js';
import type { KindDef } from '../../../lib/schema/types.js';
import { InformerController, type ControllerContext } from '../../../lib/controller/mod.js';

export const FOREGROUND_DELETION_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

/** group/plural of kinds the collector never watches (upstream DefaultIgnoredResources, plus leases) */
const IGNORED_RESOURCES = new Set(['/events', 'events.k8s.io/events', 'coordination.k8s.io/leases']);
/** how many owners known to be gone are remembered (upstream's absentOwnerCache holds 500) */
const ABSENT_OWNER_CACHE_SIZE = 500;
/** how long an owner that exists but has not reached its informer yet waits before a re-check */
const UNOBSERVED_RECHECK_MS = 1000;
/** dependents updated at once while orphaning */
const ORPHAN_CONCURRENCY = 25;

/** The served kinds whose objects the collector watches. */
export function collectedKinds(): KindDef[] {
  return allKinds().filter(
    (k) => !IGNORED_RESOURCES.has(`${k.group}/${k.plural}`) && ['list', 'watch', 'delete'].every((v) => !k.verbs || k.verbs.includes(v)),
  );
}

/** The resources the collector's informers watch (the manager keeps them warm on standbys). */
export function garbageCollectedResources(): GroupVersionResource[] {
  return collectedKinds().map((k) => ({ group: k.group, version: k.version, resource: k.plural }));
}

interface ObjectIdentity {
  apiVersion: string;
  kind: string;
  /** '' for cluster-scoped objects */
  namespace: string;
  name: string;
  uid: string;
}

/** One object in the dependency graph; virtual while known only from a dependent's ownerReference. */
class GraphNode {
  owners: OwnerReference[] = [];
  readonly dependents = new Set<GraphNode>();
  beingDeleted = false;
  /** deleting with the foregroundDeletion finalizer: dependents go first */
  deletingDependents = false;
  /** deleting with the orphan finalizer */
  orphaningDependents = false;

  constructor(
    public identity: ObjectIdentity,
    public virtual: boolean,
  ) {}

  /** dependents that hold this owner back: their reference to it has blockOwnerDeletion */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((d) => d.owners.some((r) => r.uid === this.identity.uid && r.blockOwnerDeletion));
  }
}

const hasFinalizer = (obj: KubeObject, f: string) => (obj.metadata?.finalizers ?? []).includes(f);

export class GarbageCollector extends InformerController {
  readonly attemptToDelete: RateLimitingQueue<string>;
  readonly attemptToOrphan: RateLimitingQueue<string>;
  private readonly nodes = new Map<string, GraphNode>();
  /** UIDs of owners known to be gone; a UID never comes back, so entries never go stale */
  private readonly absentOwners = new Set<string>();
  private readonly kindsByType = new Map<string, KindDef>();
  private readonly watchedTypes = new Set<string>();

  constructor(ctx: ControllerContext) {
    super('garbagecollector', ctx);
    this.attemptToDelete = this.addQueue('garbage_collector_attempt_to_delete', (uid) => this.attemptToDeleteItem(uid), (uid) => `attemptToDelete of ${this.describe(uid)}`);
    this.attemptToOrphan = this.addQueue('garbage_collector_attempt_to_orphan', (uid) => this.attemptToOrphanItem(uid), (uid) => `attemptToOrphan of ${this.describe(uid)}`);
    for (const k of allKinds()) this.kindsByType.set(typeKey(apiVersionOf(k), k.kind), k);
    for (const k of collectedKinds()) {
      const apiVersion = apiVersionOf(k);
      this.watchedTypes.add(typeKey(apiVersion, k.kind));
      const inf = ctx.informers.forResource<KubeObject>({ group: k.group, version: k.version, resource: k.plural });
      this.handle(inf, {
        onAdd: (obj) => this.observe(obj, apiVersion, k.kind),
        onUpdate: (_old, obj) => this.observe(obj, apiVersion, k.kind),
        onDelete: (obj) => this.observeDeletion(obj),
      });
    }
  }

  /** How many objects (observed or virtual) the graph holds; for tests and debugging. */
  graphSize(): number {
    return this.nodes.size;
  }

  // ---- graph builder ----

  /** An object was added or changed: sync its node, its owner links and its deletion state. */
  private observe(obj: KubeObject, apiVersion: string, kind: string): void {
    const meta = obj.metadata;
    const uid = meta?.uid;
    if (!uid) return;
    const identity: ObjectIdentity = { apiVersion, kind, namespace: meta.namespace ?? '', name: meta.name ?? '', uid };
    const owners = [...(meta.ownerReferences ?? [])];
    let node = this.nodes.get(uid);
    if (!node) {
      node = new GraphNode(identity, false);
      this.nodes.set(uid, node);
      node.owners = owners;
      for (const ref of owners) this.link(node, ref);
    } else {
      node.virtual = false;
      node.identity = identity;
      const before = new Map(node.owners.map((r) => [r.uid, r]));
      const after = new Map(owners.map((r) => [r.uid, r]));
      node.owners = owners;
      for (const ref of owners) if (!before.has(ref.uid)) this.link(node, ref);
      for (const [ownerUid, old] of before) {
        const now = after.get(ownerUid);
        const owner = this.nodes.get(ownerUid);
        if (!now) owner?.dependents.delete(node);
        // an owner waiting for its blocking dependents may now be free to go
        const unblocked = !now || (old.blockOwnerDeletion && !now.blockOwnerDeletion);
        if (unblocked && owner?.deletingDependents) this.attemptToDelete.add(ownerUid);
      }
    }
    const beingDeleted = !!meta.deletionTimestamp;
    node.beingDeleted = beingDeleted;
    const orphaning = beingDeleted && hasFinalizer(obj, ORPHAN_FINALIZER);
    if (orphaning && !node.orphaningDependents) this.attemptToOrphan.add(uid);
    node.orphaningDependents = orphaning;
    const deletingDependents = beingDeleted && hasFinalizer(obj, FOREGROUND_DELETION_FINALIZER);
    if (deletingDependents && !node.deletingDependents) {
      node.deletingDependents = true;
      for (const d of node.dependents) this.attemptToDelete.add(d.identity.uid);
      this.attemptToDelete.add(uid);
    }
  }

  /** Links a dependent to its owner, creating a virtual owner (verified by a worker) if unseen. */
  private link(dependent: GraphNode, ref: OwnerReference): void {
    let owner = this.nodes.get(ref.uid);
    if (!owner) {
      const kind = this.kindsByType.get(typeKey(ref.apiVersion, ref.kind));
      const namespace = kind && !kind.namespaced ? '' : dependent.identity.namespace;
      owner = new GraphNode({ apiVersion: ref.apiVersion, kind: ref.kind, namespace, name: ref.name, uid: ref.uid }, true);
      this.nodes.set(ref.uid, owner);
      this.attemptToDelete.add(ref.uid);
    }
    owner.dependents.add(dependent);
  }

  private observeDeletion(o: KubeObject | DeletedFinalStateUnknown<KubeObject>): void {
    const uid = deletedObject(o).metadata?.uid;
    const node = uid ? this.nodes.get(uid) : undefined;
    if (node) this.removeNode(node);
  }

  /** The object is gone: its dependents are re-examined, and owners waiting on it look again. */
  private removeNode(node: GraphNode): void {
    const uid = node.identity.uid;
    if (this.nodes.get(uid) !== node) return;
    this.nodes.delete(uid);
    for (const ref of node.owners) this.nodes.get(ref.uid)?.dependents.delete(node);
    if (node.dependents.size) this.rememberAbsent(uid);
    for (const d of node.dependents) this.attemptToDelete.add(d.identity.uid);
    for (const ref of node.owners) {
      const owner = this.nodes.get(ref.uid);
      if (owner?.deletingDependents) this.attemptToDelete.add(ref.uid);
    }
  }

  private rememberAbsent(uid: string): void {
    if (this.absentOwners.size >= ABSENT_OWNER_CACHE_SIZE) this.absentOwners.delete(this.absentOwners.values().next().value!);
    this.absentOwners.add(uid);
  }

  // ---- workers ----

  private async attemptToDeleteItem(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    const ref = this.refFor(node.identity);
    if (!ref) {
      this.ctx.log(`garbagecollector: cannot resolve ${node.identity.apiVersion}/${node.identity.kind} of ${this.describe(uid)}; leaving it`);
      return;
    }
    let latest: KubeObject;
    try {
      latest = await this.ctx.client.get<KubeObject>(ref);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      this.removeNode(node);
      return;
    }
    if (latest.metadata?.uid !== uid) {
      // a namesake replaced it: the object this node stands for is gone
      this.removeNode(node);
      return;
    }
    if (node.virtual) {
      // it exists but its informer has not told us yet; kinds never watched are judged from their dependents' side
      if (this.watchedTypes.has(typeKey(node.identity.apiVersion, node.identity.kind))) this.attemptToDelete.addAfter(uid, UNOBSERVED_RECHECK_MS);
      return;
    }
    const meta = latest.metadata!;
    if (meta.deletionTimestamp) {
      if (hasFinalizer(latest, FOREGROUND_DELETION_FINALIZER)) await this.processDeletingDependents(node);
      return;
    }
    const refs = meta.ownerReferences ?? [];
    if (!refs.length) return;
    const { solid, dangling, waiting } = await this.classifyReferences(node, refs);
    if (solid.length) {
      // keep the object, but stop pointing at owners that are gone or are going foreground
      const stale = new Set([...dangling, ...waiting].map((r) => r.uid));
      if (stale.size) await this.mutate(node.identity, (obj) => removeOwnerReferences(obj, stale));
      return;
    }
    if (waiting.length && node.dependents.size) {
      // our owner waits for us and we have dependents of our own: go foreground too, and
      // unblock our owner first, or a cycle of blocking references could never finish
      const blocking = new Set(waiting.filter((r) => r.blockOwnerDeletion).map((r) => r.uid));
      if (blocking.size) await this.mutate(node.identity, (obj) => unblockOwnerReferences(obj, blocking));
      await this.deleteObject(node.identity, 'Foreground');
      return;
    }
    const policy = hasFinalizer(latest, ORPHAN_FINALIZER) ? 'Orphan' : hasFinalizer(latest, FOREGROUND_DELETION_FINALIZER) ? 'Foreground' : 'Background';
    await this.deleteObject(node.identity, policy);
  }

  /** Sorts an object's references into live owners, owners that are gone, and owners deleting foreground. */
  private async classifyReferences(node: GraphNode, refs: OwnerReference[]) {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const r of refs) {
      if (this.absentOwners.has(r.uid)) {
        dangling.push(r);
        continue;
      }
      const kind = this.kindsByType.get(typeKey(r.apiVersion, r.kind));
      if (!kind) {
        // an owner of a kind nobody serves cannot be judged; keeping the dependent is the safe side
        solid.push(r);
        continue;
      }
      const ownerRef: ResourceRef = { group: kind.group, version: kind.version, resource: kind.plural, name: r.name, namespace: kind.namespaced ? node.identity.namespace : undefined };
      let owner: KubeObject;
      try {
        owner = await this.ctx.client.get<KubeObject>(ownerRef);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        this.rememberAbsent(r.uid);
        dangling.push(r);
        continue;
      }
      if (owner.metadata?.uid !== r.uid) {
        this.rememberAbsent(r.uid);
        dangling.push(r);
      } else if (owner.metadata?.deletionTimestamp && hasFinalizer(owner, FOREGROUND_DELETION_FINALIZER)) {
        waiting.push(r);
      } else {
        solid.push(r);
      }
    }
    return { solid, dangling, waiting };
  }

  /** Foreground deletion: dependents go first; the finalizer goes once none blocks. */
  private async processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = node.blockingDependents();
    if (!blocking.length) {
      await this.removeFinalizer(node.identity, FOREGROUND_DELETION_FINALIZER);
      return;
    }
    // this owner is looked at again when a blocking dependent goes (removeNode)
    for (const d of blocking) if (!d.deletingDependents) this.attemptToDelete.add(d.identity.uid);
  }

  private async attemptToOrphanItem(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    const owner = new Set([uid]);
    // as upstream's orphanDependents: every dependent is tried, then the first failure retries the owner
    const errors = await forEachLimited([...node.dependents], ORPHAN_CONCURRENCY, (d) => this.mutate(d.identity, (obj) => removeOwnerReferences(obj, owner)));
    const failed = errors.find((e) => e !== undefined);
    if (failed) throw failed;
    await this.removeFinalizer(node.identity, ORPHAN_FINALIZER);
  }

  // ---- API writes ----

  private async deleteObject(id: ObjectIdentity, propagationPolicy: 'Orphan' | 'Background' | 'Foreground'): Promise<void> {
    const ref = this.refFor(id);
    if (!ref) return;
    try {
      await this.ctx.client.delete(ref, { propagationPolicy, preconditions: { uid: id.uid } });
    } catch (e) {
      // gone already, or a namesake holds the name now (the uid precondition failed)
      if (isNotFound(e) || isConflict(e)) return;
      throw new Error(`deleting ${describeIdentity(id)}: ${(e as Error).message}`);
    }
  }

  private removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    return this.mutate(id, (obj) => {
      const fins = obj.metadata?.finalizers ?? [];
      if (!fins.includes(finalizer)) return false;
      obj.metadata!.finalizers = fins.filter((f) => f !== finalizer);
      return true;
    });
  }

  /**
   * Reads the object, changes it and writes it back as a compare-and-swap, retrying on
   * conflicts. An object that is gone (or replaced by a namesake) needs nothing.
   */
  private async mutate(id: ObjectIdentity, change: (obj: KubeObject) => boolean): Promise<void> {
    const ref = this.refFor(id);
    if (!ref) return;
    try {
      await retryOnConflict(async () => {
        const obj = await this.ctx.client.get<KubeObject>(ref);
        if (obj.metadata?.uid !== id.uid || !change(obj)) return;
        await this.ctx.client.update(ref, obj);
      });
    } catch (e) {
      if (isNotFound(e)) return;
      throw new Error(`updating ${describeIdentity(id)}: ${(e as Error).message}`);
    }
  }

  private refFor(id: ObjectIdentity): ResourceRef | undefined {
    const kind = this.kindsByType.get(typeKey(id.apiVersion, id.kind));
    if (!kind) return undefined;
    return { group: kind.group, version: kind.version, resource: kind.plural, name: id.name, namespace: kind.namespaced ? id.namespace : undefined };
  }

  private describe(uid: string): string {
    const node = this.nodes.get(uid);
    return node ? describeIdentity(node.identity) : `uid ${uid}`;
  }
}

function typeKey(apiVersion: string, kind: string): string {
  return `${apiVersion}|${kind}`;
}

function describeIdentity(id: ObjectIdentity): string {
  return `${id.kind} ${id.namespace ? `${id.namespace}/` : ''}${id.name} (uid ${id.uid})`;
}

function removeOwnerReferences(obj: KubeObject, uids: Set<string>): boolean {
  const refs: OwnerReference[] = obj.metadata?.ownerReferences ?? [];
  const kept = refs.filter((r) => !uids.has(r.uid));
  if (kept.length === refs.length) return false;
  if (kept.length) obj.metadata!.ownerReferences = kept;
  else delete obj.metadata!.ownerReferences;
  return true;
}

function unblockOwnerReferences(obj: KubeObject, uids: Set<string>): boolean {
  let changed = false;
  for (const r of (obj.metadata?.ownerReferences ?? []) as OwnerReference[]) {
    if (uids.has(r.uid) && r.blockOwnerDeletion) {
      r.blockOwnerDeletion = false;
      changed = true;
    }
  }
  return changed;
}
