/**
 * The blocks of one cluster CIDR that node IPAM hands out (upstream
 * pkg/controller/nodeipam/ipam/cidrset): a bitmap of /maskSize blocks, allocated
 * round-robin from the block after the last one given, so a block just released is not
 * at once someone else's.
 */
import { type IPv4Cidr, IPv4Error, cidrWithin, formatCidr, parseCidr, subnet, subnetIndex } from '../../../../lib/net/mod.js';

/** upstream: the node mask may be at most 16 bits longer than the cluster's */
export const MAX_MASK_DIFFERENCE = 16;

export class CidrSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CidrSetError';
  }
}

export class CidrSet {
  readonly cluster: IPv4Cidr;
  /** how many blocks the cluster CIDR holds */
  readonly capacity: number;
  private readonly used: Uint8Array;
  private allocated = 0;
  private next = 0;

  constructor(
    clusterCidr: string,
    readonly maskSize: number,
  ) {
    this.cluster = parseCidr(clusterCidr);
    if (!Number.isInteger(maskSize) || maskSize < this.cluster.prefix || maskSize > 32)
      throw new CidrSetError(`--node-cidr-mask-size ${maskSize} does not fit in the cluster CIDR ${formatCidr(this.cluster)}`);
    if (maskSize - this.cluster.prefix > MAX_MASK_DIFFERENCE)
      throw new CidrSetError(`--node-cidr-mask-size ${maskSize} is more than ${MAX_MASK_DIFFERENCE} bits longer than the cluster CIDR's /${this.cluster.prefix}`);
    this.capacity = 2 ** (maskSize - this.cluster.prefix);
    this.used = new Uint8Array(this.capacity);
  }

  /** blocks handed out */
  get size(): number {
    return this.allocated;
  }

  /** The next free block, or undefined when the cluster CIDR is full. */
  allocateNext(): string | undefined {
    if (this.allocated >= this.capacity) return undefined;
    for (let i = 0; i < this.capacity; i++) {
      const k = (this.next + i) % this.capacity;
      if (this.used[k]) continue;
      this.used[k] = 1;
      this.allocated++;
      this.next = (k + 1) % this.capacity;
      return formatCidr(subnet(this.cluster, this.maskSize, k));
    }
    return undefined;
  }

  /**
   * Marks a block given elsewhere (a Node that already has its podCIDR) as taken. A CIDR
   * outside the cluster CIDR or of another size is a CidrSetError: the node keeps it, but
   * it is none of this set's.
   */
  occupy(cidr: string): void {
    const k = this.indexOf(cidr);
    if (this.used[k]) return;
    this.used[k] = 1;
    this.allocated++;
  }

  /** Gives a block back; one not taken is ignored. */
  release(cidr: string): void {
    const k = this.indexOf(cidr);
    if (!this.used[k]) return;
    this.used[k] = 0;
    this.allocated--;
  }

  has(cidr: string): boolean {
    return this.used[this.indexOf(cidr)] === 1;
  }

  private indexOf(cidr: string): number {
    let c: IPv4Cidr;
    try {
      c = parseCidr(cidr);
    } catch (e) {
      throw new CidrSetError((e as IPv4Error).message);
    }
    if (c.prefix !== this.maskSize || !cidrWithin(c, this.cluster))
      throw new CidrSetError(`CIDR ${cidr} is not a /${this.maskSize} of the cluster CIDR ${formatCidr(this.cluster)}`);
    return subnetIndex(this.cluster, c);
  }
}
