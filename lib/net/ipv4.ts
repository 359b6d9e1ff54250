/**
 * IPv4 addresses and CIDR blocks as unsigned 32-bit numbers: parsing, formatting and the
 * subnet arithmetic node IPAM and pod IP allocation need. Strict: "10.0.0.1/33",
 * "1.2.3", "010.0.0.1" and "256.0.0.0" are errors, as net.ParseCIDR has them.
 */

export class IPv4Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IPv4Error';
  }
}

/** A CIDR block: the network address (host bits cleared) and its prefix length. */
export interface IPv4Cidr {
  /** the network address as an unsigned 32-bit number */
  base: number;
  prefix: number;
  /** how many addresses: 2^(32-prefix) */
  size: number;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new IPv4Error(`not an IPv4 address: "${ip}"`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!OCTET.test(p) || v > 255) throw new IPv4Error(`not an IPv4 address: "${ip}"`);
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** "10.244.3.7/16" → 10.244.0.0/16: host bits are cleared, as net.ParseCIDR's IPNet. */
export function parseCidr(cidr: string): IPv4Cidr {
  const slash = cidr.indexOf('/');
  const pre = cidr.slice(slash + 1);
  if (slash < 0 || !/^(0|[1-9]\d?)$/.test(pre)) throw new IPv4Error(`not an IPv4 CIDR: "${cidr}"`);
  const prefix = Number(pre);
  if (prefix > 32) throw new IPv4Error(`not an IPv4 CIDR: "${cidr}" (prefix over 32)`);
  let ip: number;
  try {
    ip = ipToInt(cidr.slice(0, slash));
  } catch {
    throw new IPv4Error(`not an IPv4 CIDR: "${cidr}"`);
  }
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix, size };
}

export function formatCidr(c: Pick<IPv4Cidr, 'base' | 'prefix'>): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function cidrContains(cidr: string | IPv4Cidr, ip: string | number): boolean {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const n = typeof ip === 'string' ? ipToInt(ip) : ip;
  return n >= c.base && n < c.base + c.size;
}

/** Whether inner lies wholly inside outer. */
export function cidrWithin(inner: IPv4Cidr, outer: IPv4Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

/** The index-th block of /prefix inside cidr (10.244.0.0/16, 24, 3 → 10.244.3.0/24). */
export function subnet(cidr: IPv4Cidr, prefix: number, index: number): IPv4Cidr {
  if (prefix < cidr.prefix || prefix > 32) throw new IPv4Error(`a /${prefix} is not a subnet of ${formatCidr(cidr)}`);
  const size = 2 ** (32 - prefix);
  const count = cidr.size / size;
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new IPv4Error(`${formatCidr(cidr)} has ${count} blocks of /${prefix}, not a block ${index}`);
  return { base: cidr.base + index * size, prefix, size };
}

/** Which block of /inner.prefix inside outer inner is (the inverse of subnet). */
export function subnetIndex(outer: IPv4Cidr, inner: IPv4Cidr): number {
  if (!cidrWithin(inner, outer)) throw new IPv4Error(`${formatCidr(inner)} is not inside ${formatCidr(outer)}`);
  return (inner.base - outer.base) / inner.size;
}
