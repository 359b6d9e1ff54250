/**
 * Pod networking for hollow nodes: each node gets a /24 `spec.podCIDR` out of the
 * cluster CIDR 10.0.0.0/8 (upstream's node IPAM hands out per-node ranges the same way),
 * and each pod an address from its node's range. A node's InternalIP comes from
 * 172.16.0.0/12, so host and pod addresses never overlap.
 */

export const CLUSTER_CIDR = '10.0.0.0/8';
export const NODE_CIDR_MASK = 24;
/** how many /24s the cluster CIDR holds: the most nodes that can get a range */
export const MAX_NODE_CIDRS = 1 << (NODE_CIDR_MASK - 8);

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: "${ip}"`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new Error(`not an IPv4 address: "${ip}"`);
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Cidr {
  /** the network address as an unsigned 32-bit number */
  base: number;
  prefix: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`not an IPv4 CIDR: "${cidr}"`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new Error(`not an IPv4 CIDR: "${cidr}" (prefix over 32)`);
  const size = 2 ** (32 - prefix);
  const ip = ipToInt(m[1]!);
  const base = ip - (ip % size);
  return { base, prefix, size };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + c.size;
}

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
  private readonly range: Cidr;
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
