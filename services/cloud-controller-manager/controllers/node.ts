/**
 * The cloud node controller (upstream k8s.io/cloud-provider controllers/node): a Node
 * registered by a kubelet started with `--cloud-provider=external` carries the taint
 * `node.cloudprovider.kubernetes.io/uninitialized`, and no pod lands on it until this
 * controller has asked the cloud for its instance's metadata and written it:
 * spec.providerID, status.addresses, the instance-type, zone and region labels (stable and
 * beta names, as upstream), then the taint comes off. Initialized Nodes of this cloud get
 * their addresses kept to what the cloud says whenever the Node changes.
 *
 * A Node whose instance the cloud does not know (yet) keeps its taint and is looked at
 * again every second (upstream retries it through the rate-limited queue).
 */
import type { Node, NodeAddress, Taint } from 'kubernetes-types/core/v1.js';
import { isNotFound, Resources, type SharedInformer } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { InstanceNotFoundError, type InstanceMetadata, type InstancesV2 } from '../cloudprovider/cloud.js';

export const UNINITIALIZED_TAINT = 'node.cloudprovider.kubernetes.io/uninitialized';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_INSTANCE_TYPE_BETA = 'beta.kubernetes.io/instance-type';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_ZONE_BETA = 'failure-domain.beta.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_REGION_BETA = 'failure-domain.beta.kubernetes.io/region';

export function hasUninitializedTaint(node: Node): boolean {
  return !!node.spec?.taints?.some((t) => t.key === UNINITIALIZED_TAINT);
}

/** The labels a cloud's metadata gives a Node. */
export function cloudLabels(meta: InstanceMetadata): Record<string, string> {
  return {
    ...(meta.instanceType && { [LABEL_INSTANCE_TYPE]: meta.instanceType, [LABEL_INSTANCE_TYPE_BETA]: meta.instanceType }),
    ...(meta.zone && { [LABEL_ZONE]: meta.zone, [LABEL_ZONE_BETA]: meta.zone }),
    ...(meta.region && { [LABEL_REGION]: meta.region, [LABEL_REGION_BETA]: meta.region }),
    ...meta.additionalLabels,
  };
}

function sameAddresses(a: NodeAddress[] | undefined, b: NodeAddress[]): boolean {
  return (a?.length ?? 0) === b.length && b.every((x, i) => a![i]?.type === x.type && a![i]?.address === x.address);
}

/** how soon a Node whose instance the cloud does not know is looked at again */
const INSTANCE_RETRY_MS = 1000;

export class CloudNodeController extends QueueController {
  private readonly nodes: SharedInformer<Node>;
  /** Nodes told to the log as waiting for their instance */
  private readonly waiting = new Set<string>();

  constructor(
    ctx: ControllerContext,
    private readonly instances: InstancesV2,
    /** the provider's providerID scheme, e.g. `local://`: initialized Nodes of this cloud have their addresses kept current */
    private readonly providerIDPrefix: string,
  ) {
    super('cloud_node', ctx);
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    this.handle(this.nodes, {
      onAdd: (n) => this.enqueue(n),
      onUpdate: (_old, n) => this.enqueue(n),
    });
  }

  protected async sync(name: string): Promise<void> {
    const node = this.nodes.store.getByKey(name);
    if (!node || node.metadata?.deletionTimestamp) {
      this.waiting.delete(name);
      return;
    }
    if (hasUninitializedTaint(node)) return this.initialize(node);
    if (node.spec?.providerID?.startsWith(this.providerIDPrefix)) await this.updateAddresses(node);
  }

  private async initialize(node: Node): Promise<void> {
    const name = node.metadata!.name!;
    let meta: InstanceMetadata;
    try {
      meta = await this.instances.instanceMetadata(node);
    } catch (e) {
      if (!(e instanceof InstanceNotFoundError)) throw e;
      // a machine the cloud has not heard of (yet): the Node keeps its taint; told once, looked at again soon
      if (!this.waiting.has(name)) this.ctx.log(`cloud-node-controller: node ${name} waits for its instance: ${e.message}`);
      this.waiting.add(name);
      this.enqueueAfter(node, INSTANCE_RETRY_MS);
      return;
    }
    this.waiting.delete(name);
    let resourceVersion = node.metadata?.resourceVersion;
    if (!sameAddresses(node.status?.addresses, meta.nodeAddresses)) {
      const updated = await this.ctx.client.patch<Node>({ ...Resources.nodes, name, subresource: 'status' }, 'merge', { status: { addresses: meta.nodeAddresses } });
      resourceVersion = updated.metadata?.resourceVersion;
    }
    const taints: Taint[] = (node.spec?.taints ?? []).filter((t) => t.key !== UNINITIALIZED_TAINT);
    // the resourceVersion makes the taint list a compare-and-swap: a taint added meanwhile is not lost
    await this.ctx.client.patch<Node>({ ...Resources.nodes, name }, 'merge', {
      metadata: { resourceVersion, labels: cloudLabels(meta) },
      spec: { ...(!node.spec?.providerID && { providerID: meta.providerID }), taints: taints.length ? taints : null },
    });
    this.ctx.log(`cloud-node-controller: initialized node ${name} (${meta.providerID}, ${meta.instanceType}, ${meta.region}/${meta.zone})`);
  }

  private async updateAddresses(node: Node): Promise<void> {
    let meta: InstanceMetadata;
    try {
      meta = await this.instances.instanceMetadata(node);
    } catch {
      // a vanished instance is the lifecycle controller's business
      return;
    }
    if (sameAddresses(node.status?.addresses, meta.nodeAddresses)) return;
    try {
      await this.ctx.client.patch<Node>({ ...Resources.nodes, name: node.metadata!.name!, subresource: 'status' }, 'merge', { status: { addresses: meta.nodeAddresses } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
