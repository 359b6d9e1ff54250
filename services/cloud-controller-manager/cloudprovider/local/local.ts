/**
 * The `local` cloud provider: a cloud simulated on this machine.
 * - Instances (InstancesV2, Zones): the nodes the kubelet processes announce over NATS
 *   (lib/localcloud): the real node, hollow nodes; a stopped process's instances are gone.
 * - LoadBalancer: IPs of --load-balancer-ip-range recorded in a ConfigMap, answering on a
 *   dummy interface of this machine (loadbalancer.ts, lbinterface.ts).
 * - Routes: a node in a network namespace of its own gets a route to its podCIDR on this
 *   machine; the others' are booked (routes.ts).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { InstanceDirectory } from '../../../../lib/localcloud/mod.js';
import type { Instances, InstancesV2, Interface, LoadBalancer, Routes, Zones } from '../cloud.js';
import type { ApiClient } from '../../../../lib/client/mod.js';
import { formatCidr, parseCidr } from '../../../../lib/net/mod.js';
import { LocalInstances, PROVIDER_NAME } from './instances.js';
import { DEFAULT_LOAD_BALANCER_IP_RANGE, LocalLoadBalancer } from './loadbalancer.js';
import { DEFAULT_LB_INTERFACE, LoadBalancerInterface } from './lbinterface.js';
import { LocalRoutes } from './routes.js';

export interface LocalCloudOptions {
  nc: NatsConnection;
  client: ApiClient;
  /** --load-balancer-ip-range (default 10.240.0.0/24) */
  loadBalancerIPRange?: string;
  /** the dummy interface the IPs answer on (default flt-lb0); '' for none */
  loadBalancerInterface?: string;
  /** how often kubelet processes announce their instances (tests shorten it) */
  announceIntervalMs?: number;
  log?: (line: string) => void;
}

export class LocalCloud implements Interface {
  readonly directory: InstanceDirectory;
  private readonly localInstances: LocalInstances;
  private readonly lb: LocalLoadBalancer;
  private readonly localRoutes: LocalRoutes;

  constructor(opts: LocalCloudOptions) {
    const log = opts.log ?? (() => {});
    this.directory = new InstanceDirectory(opts.nc, opts.announceIntervalMs);
    this.localInstances = new LocalInstances(this.directory);
    const range = formatCidr(parseCidr(opts.loadBalancerIPRange ?? DEFAULT_LOAD_BALANCER_IP_RANGE));
    const ifName = opts.loadBalancerInterface ?? DEFAULT_LB_INTERFACE;
    let iface: LoadBalancerInterface | undefined;
    if (ifName && LoadBalancerInterface.canManage()) iface = new LoadBalancerInterface(ifName, range);
    else if (ifName) log(`local cloud: not root, so load balancer IPs are assigned but not added to ${ifName}: they do not answer on this machine`);
    this.lb = new LocalLoadBalancer({ client: opts.client, range, iface, log });
    this.localRoutes = new LocalRoutes(this.directory, LoadBalancerInterface.canManage());
  }

  async initialize(): Promise<void> {}

  loadBalancer(): LoadBalancer {
    return this.lb;
  }

  instances(): Instances | undefined {
    // as upstream providers written for InstancesV2: the by-name interface is not offered
    return undefined;
  }

  instancesV2(): InstancesV2 {
    return this.localInstances;
  }

  zones(): Zones {
    return this.localInstances;
  }

  routes(): Routes {
    return this.localRoutes;
  }

  providerName(): string {
    return PROVIDER_NAME;
  }

  hasClusterID(): boolean {
    return true;
  }

  async stop(): Promise<void> {
    this.directory.stop();
    await this.lb.stop();
    await this.localRoutes.stop();
  }
}
