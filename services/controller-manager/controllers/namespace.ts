/**
 * The namespace controller (upstream pkg/controller/namespace, v1.31). A namespace being
 * deleted (deletionTimestamp set, phase Terminating, held by the `kubernetes` entry of
 * spec.finalizers) is emptied here: every namespaced resource the apiserver serves that
 * supports delete is deleted in it (deletecollection where served, else object by
 * object; Background propagation, so the garbage collector does not orphan), the status
 * conditions report what is left and why, and once nothing is left the `kubernetes`
 * finalizer is removed through the namespace's `finalize` subresource, after which the
 * apiserver removes the namespace. The apiserver's part (phase Terminating, refusing new
 * content, the finalizer on new namespaces, /finalize) stays in the apiserver.
 *
 * Content that takes time to go (pods terminating gracefully on their nodes, objects
 * held by finalizers) requeues the namespace after upstream's estimate: half the
 * longest pod grace period plus a second, or 15 s when finalizers hold objects.
 *
 * Differences from upstream, on purpose:
 * - Discovery: the resources come from the apiserver's discovery as upstream's do, but
 *   in one NATS request (`flotilla.api.discovery`, one document for every group
 *   version) instead of one HTTP request per group version, so it fails whole (the
 *   NamespaceDeletionDiscoveryFailure condition) rather than per group; a
 *   GroupDiscoveryFailedError from another `ResourceDiscovery` is still acted on in part.
 * - Namespace events are processed 1 s after they arrive, not 5 s: the delay lets every
 *   apiserver observe the deletion before the namespace is found empty, and Flotilla's
 *   apiservers all follow one KV bucket with millisecond lag (upstream's 5 s covers HA
 *   etcd and watch caches).
 * - When the last pod of a terminating namespace goes (its kubelet finished it), the
 *   namespace is synced at once instead of waiting out the grace-period estimate.
 */
import type { Namespace, NamespaceCondition, Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound, StatusError } from '../../../lib/api/errors.js';
import { BucketRateLimiter, deletedObject, type GroupVersionResource, ItemExponentialFailureRateLimiter, type KubeObject, MaxOfRateLimiter, NAMESPACE_INDEX, type ResourceRef, Resources, retryOnConflict, type SharedInformer } from '../../../lib/client/mod.js';
import { apiVersionOf } from '../../../lib/schema/registry.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { metaTime } from '../../../lib/api/time.js';

/** The spec.finalizers entry this controller owns (v1.FinalizerKubernetes). */
export const FINALIZER_KUBERNETES = 'kubernetes';
/** How long namespace events wait before they are processed (see the header). */
export const NAMESPACE_DELETION_GRACE_MS = 1000;
/** upstream finalizerEstimateSeconds: the requeue estimate when finalizers hold content */
const FINALIZER_ESTIMATE_SECONDS = 15;
/** page size of the lists that count what is left */
const LIST_PAGE_SIZE = 500;

/** One resource of a discovery document (metav1.APIResource, the fields used here). */
export interface DiscoveredResource {
  name: string;
  namespaced: boolean;
  verbs: string[];
}

/** One group version of a discovery document (metav1.APIResourceList). */
export interface DiscoveredResourceList {
  groupVersion: string;
  resources: DiscoveredResource[];
}

/**
 * Discovery failed for some groups (discovery.ErrGroupDiscoveryFailed): `partial` holds
 * what was discovered, which is still acted on.
 */
export class GroupDiscoveryFailedError extends Error {
  constructor(
    readonly groups: Map<string, Error>,
    readonly partial: DiscoveredResourceList[],
  ) {
    super(`unable to retrieve the complete list of server APIs: ${[...groups].map(([gv, e]) => `${gv}: ${e.message}`).join(', ')}`);
    this.name = 'GroupDiscoveryFailedError';
  }
}

/** ServerPreferredNamespacedResources: the namespaced resources of each group's preferred version. */
export type ResourceDiscovery = () => Promise<DiscoveredResourceList[]>;

