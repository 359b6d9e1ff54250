/**
 * The `local` cloud provider: a cloud simulated on this machine.
 * - Instances (InstancesV2, Zones): the nodes the kubelet processes announce over NATS
 *   (lib/localcloud): the real node, hollow nodes; a stopped process's instances are gone.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { InstanceDirectory } from '../../../../lib/localcloud/mod.js';
import type { Instances, InstancesV2, Interface, LoadBalancer, Routes, Zones } from '../cloud.js';
import { LocalInstances, PROVIDER_NAME } from './instances.js';

export interface LocalCloudOptions {
  nc: NatsConnection;
  /** how often kubelet processes announce their instances (tests shorten it) */
  announceIntervalMs?: number;
  log?: (line: string) => void;
}

export class LocalCloud implements Interface {
  readonly directory: InstanceDirectory;
  private readonly localInstances: LocalInstances;

  constructor(opts: LocalCloudOptions) {
    this.directory = new InstanceDirectory(opts.nc, opts.announceIntervalMs);
    this.localInstances = new LocalInstances(this.directory);
  }

  async initialize(): Promise<void> {}

  loadBalancer(): LoadBalancer | undefined {
    return undefined;
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

  routes(): Routes | undefined {
    return undefined;
  }

  providerName(): string {
    return PROVIDER_NAME;
  }

  hasClusterID(): boolean {
    return true;
  }

  async stop(): Promise<void> {
    this.directory.stop();
  }
}
