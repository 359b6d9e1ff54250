/**
 * The ServiceAccounts controller (upstream pkg/controller/serviceaccount): every active
 * namespace has a `default` ServiceAccount; one is created in a new namespace and
 * recreated when deleted. The queue is keyed by namespace name.
 */
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound, StatusError } from '../../../lib/api/errors.js';
import { deletedObject, Resources, SERVICE_ACCOUNTS, type SharedInformer } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';

/** the accounts every namespace gets (upstream's default ServiceAccountsControllerOptions) */
export const MANAGED_SERVICE_ACCOUNTS = ['default'];

export class ServiceAccountController extends QueueController {
  private readonly nsInformer: SharedInformer<Namespace>;
  private readonly saInformer: SharedInformer<ServiceAccount>;

  constructor(ctx: ControllerContext) {
    super('serviceaccount', ctx);
    this.nsInformer = ctx.informers.forResource<Namespace>(Resources.namespaces);
    this.saInformer = ctx.informers.forResource<ServiceAccount>(SERVICE_ACCOUNTS);
    this.handle(this.nsInformer, {
      onAdd: (ns) => this.enqueueKey(ns.metadata!.name!),
      onUpdate: (_old, ns) => this.enqueueKey(ns.metadata!.name!),
    });
    this.handle(this.saInformer, {
      onDelete: (obj) => {
        const sa = deletedObject(obj);
        if (MANAGED_SERVICE_ACCOUNTS.includes(sa.metadata?.name ?? '')) this.enqueueKey(sa.metadata!.namespace!);
      },
    });
  }

  protected async sync(namespace: string): Promise<void> {
    const ns = this.nsInformer.store.getByKey(namespace);
    // nothing can be created in a namespace that is gone or going
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of MANAGED_SERVICE_ACCOUNTS) {
      if (this.saInformer.store.getByKey(`${namespace}/${name}`)) continue;
      try {
        await this.ctx.client.create<ServiceAccount>({ ...SERVICE_ACCOUNTS, namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
      } catch (e) {
        // the cache lagged behind a create, or the namespace went meanwhile
        if (isAlreadyExists(e) || isNotFound(e)) continue;
        if (e instanceof StatusError && e.reason === 'Forbidden' && /terminat/i.test(e.message)) continue;
        throw new Error(`creating ServiceAccount ${namespace}/${name}: ${(e as Error).message}`);
      }
    }
  }
}
