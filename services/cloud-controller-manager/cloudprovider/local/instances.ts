/**
 * The local cloud's InstancesV2 and Zones: the instances are the nodes the kubelet
 * processes announce (lib/localcloud). Their providerID is `local://NAME`, the region
 * `local`, the zone what the process says (hollow nodes: zone-N) or `local-a`.
 *
 * An instance is never "shut down" here: a machine of this cloud exists exactly as long
 * as the process that carries it, so InstanceShutdown is always false and the shutdown
 * taint never applies.
 */
import type { Node, NodeAddress } from 'kubernetes-types/core/v1.js';
import type { InstanceDirectory, LocalInstance } from '../../../../lib/localcloud/mod.js';
import { InstanceNotFoundError, type InstanceMetadata, type InstancesV2, type Zone, type Zones } from '../cloud.js';

export const PROVIDER_NAME = 'local';
export const PROVIDER_ID_PREFIX = `${PROVIDER_NAME}://`;
export const LOCAL_REGION = 'local';
export const DEFAULT_LOCAL_ZONE = 'local-a';

/** The instance name a node's providerID names ('' when it is not a local one). */
export function instanceNameOf(providerID: string | undefined): string {
  return providerID?.startsWith(PROVIDER_ID_PREFIX) ? providerID.slice(PROVIDER_ID_PREFIX.length) : '';
}

/** Thrown while the directory has not listened long enough to tell a missing instance from a late one. */
export class InstancesNotKnownYetError extends InstanceNotFoundError {
  constructor(what: string) {
    super(`${what} (the local cloud has not heard from every kubelet process yet)`);
    this.name = 'InstancesNotKnownYetError';
  }
}

export class LocalInstances implements InstancesV2, Zones {
  constructor(private readonly directory: InstanceDirectory) {}

  /** The node's instance name: its local providerID's, else its own name. */
  private nameOf(node: Node): string {
    return instanceNameOf(node.spec?.providerID) || (node.metadata?.name ?? '');
  }

  private find(name: string): LocalInstance {
    const i = this.directory.get(name);
    if (i) return i;
    if (!this.directory.ready()) throw new InstancesNotKnownYetError(`${PROVIDER_ID_PREFIX}${name}`);
    throw new InstanceNotFoundError(`${PROVIDER_ID_PREFIX}${name}`);
  }

  async instanceExists(node: Node): Promise<boolean> {
    const name = this.nameOf(node);
    if (this.directory.exists(name)) return true;
    if (!this.directory.ready()) throw new InstancesNotKnownYetError(`${PROVIDER_ID_PREFIX}${name}`);
    return false;
  }

  async instanceShutdown(node: Node): Promise<boolean> {
    this.find(this.nameOf(node));
    return false;
  }

  async instanceMetadata(node: Node): Promise<InstanceMetadata> {
    const i = this.find(this.nameOf(node));
    return {
      providerID: `${PROVIDER_ID_PREFIX}${i.name}`,
      instanceType: i.instanceType,
      nodeAddresses: addresses(i),
      zone: i.zone || DEFAULT_LOCAL_ZONE,
      region: LOCAL_REGION,
    };
  }

  async getZoneByProviderID(providerID: string): Promise<Zone> {
    const name = instanceNameOf(providerID);
    if (!name) throw new InstanceNotFoundError(providerID);
    return zoneOf(this.find(name));
  }

  async getZoneByNodeName(nodeName: string): Promise<Zone> {
    return zoneOf(this.find(nodeName));
  }
}

function addresses(i: LocalInstance): NodeAddress[] {
  return [
    { type: 'InternalIP', address: i.internalIP },
    { type: 'Hostname', address: i.name },
  ];
}

function zoneOf(i: LocalInstance): Zone {
  return { failureDomain: i.zone || DEFAULT_LOCAL_ZONE, region: LOCAL_REGION };
}
