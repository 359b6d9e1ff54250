/**
 * The two ranges Services draw from: cluster IPs (`--service-cluster-ip-range`, default
 * 10.96.0.0/12) and node ports (`--service-node-port-range`, default 30000-32767). Each
 * is a list of offsets with a lower "static" band that dynamic allocation uses last, as
 * upstream's ServiceIPStaticSubrange and ServiceNodePortStaticSubrange do, so user-chosen
 * values there (10.96.0.10 for DNS) rarely collide with allocated ones.
 */
import { formatCidr, intToIp, ipToInt, IPv4Error, parseCidr, type IPv4Cidr } from '../../../lib/net/mod.js';

export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
export const DEFAULT_SERVICE_NODE_PORT_RANGE = '30000-32767';

/** A range of allocatable values as offsets [0, size); the first `band` are the static band. */
export interface OffsetRange {
  size: number;
  band: number;
  /** the value's name in the store ("10.96.0.5", "30080") */
  nameOf(offset: number): string;
}

/** upstream calculateRangeOffset: min(max(min, size/step), max), none below `min` */
function staticBand(size: number, min: number, step: number, max: number): number {
  if (size < min) return 0;
  return Math.min(Math.max(min, Math.floor(size / step)), max);
}

export class ServiceIPRange implements OffsetRange {
  readonly cidr: IPv4Cidr;
  /** usable addresses: the network address and the broadcast address are not handed out */
  readonly size: number;
  readonly band: number;

  constructor(readonly text: string) {
    if (text.includes(',')) throw new IPv4Error(`--service-cluster-ip-range ${text}: dual-stack ranges are not supported; give one IPv4 CIDR`);
    this.cidr = parseCidr(text);
    // upstream: an IPv4 service range may be at most a /12 and must hold some addresses
    if (this.cidr.prefix < 12) throw new IPv4Error(`--service-cluster-ip-range ${text} is too large; for 32-bit addresses, the mask must be >= 12`);
    if (this.cidr.prefix > 30) throw new IPv4Error(`--service-cluster-ip-range ${text} is too small; the mask must be <= 30`);
    this.size = this.cidr.size - 2;
    this.band = staticBand(this.cidr.size, 16, 16, 256);
  }

  toString(): string {
    return formatCidr(this.cidr);
  }

  /** offset 0 is the first usable address (network address + 1) */
  nameOf(offset: number): string {
    return intToIp(this.cidr.base + 1 + offset);
  }

  /** The offset of an address, or undefined when it is outside the usable range. */
  offsetOf(ip: string): number | undefined {
    let n: number;
    try {
      n = ipToInt(ip);
    } catch {
      return undefined;
    }
    const off = n - this.cidr.base - 1;
    return off >= 0 && off < this.size ? off : undefined;
  }

  /** The first address of the range: the `kubernetes` Service's. */
  get first(): string {
    return this.nameOf(0);
  }
}

export class NodePortRange implements OffsetRange {
  readonly base: number;
  readonly size: number;
  readonly band: number;

  constructor(readonly text: string) {
    const m = /^(\d+)(?:-(\d+)|\+(\d+))?$/.exec(text.trim());
    const base = m ? Number(m[1]) : NaN;
    const last = m?.[2] !== undefined ? Number(m[2]) : m?.[3] !== undefined ? base + Number(m[3]) : base;
    if (!m || !(base >= 1) || last > 65535 || last < base) {
      throw new Error(`--service-node-port-range ${text}: not a port range such as 30000-32767`);
    }
    this.base = base;
    this.size = last - base + 1;
    this.band = staticBand(this.size, 16, 32, 128);
  }

  toString(): string {
    return `${this.base}-${this.base + this.size - 1}`;
  }

  nameOf(offset: number): string {
    return String(this.base + offset);
  }

  offsetOf(port: number): number | undefined {
    const off = port - this.base;
    return Number.isInteger(off) && off >= 0 && off < this.size ? off : undefined;
  }
}