/** schema.ParseGroupVersion: "v1" is core, "apps/v1" a group; anything else is an error. */
function parseGroupVersion(gv: string): { group: string; version: string } {
  const parts = gv.split('/');
  if (parts.length === 1 && parts[0]) return { group: '', version: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { group: parts[0], version: parts[1] };
  throw new Error(`unexpected GroupVersion string: ${gv}`);
}

interface DeletableResource extends GroupVersionResource {
  verbs: Set<string>;
}

/** What deleting one resource in a namespace left behind. */
interface ResourceDeletion {
  /** seconds until what is left should be gone (graceful pods, finalizers) */
  estimate: number;
  remaining: number;
  finalizers: Map<string, number>;
}

// upstream's namespace deletion conditions, with the "ok" variants set when nothing fails
const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
type ConditionType = (typeof CONDITION_TYPES)[number];

const OK_REASONS: Record<ConditionType, string> = {
  NamespaceDeletionDiscoveryFailure: 'ResourcesDiscovered',
  NamespaceDeletionGroupVersionParsingFailure: 'ParsedGroupVersions',
  NamespaceDeletionContentFailure: 'ContentDeleted',
  NamespaceContentRemaining: 'ContentRemoved',
  NamespaceFinalizersRemaining: 'ContentHasNoFinalizers',
};
const OK_MESSAGES: Record<ConditionType, string> = {
  NamespaceDeletionDiscoveryFailure: 'All resources successfully discovered',
  NamespaceDeletionGroupVersionParsingFailure: 'All legacy kube types successfully parsed',
  NamespaceDeletionContentFailure: 'All content successfully deleted, may be waiting on finalization',
  NamespaceContentRemaining: 'All content successfully removed',
  NamespaceFinalizersRemaining: 'All content-preserving finalizers finished',
};

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Collects one pass's failures and totals, then writes them as the status conditions (upstream namespaceConditionUpdater). */
class ConditionUpdater {
  private readonly conditions: NamespaceCondition[] = [];
  private readonly contentErrors: string[] = [];

  private failing(type: ConditionType, reason: string, message: string): void {
    this.conditions.push({ type, status: 'True', lastTransitionTime: metaTime(), reason, message });
  }

  discoveryFailed(e: unknown): void {
    const msg = e instanceof GroupDiscoveryFailedError ? `Discovery failed for some groups, ${e.groups.size} failing: ${e.message}` : errorMessage(e);
    this.failing('NamespaceDeletionDiscoveryFailure', 'DiscoveryFailed', msg);
  }

  groupVersionFailed(errors: string[]): void {
    this.failing('NamespaceDeletionGroupVersionParsingFailure', 'GroupVersionParsingFailed', errors.join(', '));
  }

  contentFailed(e: unknown): void {
    this.contentErrors.push(errorMessage(e));
  }

  contentTotals(remainingByResource: Map<string, number>, remainingByFinalizer: Map<string, number>): void {
    if (remainingByResource.size) {
      const parts = [...remainingByResource].map(([r, n]) => `${r} has ${n} resource instances`).sort();
      this.failing('NamespaceContentRemaining', 'SomeResourcesRemain', `Some resources are remaining: ${parts.join(', ')}`);
    }
    if (remainingByFinalizer.size) {
      const parts = [...remainingByFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      this.failing('NamespaceFinalizersRemaining', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${parts.join(', ')}`);
    }
  }

  /** Merges the pass's conditions into status; true when anything changed. */
  apply(ns: Namespace): boolean {
    if (this.contentErrors.length) {
      const msgs = [...this.contentErrors].sort();
      this.failing('NamespaceDeletionContentFailure', 'ContentDeletionFailed', `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`);
    }
    const status = (ns.status ??= {});
    const current = (status.conditions ??= []);
    let changed = false;
    for (const type of CONDITION_TYPES) {
      const next = this.conditions.find((c) => c.type === type) ?? {
        type,
        status: 'False',
        lastTransitionTime: metaTime(),
        reason: OK_REASONS[type],
        message: OK_MESSAGES[type],
      };
      const old = current.find((c) => c.type === type);
      if (!old) {
        current.push(next);
        changed = true;
      } else if (old.status !== next.status || old.reason !== next.reason || old.message !== next.message) {
        if (old.status !== next.status) old.lastTransitionTime = metaTime();
        old.status = next.status;
        old.reason = next.reason;
        old.message = next.message;
        changed = true;
      }
    }
    return changed;
  }
}

export interface NamespaceControllerOptions {
  /** which resources exist (default: the apiserver's discovery over NATS, ServerPreferredNamespacedResources) */
  discovery?: ResourceDiscovery;
  /** delay before a namespace event is processed (default NAMESPACE_DELETION_GRACE_MS) */
  deletionGraceMs?: number;
}

export class NamespaceController extends QueueController {
  private readonly nsInformer: SharedInformer<Namespace>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly discovery: ResourceDiscovery;
  private readonly deletionGraceMs: number;
  /** resources whose deletecollection the apiserver refused: deleted item by item from then on (upstream opCache) */
  private readonly noDeleteCollection = new Set<string>();

  constructor(ctx: ControllerContext, opts: NamespaceControllerOptions = {}) {
    // upstream nsControllerRateLimiter: retry at least every minute, forever
    super('namespace', ctx, {
      maxRetries: Infinity,
      rateLimiter: new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter<string>(5, 60_000), new BucketRateLimiter<string>(10, 100)),
    });
    this.discovery = opts.discovery ?? (() => ctx.client.serverPreferredResources({ namespaced: true }));
    this.deletionGraceMs = opts.deletionGraceMs ?? NAMESPACE_DELETION_GRACE_MS;
    this.nsInformer = ctx.informers.forResource<Namespace>(Resources.namespaces);
    this.podInformer = ctx.informers.forResource<Pod>(Resources.pods);
    this.handle(this.nsInformer, {
      onAdd: (ns) => this.namespaceChanged(ns),
      onUpdate: (_old, ns) => this.namespaceChanged(ns),
    });
    this.handle(this.podInformer, {
      onDelete: (obj) => {
        const namespace = deletedObject(obj).metadata?.namespace;
        if (!namespace || !this.nsInformer.store.getByKey(namespace)?.metadata?.deletionTimestamp) return;
        if (this.podInformer.store.indexKeys(NAMESPACE_INDEX, namespace).length === 0) this.enqueueKey(namespace);
      },
    });
  }

  private namespaceChanged(ns: Namespace): void {
    if (!ns.metadata?.deletionTimestamp) return;
    this.queue.addAfter(ns.metadata.name!, this.deletionGraceMs);
  }

  protected async sync(name: string): Promise<void> {
    if (!this.nsInformer.store.getByKey(name)) return;
    const estimate = await this.deleteNamespace(name);
    // upstream ResourcesRemainingError: look again in about half the estimate
    if (estimate > 0) this.queue.addAfter(name, (Math.floor(estimate / 2) + 1) * 1000);
  }

  private nsRef(name: string, subresource?: string): ResourceRef {
    return { ...Resources.namespaces, name, subresource };
  }

  /** Reads the namespace afresh; undefined once it is gone. */
  private async getNamespace(name: string): Promise<Namespace | undefined> {
    try {
      return await this.ctx.client.get<Namespace>(this.nsRef(name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * One pass of upstream's namespacedResourcesDeleter.Delete. Resolves to the seconds
   * content still needs (0: the namespace was finalized or needs nothing from here).
   */
  private async deleteNamespace(name: string): Promise<number> {
    let ns = await this.getNamespace(name);
    if (!ns?.metadata?.deletionTimestamp) return 0;
    ns = await this.ensureTerminating(ns);
    if (!ns?.metadata?.deletionTimestamp) return 0;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return 0;
    const estimate = await this.deleteAllContent(ns);
    if (estimate > 0) return estimate;
    await this.finalize(ns);
    return 0;
  }

  /** The apiserver sets phase Terminating on delete; a namespace missing it gets it here, as upstream. */
  private async ensureTerminating(ns: Namespace): Promise<Namespace | undefined> {
    if (ns.status?.phase === 'Terminating') return ns;
    let first = true;
    try {
      return await retryOnConflict(async () => {
        const cur = first ? ns : await this.getNamespace(ns.metadata!.name!);
        first = false;
        if (!cur || cur.status?.phase === 'Terminating') return cur;
        return this.ctx.client.updateStatus<Namespace>(this.nsRef(cur.metadata!.name!), { ...cur, status: { ...cur.status, phase: 'Terminating' } });
      });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new Error(`setting namespace ${ns.metadata!.name} Terminating: ${errorMessage(e)}`, { cause: e });
    }
  }

  /**
   * Deletes everything in the namespace, records the outcome in the status conditions and
   * resolves to the estimate of how long what is left needs; throws when something failed
   * (the namespace is then retried, rate limited).
   */
  private async deleteAllContent(ns: Namespace): Promise<number> {
    const namespace = ns.metadata!.name!;
    const conditions = new ConditionUpdater();
    const errors: string[] = [];
    let lists: DiscoveredResourceList[] = [];
    try {
      lists = await this.discovery();
    } catch (e) {
      // discovery errors are not fatal: what was discovered is still deleted
      if (e instanceof GroupDiscoveryFailedError) lists = e.partial;
      errors.push(errorMessage(e));
      conditions.discoveryFailed(e);
    }
    const resources: DeletableResource[] = [];
    const gvErrors: string[] = [];
    for (const list of lists) {
      let gv: { group: string; version: string };
      try {
        gv = parseGroupVersion(list.groupVersion);
      } catch (e) {
        gvErrors.push(errorMessage(e));
        continue;
      }
      for (const r of list.resources) {
        if (!r.namespaced || r.name.includes('/') || !r.verbs.includes('delete')) continue;
        resources.push({ ...gv, resource: r.name, verbs: new Set(r.verbs) });
      }
    }
    if (gvErrors.length) {
      errors.push(...gvErrors);
      conditions.groupVersionFailed(gvErrors);
    }

    let estimate = 0;
    const remainingByResource = new Map<string, number>();
    const remainingByFinalizer = new Map<string, number>();
    const results = await Promise.all(
      resources.map(async (r) => {
        try {
          return await this.deleteAllOf(r, namespace);
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
    results.forEach((res, i) => {
      if (res instanceof Error) {
        errors.push(res.message);
        conditions.contentFailed(res);
        return;
      }
      estimate = Math.max(estimate, res.estimate);
      if (res.remaining === 0) return;
      const r = resources[i]!;
      remainingByResource.set(`${r.resource}.${r.group}`, res.remaining);
      for (const [f, n] of res.finalizers) remainingByFinalizer.set(f, (remainingByFinalizer.get(f) ?? 0) + n);
    });
    conditions.contentTotals(remainingByResource, remainingByFinalizer);

    // written every pass: a condition that failed before and is fine now must say so
    if (conditions.apply(ns)) {
      try {
        await this.ctx.client.updateStatus<Namespace>(this.nsRef(namespace), ns);
      } catch (e) {
        if (!isNotFound(e)) this.ctx.log(`namespace: couldn't update status conditions of namespace ${namespace}: ${errorMessage(e)}`);
      }
    }
    if (errors.length) throw new Error(`deleting the content of namespace ${namespace}: ${errors.join('; ')}`);
    return estimate;
  }

  /** Deletes every object of one resource in the namespace and counts what is left (deleteAllContentForGroupVersionResource). */
  private async deleteAllOf(r: DeletableResource, namespace: string): Promise<ResourceDeletion> {
    const ref: ResourceRef = { group: r.group, version: r.version, resource: r.resource, namespace };
    const what = `${r.resource}${r.group ? `.${r.group}` : ''} in namespace ${namespace}`;
    // the namespace goes only once everything in it is gone: no orphan finalizers added
    const opts = { propagationPolicy: 'Background' as const };
    const key = `${r.group}/${r.resource}`;
    let collected = false;
    if (r.verbs.has('deletecollection') && !this.noDeleteCollection.has(key)) {
      try {
        await this.ctx.client.deleteCollection(ref, {}, opts);
        collected = true;
      } catch (e) {
        // served in discovery yet refused: fall back to one object at a time, as upstream
        if (!(e instanceof StatusError && (e.code === 405 || e.code === 404))) throw new Error(`deleting ${what}: ${errorMessage(e)}`, { cause: e });
        this.noDeleteCollection.add(key);
      }
    }
    if (!r.verbs.has('list')) return { estimate: 0, remaining: 0, finalizers: new Map() };
    if (!collected) {
      for (const item of await this.listAll(ref, what)) {
        if (item.metadata?.deletionTimestamp) continue;
        try {
          await this.ctx.client.delete({ ...ref, name: item.metadata!.name }, opts);
        } catch (e) {
          if (!isNotFound(e)) throw new Error(`deleting ${what.replace(' in namespace', ` ${item.metadata!.name} in namespace`)}: ${errorMessage(e)}`, { cause: e });
        }
      }
    }

    const left = await this.listAll(ref, what);
    const finalizers = new Map<string, number>();
    for (const item of left) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    // graceful pods: their kubelets finish them within their grace period
    let estimate = 0;
    if (r.group === '' && r.resource === 'pods') estimate = gracefulTerminationEstimate(left as Pod[]);
    if (estimate > 0) return { estimate, remaining: left.length, finalizers };
    if (finalizers.size) return { estimate: FINALIZER_ESTIMATE_SECONDS, remaining: left.length, finalizers };
    if (left.length) throw new Error(`unexpected items still remain in namespace: ${namespace} for gvr: ${apiVersionOf(r)}, Resource=${r.resource}`);
    return { estimate: 0, remaining: 0, finalizers };
  }

  private async listAll(ref: ResourceRef, what: string): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await this.ctx.client.list<KubeObject>(ref, { limit: LIST_PAGE_SIZE, continue: cont });
        items.push(...page.items);
        cont = page.metadata?.continue || undefined;
      } while (cont);
    } catch (e) {
      throw new Error(`listing ${what}: ${errorMessage(e)}`, { cause: e });
    }
    return items;
  }

  /** Removes the `kubernetes` finalizer through PUT namespaces/NAME/finalize; the apiserver then removes the namespace. */
  private async finalize(ns: Namespace): Promise<void> {
    const name = ns.metadata!.name!;
    let first = true;
    try {
      await retryOnConflict(async () => {
        const cur = first ? ns : await this.getNamespace(name);
        first = false;
        if (!cur) return;
        if (cur.metadata?.uid !== ns.metadata?.uid) throw new Error(`namespace ${name} was replaced (uid changed) while being finalized`);
        const finalizers = [...new Set((cur.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES))].sort();
        await this.ctx.client.update<Namespace>(this.nsRef(name, 'finalize'), { ...cur, spec: { ...cur.spec, finalizers } });
      });
    } catch (e) {
      if (isNotFound(e)) return;
      throw new Error(`finalizing namespace ${name}: ${errorMessage(e)}`, { cause: e });
    }
  }
}

/**
 * Upstream estimateGracefulTerminationForPods: the longest grace period of the pods not
 * yet terminal (in seconds).
 */
function gracefulTerminationEstimate(pods: Pod[]): number {
  let estimate = 0;
  for (const p of pods) {
    const phase = p.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const grace = p.metadata?.deletionGracePeriodSeconds ?? p.spec?.terminationGracePeriodSeconds ?? 0;
    estimate = Math.max(estimate, grace);
  }
  return estimate;
}
