/**
 * Pod networking for hollow nodes: each pod gets an address from its node's range, the
 * spec.podCIDR node IPAM gave the Node or, until it has one, a provisional /24 of its
 * own out of 10.0.0.0/8 (by the node's index). A node's InternalIP comes from
 * 172.16.0.0/12, so host and pod addresses never overlap.
 */
import { intToIp, ipToInt, parseCidr, type IPv4Cidr } from '../../lib/net/mod.js';

export const CLUSTER_CIDR = '10.0.0.0/8';
export const NODE_CIDR_MASK = 24;
/** how many /24s the cluster CIDR holds: the most nodes that can get a range */
export const MAX_NODE_CIDRS = 1 << (NODE_CIDR_MASK - 8);

/** The index-th /24 of the cluster CIDR: node 0 gets 10.0.0.0/24, node 257 10.1.1.0/24. */
export function nodePodCidr(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NODE_CIDRS)
    throw new Error(`node index ${index} is outside the ${MAX_NODE_CIDRS} pod ranges of ${CLUSTER_CIDR}`);
  return `${intToIp(ipToInt('10.0.0.0') + index * 256)}/${NODE_CIDR_MASK}`;
}

/** The index-th node's InternalIP in 172.16.0.0/12 (skipping the network address). */
export function nodeInternalIp(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= (1 << 20) - 2) throw new Error(`node index ${index} has no address in 172.16.0.0/12`);
  return intToIp(ipToInt('172.16.0.0') + index + 1);
}

/**
 * Hands out the addresses of one node's pod range: the network address, the gateway
 * (.1) and the broadcast address are never given; a released address is reused last,
 * so a deleted pod's address is not at once another pod's.
 */
export class PodIpAllocator {
  readonly cidr: string;
  private readonly range: IPv4Cidr;
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();
  private next: number;

  constructor(cidr: string) {
    this.cidr = cidr;
    this.range = parseCidr(cidr);
    if (this.range.size < 4) throw new Error(`pod CIDR ${cidr} is too small for any pod`);
    this.next = this.first();
  }

  private first(): number {
    return this.range.base + 2;
  }
  private last(): number {
    return this.range.base + this.range.size - 2;
  }

  /** How many addresses are given out. */
  get allocated(): number {
    return this.used.size;
  }

  /** The address of key, allocating one if it has none; throws when the range is full. */
  allocate(key: string): string {
    const have = this.byKey.get(key);
    if (have !== undefined) return intToIp(have);
    const span = this.last() - this.first() + 1;
    for (let i = 0; i < span; i++) {
      const n = this.next;
      this.next = n >= this.last() ? this.first() : n + 1;
      if (this.used.has(n)) continue;
      this.used.add(n);
      this.byKey.set(key, n);
      return intToIp(n);
    }
    throw new Error(`pod CIDR ${this.cidr} has no free address for ${key} (${this.used.size} in use)`);
  }

  /** Claims a known address for key (a pod found running after a restart); false if it is not free or not in range. */
  reserve(key: string, ip: string): boolean {
    let n: number;
    try {
      n = ipToInt(ip);
    } catch {
      return false;
    }
    if (n < this.first() || n > this.last()) return false;
    const owner = this.byKey.get(key);
    if (owner === n) return true;
    if (this.used.has(n) || owner !== undefined) return false;
    this.used.add(n);
    this.byKey.set(key, n);
    return true;
  }

  release(key: string): void {
    const n = this.byKey.get(key);
    if (n === undefined) return;
    this.byKey.delete(key);
    this.used.delete(n);
  }

  ipOf(key: string): string | undefined {
    const n = this.byKey.get(key);
    return n === undefined ? undefined : intToIp(n);
  }
}
