/**
 * The route controller (upstream k8s.io/cloud-provider controllers/route): every Node's
 * podCIDR gets a route in the cloud to that Node, and routes inside --cluster-cidr whose
 * Node is gone (or holds another podCIDR now) are deleted. Each Node's
 * `NetworkUnavailable` condition says how it went, as upstream: False / `RouteCreated`
 * ("RouteController created a route") once its routes exist, True / `NoRouteCreated`
 * ("RouteController failed to create a route") when creating one failed, with a Warning
 * event `FailedToCreateRoute` on the Node. It runs, as upstream, only with
 * --allocate-node-cidrs and --configure-cloud-routes (default true).
 *
 * The reconcile is one pass over every Node and route (upstream's reconcile loop): one
 * queue key, enqueued on Node changes that matter (podCIDRs, providerID, NetworkUnavailable)
 * and every --route-reconciliation-period
 * (10 s), so bursts of Node events collapse into one pass. Conditions leave as strategic
 * merge patches (other conditions untouched), many per request.
 */
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { chunks, forEachLimited, Resources, StatusError, type SharedInformer } from '../../../lib/client/mod.js';
import { QueueController, type ControllerContext } from '../../../lib/controller/mod.js';
import { metaTime } from '../../../lib/api/time.js';
import { cidrWithin, parseCidr } from '../../../lib/net/mod.js';
import type { Route, Routes } from '../cloudprovider/cloud.js';

/** upstream --route-reconciliation-period */
export const DEFAULT_ROUTE_RECONCILIATION_PERIOD_MS = 10_000;
/** upstream maxConcurrentRouteCreations */
const MAX_CONCURRENT_ROUTE_CREATIONS = 200;
const CONDITION_BATCH = 100;
const KEY = 'routes';

export interface RouteControllerOptions {
  clusterName: string;
  /** the cloud's providerID scheme (`local://`): only its Nodes are routed, as the other cloud controllers leave foreign Nodes alone */
  providerIDPrefix: string;
  /** --cluster-cidr: only routes inside it are the controller's to delete */
  clusterCIDR: string;
  reconciliationPeriodMs?: number;
}

function podCIDRs(node: Node): string[] {
  return node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

function networkCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
}

export class RouteController extends QueueController {
  private readonly nodes: SharedInformer<Node>;

  constructor(
    ctx: ControllerContext,
    private readonly routes: Routes,
    private readonly opts: RouteControllerOptions,
  ) {
    super('route', ctx);
    parseCidr(opts.clusterCIDR);
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    this.handle(this.nodes, {
      onAdd: () => this.enqueueKey(KEY),
      // a providerID set by the cloud node controller makes the Node the cloud's to route: without
      // this its route would wait for the next period, while its pods already run unreachable
      onUpdate: (old, n) => {
        if (podCIDRs(old).join() !== podCIDRs(n).join() || old.spec?.providerID !== n.spec?.providerID || networkCondition(old)?.status !== networkCondition(n)?.status) this.enqueueKey(KEY);
      },
      onDelete: () => this.enqueueKey(KEY),
    });
    this.every(opts.reconciliationPeriodMs ?? DEFAULT_ROUTE_RECONCILIATION_PERIOD_MS, () => this.enqueueKey(KEY));
  }

  protected async sync(): Promise<void> {
    const { clusterName } = this.opts;
    const cluster = parseCidr(this.opts.clusterCIDR);
    const nodes = this.nodes.store.list().filter((n) => n.spec?.providerID?.startsWith(this.opts.providerIDPrefix));
    const existing = await this.routes.listRoutes(clusterName);
    const have = new Set(existing.filter((r) => !r.blackhole).map((r) => `${r.targetNode}\u0000${r.destinationCIDR}`));
    const failed = new Set<string>();
    const missing: Array<{ node: Node; route: Route }> = [];
    for (const node of nodes) {
      const name = node.metadata!.name!;
      for (const cidr of podCIDRs(node)) {
        if (!have.has(`${name}\u0000${cidr}`)) missing.push({ node, route: { name: `${clusterName}-${node.metadata?.uid ?? name}`, targetNode: name, destinationCIDR: cidr } });
      }
    }
    await forEachLimited(missing, MAX_CONCURRENT_ROUTE_CREATIONS, async ({ node, route }) => {
      const t0 = Date.now();
      try {
        await this.routes.createRoute(clusterName, route.name, route);
      } catch (e) {
        failed.add(route.targetNode);
        const msg = `Could not create route ${route.name} ${route.destinationCIDR} for node ${route.targetNode} after ${Date.now() - t0}ms: ${(e as Error).message}`;
        this.ctx.recorder('route_controller').eventf(node, undefined, 'Warning', 'FailedToCreateRoute', 'FailedToCreateRoute', msg);
        this.ctx.log(`node-route-controller: ${msg}`);
      }
    });
    // routes of the cluster's range whose node is gone or holds another podCIDR now
    const wanted = new Set(nodes.flatMap((n) => podCIDRs(n).map((c) => `${n.metadata!.name}\u0000${c}`)));
    for (const r of existing) {
      let inside = false;
      try {
        inside = cidrWithin(parseCidr(r.destinationCIDR), cluster);
      } catch {
        // not an IPv4 CIDR: not ours
      }
      if (inside && !wanted.has(`${r.targetNode}\u0000${r.destinationCIDR}`)) {
        await this.routes.deleteRoute(clusterName, r);
        this.ctx.log(`node-route-controller: deleted route ${r.destinationCIDR} of node ${r.targetNode || '(gone)'}`);
      }
    }
    await this.updateConditions(nodes.filter((n) => podCIDRs(n).length), failed);
  }

  /** NetworkUnavailable where it is not what the routes say (upstream updateNetworkingCondition). */
  private async updateConditions(nodes: Node[], failed: Set<string>): Promise<void> {
    const now = metaTime();
    const items = [];
    for (const node of nodes) {
      const created = !failed.has(node.metadata!.name!);
      const want = created ? 'False' : 'True';
      if (networkCondition(node)?.status === want) continue;
      const condition: NodeCondition = created
        ? { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'RouteController created a route', lastTransitionTime: now, lastHeartbeatTime: now }
        : { type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: 'RouteController failed to create a route', lastTransitionTime: now, lastHeartbeatTime: now };
      items.push({ ...Resources.nodes, name: node.metadata!.name!, subresource: 'status', patchType: 'strategic' as const, body: { status: { conditions: [condition] } } });
    }
    for (const part of chunks(items, CONDITION_BATCH)) {
      const results = await this.ctx.client.batchPatch(part);
      const bad = results.find((r) => r instanceof StatusError && r.reason !== 'NotFound');
      if (bad) throw new Error(`updating the NetworkUnavailable condition: ${(bad as Error).message}`);
    }
  }
}
