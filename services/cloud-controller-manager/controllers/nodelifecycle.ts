/**
 * The cloud node lifecycle controller (upstream k8s.io/cloud-provider
 * controllers/nodelifecycle): every --node-monitor-period (5 s) each Node that is not
 * Ready (the controller-manager's node lifecycle controller sets Ready Unknown once its
 * kubelet went quiet) is checked against the cloud: when its instance no longer exists
 * the Node is deleted, with upstream's event `DeletingNode` ("Deleting node X because it
 * does not exist in the cloud provider"); when the instance is shut down it gets the
 * `node.cloudprovider.kubernetes.io/shutdown` NoSchedule taint, which comes off once it
 * is Ready again.
 *
 * Difference from upstream: Nodes that are not this cloud's (a providerID of another
 * scheme, e.g. `hollow://` from a kubelet without --cloud-provider=external, or none at
 * all, as a Node made by hand) are left alone, so a cluster mixing them loses none.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { isNotFound, Resources, type SharedInformer } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import type { InstancesV2 } from '../cloudprovider/cloud.js';

export const SHUTDOWN_TAINT = 'node.cloudprovider.kubernetes.io/shutdown';
export const DELETING_NODE_EVENT = 'DeletingNode';
/** upstream --node-monitor-period */
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5000;

export interface CloudNodeLifecycleOptions {
  nodeMonitorPeriodMs?: number;
}

function readyStatus(node: Node): string {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
}

export class CloudNodeLifecycleController extends QueueController {
  private readonly nodes: SharedInformer<Node>;

  constructor(
    ctx: ControllerContext,
    private readonly instances: InstancesV2,
    private readonly providerIDPrefix: string,
    opts: CloudNodeLifecycleOptions = {},
  ) {
    super('cloud_node_lifecycle', ctx);
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    // a Node turning not-Ready is looked at at once; the period catches instances that vanish later
    this.handle(this.nodes, {
      onUpdate: (old, n) => {
        if (readyStatus(old) !== readyStatus(n)) this.enqueue(n);
      },
    });
    this.every(opts.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS, () => {
      for (const key of this.nodes.store.listKeys()) this.enqueueKey(key);
    });
  }

  /** Looks at the Node named so now (the cloud just said its instance went). */
  check(name: string): void {
    this.enqueueKey(name);
  }

  protected async sync(name: string): Promise<void> {
    const node = this.nodes.store.getByKey(name);
    if (!node || node.metadata?.deletionTimestamp) return;
    if (!node.spec?.providerID?.startsWith(this.providerIDPrefix)) return;
    const shutdownTainted = !!node.spec.taints?.some((t) => t.key === SHUTDOWN_TAINT);
    if (readyStatus(node) === 'True') {
      if (shutdownTainted) await this.setShutdownTaint(node, false);
      return;
    }
    if (!(await this.instances.instanceExists(node))) {
      this.ctx.recorder('cloud-node-lifecycle-controller').eventf(node, undefined, 'Normal', DELETING_NODE_EVENT, 'DeletingNode', `Deleting node ${name} because it does not exist in the cloud provider`);
      this.ctx.log(`cloud-node-lifecycle-controller: deleting node ${name}: its instance ${node.spec.providerID} no longer exists`);
      try {
        await this.ctx.client.delete({ ...Resources.nodes, name }, { preconditions: { uid: node.metadata!.uid! } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      return;
    }
    const shutdown = await this.instances.instanceShutdown(node);
    if (shutdown !== shutdownTainted) await this.setShutdownTaint(node, shutdown);
  }

  private async setShutdownTaint(node: Node, on: boolean): Promise<void> {
    const others = (node.spec?.taints ?? []).filter((t) => t.key !== SHUTDOWN_TAINT);
    const taints = on ? [...others, { key: SHUTDOWN_TAINT, effect: 'NoSchedule' }] : others;
    await this.ctx.client.patch<Node>({ ...Resources.nodes, name: node.metadata!.name! }, 'merge', {
      metadata: { resourceVersion: node.metadata?.resourceVersion },
      spec: { taints: taints.length ? taints : null },
    });
  }
}
