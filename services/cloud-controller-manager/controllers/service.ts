/**
 * The service load balancer controller (upstream k8s.io/cloud-provider
 * controllers/service): a Service of `type: LoadBalancer` without `spec.loadBalancerClass`
 * gets a load balancer from the cloud, written to `status.loadBalancer.ingress` (kubectl
 * shows it as EXTERNAL-IP). As upstream:
 * - the finalizer `service.kubernetes.io/load-balancer-cleanup` is added before the load
 *   balancer is provisioned, and removed only after it was released: on delete, or when
 *   the Service stops wanting one (type changed, a loadBalancerClass set); the status is
 *   cleared then;
 * - events: `EnsuringLoadBalancer`, `EnsuredLoadBalancer`, `DeletingLoadBalancer`,
 *   `DeletedLoadBalancer`, and a Warning `SyncLoadBalancerFailed` ("Error syncing load
 *   balancer: ...") when the cloud fails, retried through the rate-limited queue.
 * A Service whose load balancer the cloud already holds with the status the Service
 * shows is left alone (no write, no event), so resyncs and its own status writes cost
 * nothing.
 *
 * Difference from upstream: no node sync loop (UpdateLoadBalancer on node changes): the
 * local cloud's load balancers forward through the proxy, not to a node list.
 */
import type { LoadBalancerStatus, Node, Service } from 'kubernetes-types/core/v1.js';
import { deletedObject, isConflict, isNotFound, metaNamespaceKey, Resources, type SharedInformer } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import type { LoadBalancer } from '../cloudprovider/cloud.js';

export const LOAD_BALANCER_CLEANUP_FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';
export const LABEL_EXCLUDE_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';
const COMPONENT = 'service-lb-controller';

export function wantsLoadBalancer(svc: Service): boolean {
  return svc.spec?.type === 'LoadBalancer' && !svc.spec.loadBalancerClass;
}

function hasFinalizer(svc: Service): boolean {
  return !!svc.metadata?.finalizers?.includes(LOAD_BALANCER_CLEANUP_FINALIZER);
}

/** upstream needsCleanup: the finalizer is there and the load balancer must go */
function needsCleanup(svc: Service): boolean {
  return hasFinalizer(svc) && (!!svc.metadata?.deletionTimestamp || !wantsLoadBalancer(svc));
}

function sameStatus(a: LoadBalancerStatus | undefined, b: LoadBalancerStatus | undefined): boolean {
  const ips = (s: LoadBalancerStatus | undefined) => (s?.ingress ?? []).map((i) => `${i.ip ?? ''}|${i.hostname ?? ''}|${i.ipMode ?? ''}`).join(',');
  return ips(a) === ips(b);
}

export class ServiceLoadBalancerController extends QueueController {
  private readonly services: SharedInformer<Service>;
  private readonly nodes: SharedInformer<Node>;
  /** Services deleted without our finalizer while they had a load balancer: released from their last state */
  private readonly gone = new Map<string, Service>();

  constructor(
    ctx: ControllerContext,
    private readonly lb: LoadBalancer,
    private readonly clusterName: string,
  ) {
    super('service', ctx);
    this.services = ctx.informers.forResource<Service>(Resources.services);
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    this.handle(this.services, {
      onAdd: (s) => {
        if (wantsLoadBalancer(s) || hasFinalizer(s)) this.enqueue(s);
      },
      onUpdate: (old, s) => {
        if (wantsLoadBalancer(s) || hasFinalizer(s) || wantsLoadBalancer(old)) this.enqueue(s);
      },
      onDelete: (o) => {
        const s = deletedObject(o);
        if (!wantsLoadBalancer(s) && !hasFinalizer(s)) return;
        this.gone.set(metaNamespaceKey(s), s);
        this.enqueue(o);
      },
    });
  }

  protected async sync(key: string): Promise<void> {
    const svc = this.services.store.getByKey(key);
    if (!svc) {
      const last = this.gone.get(key);
      if (last) await this.lb.ensureLoadBalancerDeleted(this.clusterName, last);
      this.gone.delete(key);
      return;
    }
    this.gone.delete(key);
    try {
      if (needsCleanup(svc)) await this.release(svc);
      else if (wantsLoadBalancer(svc)) await this.ensure(svc);
    } catch (e) {
      if (isNotFound(e)) return;
      // a stale cache: the next sync sees the newer Service
      if (isConflict(e)) throw e;
      this.record(svc, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${(e as Error).message}`);
      throw e;
    }
  }

  private async ensure(svc: Service): Promise<void> {
    if (svc.metadata?.deletionTimestamp) return;
    if (hasFinalizer(svc)) {
      const current = await this.lb.getLoadBalancer(this.clusterName, svc);
      if (current.exists && sameStatus(current.status, svc.status?.loadBalancer) && (!svc.spec?.loadBalancerIP || current.status?.ingress?.[0]?.ip === svc.spec.loadBalancerIP)) return;
    } else {
      // the finalizer first: a Service deleted from now on keeps existing until its load balancer is released
      await this.patchFinalizers(svc, [...(svc.metadata?.finalizers ?? []), LOAD_BALANCER_CLEANUP_FINALIZER]);
    }
    this.record(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    const status = await this.lb.ensureLoadBalancer(this.clusterName, svc, this.eligibleNodes());
    if (!sameStatus(status, svc.status?.loadBalancer)) await this.patchStatus(svc, status);
    this.record(svc, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
  }

  private async release(svc: Service): Promise<void> {
    this.record(svc, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
    await this.lb.ensureLoadBalancerDeleted(this.clusterName, svc);
    this.record(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
    // the finalizer patch is a compare-and-swap on the Service as the status patch left it
    const current = !svc.metadata?.deletionTimestamp && svc.status?.loadBalancer?.ingress?.length ? await this.patchStatus(svc, {}) : svc;
    await this.patchFinalizers(current, (current.metadata?.finalizers ?? []).filter((f) => f !== LOAD_BALANCER_CLEANUP_FINALIZER));
  }

  /** upstream: Ready nodes without the exclude-from-external-load-balancers label */
  private eligibleNodes(): Node[] {
    return this.nodes.store.list().filter((n) => !n.metadata?.labels?.[LABEL_EXCLUDE_LB] && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }

  private async patchFinalizers(svc: Service, finalizers: string[]): Promise<void> {
    // the uid precondition in metadata keeps the patch off a Service recreated under the same name
    await this.ctx.client.patch<Service>({ ...Resources.services, namespace: svc.metadata!.namespace!, name: svc.metadata!.name! }, 'merge', {
      metadata: { uid: svc.metadata?.uid, resourceVersion: svc.metadata?.resourceVersion, finalizers: finalizers.length ? finalizers : null },
    });
  }

  private patchStatus(svc: Service, status: LoadBalancerStatus): Promise<Service> {
    return this.ctx.client.patch<Service>({ ...Resources.services, namespace: svc.metadata!.namespace!, name: svc.metadata!.name!, subresource: 'status' }, 'merge', {
      status: { loadBalancer: status.ingress?.length ? status : { ingress: null } },
    });
  }

  private record(svc: Service, type: 'Normal' | 'Warning', reason: string, note: string): void {
    this.ctx.recorder(COMPONENT).eventf(svc, undefined, type, reason, reason, note);
  }
}
