/**
 * The cloud-provider interface, in the shape of upstream's k8s.io/cloud-provider
 * (cloud.go): a provider offers some of Instances/InstancesV2, LoadBalancer, Routes and
 * Zones, each answering whether it is supported, and the cloud-controller-manager's
 * controllers only talk to a cloud through it. Methods are async (upstream's ctx + error
 * return is a Promise that rejects). Differences from upstream: no Clusters(), no
 * AddSSHKeyToAllInstances (nothing here uses them).
 */
import type { Node, NodeAddress, Service, LoadBalancerStatus } from 'kubernetes-types/core/v1.js';

export interface Interface {
  /** called once before any controller runs (upstream: with a client builder and a stop channel) */
  initialize(): Promise<void>;
  /** upstream: LoadBalancer() (LoadBalancer, bool); undefined = not supported */
  loadBalancer(): LoadBalancer | undefined;
  /** the older by-name instance interface; providers that implement InstancesV2 may leave it out */
  instances(): Instances | undefined;
  instancesV2(): InstancesV2 | undefined;
  zones(): Zones | undefined;
  routes(): Routes | undefined;
  providerName(): string;
  hasClusterID(): boolean;
  /** releases what the provider holds in this process (watches, timers); the cloud's state stays */
  stop(): Promise<void>;
}

/** upstream cloudprovider.InstanceNotFound: the provider knows no such instance */
export class InstanceNotFoundError extends Error {
  constructor(what: string) {
    super(`instance not found: ${what}`);
    this.name = 'InstanceNotFoundError';
  }
}

/** upstream cloudprovider.NotImplemented */
export class NotImplementedError extends Error {
  constructor(what: string) {
    super(`unimplemented: ${what}`);
    this.name = 'NotImplementedError';
  }
}

export interface InstanceMetadata {
  /** e.g. local://node-1 */
  providerID: string;
  instanceType: string;
  nodeAddresses: NodeAddress[];
  zone: string;
  region: string;
  /** labels the provider adds beside the well-known ones */
  additionalLabels?: Record<string, string>;
}

export interface InstancesV2 {
  /** whether the node's instance exists; false deletes the Node */
  instanceExists(node: Node): Promise<boolean>;
  /** whether the node's instance is shut down (it still exists) */
  instanceShutdown(node: Node): Promise<boolean>;
  instanceMetadata(node: Node): Promise<InstanceMetadata>;
}

export interface Instances {
  nodeAddresses(nodeName: string): Promise<NodeAddress[]>;
  nodeAddressesByProviderID(providerID: string): Promise<NodeAddress[]>;
  instanceID(nodeName: string): Promise<string>;
  instanceType(nodeName: string): Promise<string>;
  instanceTypeByProviderID(providerID: string): Promise<string>;
  instanceExistsByProviderID(providerID: string): Promise<boolean>;
  instanceShutdownByProviderID(providerID: string): Promise<boolean>;
}

export interface Zone {
  failureDomain: string;
  region: string;
}

export interface Zones {
  getZoneByProviderID(providerID: string): Promise<Zone>;
  getZoneByNodeName(nodeName: string): Promise<Zone>;
}

export interface LoadBalancer {
  /** the load balancer's status, and whether it exists */
  getLoadBalancer(clusterName: string, service: Service): Promise<{ status?: LoadBalancerStatus; exists: boolean }>;
  getLoadBalancerName(clusterName: string, service: Service): string;
  /** creates or updates the load balancer; answers its status (the Service's status.loadBalancer) */
  ensureLoadBalancer(clusterName: string, service: Service, nodes: Node[]): Promise<LoadBalancerStatus>;
  /** the set of nodes behind it changed */
  updateLoadBalancer(clusterName: string, service: Service, nodes: Node[]): Promise<void>;
  /** deletes it if it exists; resolves only once it is gone */
  ensureLoadBalancerDeleted(clusterName: string, service: Service): Promise<void>;
}

/** A route in the cloud's network: DestinationCIDR (a node's podCIDR) goes to TargetNode. */
export interface Route {
  name: string;
  targetNode: string;
  targetNodeAddresses?: NodeAddress[];
  destinationCIDR: string;
  /** a route whose target is gone (upstream: it is deleted by the route controller) */
  blackhole?: boolean;
}

export interface Routes {
  listRoutes(clusterName: string): Promise<Route[]>;
  createRoute(clusterName: string, nameHint: string, route: Route): Promise<void>;
  deleteRoute(clusterName: string, route: Route): Promise<void>;
}

/** upstream's default --cluster-name */
export const DEFAULT_CLUSTER_NAME = 'kubernetes';

/**
 * upstream cloudprovider.DefaultLoadBalancerName: "a" + the Service's uid without dashes,
 * cut to 32 characters (a name every cloud accepts).
 */
export function defaultLoadBalancerName(service: Service): string {
  return `a${(service.metadata?.uid ?? '').replace(/-/g, '')}`.slice(0, 32);
}
