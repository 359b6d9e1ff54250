/**
 * From a query's bytes to the response's bytes. The common query (one question, class
 * IN, at most an EDNS OPT record) is read straight off the wire, and its answer comes
 * from a cache of encoded answer sections per (lower-cased name, type), valid until the
 * zone changes: a cached query costs one header parse, one map lookup and one buffer copy.
 * Queries with other records are decoded whole with dns-packet. Responses are encoded with
 * dns-packet (which writes names uncompressed, so an encoded answer section does not
 * depend on where the question ends and can be reused after any question of the same name).
 */
import * as dnsPacket from 'dns-packet';
import type { Answer, RecordType } from 'dns-packet';
import type { Rcode, Resolution, Zone } from './records.js';

/** answers kept at most (random names must not grow the cache without bound) */
const MAX_CACHED = 20_000;
/** the UDP size a response may have without EDNS, and the one we advertise with it */
const CLASSIC_UDP_SIZE = 512;
const EDNS_UDP_SIZE = 1232;

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const TYPE_NAMES: Record<number, RecordType> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 16: 'TXT', 28: 'AAAA', 33: 'SRV' };
export const RCODE_NAMES = Object.fromEntries(Object.entries(RCODES).map(([k, v]) => [v, k])) as Record<number, Rcode>;

const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;

/** What one query came to: the bytes to send back, or that it is to be forwarded. */
export type Answered = { response: Buffer; rcode: number; qtype: number } | { forward: true; qtype: number } | undefined;

interface CachedAnswer {
  flags: number;
  an: number;
  ns: number;
  ar: number;
  /** answer, authority and additional sections, encoded */
  body: Buffer;
  forward: boolean;
}

export interface AnswererOptions {
  zone: Zone;
  /** an upstream resolver exists: out-of-zone names are forwarded (and RA is set) */
  forwarding?: boolean;
}

/** Stats the server's metrics read. */
export interface AnswerStats {
  hits: number;
  misses: number;
}

export class Answerer {
  private readonly zone: Zone;
  private readonly forwarding: boolean;
  private readonly cache = new Map<string, CachedAnswer>();
  private generation = -1;
  readonly stats: AnswerStats = { hits: 0, misses: 0 };

  constructor(opts: AnswererOptions) {
    this.zone = opts.zone;
    this.forwarding = opts.forwarding ?? false;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /**
   * The response to `query`; `udp`: the response must fit the client's UDP size (else it
   * is truncated, TC set, and the client asks again over TCP). undefined: nothing to send
   * (a response, or too short to answer).
   */
  answer(query: Buffer, udp: boolean): Answered {
    if (query.length < 12) return undefined;
    const flags = query.readUInt16BE(2);
    if (flags & QR) return undefined;
    const opcode = (flags >> 11) & 0xf;
    const qd = query.readUInt16BE(4);
    const an = query.readUInt16BE(6);
    const ns = query.readUInt16BE(8);
    const ar = query.readUInt16BE(10);
    if (opcode !== 0) return this.bare(query, 'NOTIMP');
    if (qd !== 1) return this.bare(query, 'FORMERR');
    // the question's name: labels up to the root (a question has no compression pointers)
    let pos = 12;
    for (;;) {
      if (pos >= query.length) return this.bare(query, 'FORMERR');
      const len = query[pos];
      if (len === 0) break;
      if (len > 63) return this.bare(query, 'FORMERR');
      pos += len + 1;
    }
    const nameEnd = pos + 1;
    const qEnd = nameEnd + 4;
    if (qEnd > query.length || nameEnd - 12 > 255) return this.bare(query, 'FORMERR');
    const qtype = query.readUInt16BE(nameEnd);
    // class IN only, as CoreDNS's kubernetes plugin (CHAOS queries such as version.bind are refused)
    if (query.readUInt16BE(nameEnd + 2) !== 1) return this.bare(query, 'REFUSED');
    let edns = false;
    let udpSize = CLASSIC_UDP_SIZE;
    if (ar === 1 && an === 0 && ns === 0 && qEnd + 11 <= query.length && query[qEnd] === 0 && query.readUInt16BE(qEnd + 1) === 41) {
      // the common EDNS query: its OPT record right after the question
      edns = true;
      udpSize = Math.max(CLASSIC_UDP_SIZE, query.readUInt16BE(qEnd + 3));
    } else if (ar || an || ns) {
      // anything else is decoded whole to find an OPT record
      let decoded: dnsPacket.DecodedPacket;
      try {
        decoded = dnsPacket.decode(query);
      } catch {
        return this.bare(query, 'FORMERR');
      }
      const opt = decoded.additionals?.find((x) => x.type === 'OPT') as { udpPayloadSize?: number } | undefined;
      if (opt) {
        edns = true;
        udpSize = Math.max(CLASSIC_UDP_SIZE, opt.udpPayloadSize ?? CLASSIC_UDP_SIZE);
      }
    }

    if (this.generation !== this.zone.generation) {
      this.cache.clear();
      this.generation = this.zone.generation;
    }
    const key = query.toString('latin1', 12, nameEnd).toLowerCase() + String.fromCharCode(qtype);
    let cached = this.cache.get(key);
    if (cached) this.stats.hits++;
    else {
      this.stats.misses++;
      cached = this.compute(wireName(query, 12), qtype);
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      if (!cached.forward) this.cache.set(key, cached);
    }
    if (cached.forward) return { forward: true, qtype };
    return { response: this.assemble(query, qEnd, cached, flags & RD, edns, udp ? udpSize : 65535), rcode: cached.flags & 0xf, qtype };
  }

  private compute(name: string, qtype: number): CachedAnswer {
    const typeName = TYPE_NAMES[qtype] ?? ('OTHER' as RecordType);
    const r: Resolution = this.zone.resolve(name, typeName);
    if (r.outOfZone && this.forwarding) return { flags: 0, an: 0, ns: 0, ar: 0, body: Buffer.alloc(0), forward: true };
    return this.encode(r);
  }

  private encode(r: Resolution): CachedAnswer {
    const packet = dnsPacket.encode({ type: 'response', id: 0, flags: 0, questions: [], answers: r.answers, authorities: r.authorities, additionals: r.additionals as Answer[] });
    const flags = (r.outOfZone && r.rcode === 'REFUSED' ? 0 : AA) | (this.forwarding ? RA : 0) | RCODES[r.rcode];
    return { flags, an: r.answers.length, ns: r.authorities.length, ar: r.additionals.length, body: packet.subarray(12), forward: false };
  }

  /** header + the query's question + the cached sections (+ an OPT record when the query had one) */
  private assemble(query: Buffer, qEnd: number, c: CachedAnswer, rd: number, edns: boolean, limit: number): Buffer {
    const qLen = qEnd - 12;
    const optLen = edns ? 11 : 0;
    const full = 12 + qLen + c.body.length + optLen;
    const truncated = full > limit;
    const out = Buffer.allocUnsafe(truncated ? 12 + qLen + optLen : full);
    out[0] = query[0];
    out[1] = query[1];
    out.writeUInt16BE(QR | c.flags | rd | (truncated ? TC : 0), 2);
    out.writeUInt16BE(1, 4);
    out.writeUInt16BE(truncated ? 0 : c.an, 6);
    out.writeUInt16BE(truncated ? 0 : c.ns, 8);
    out.writeUInt16BE((truncated ? 0 : c.ar) + (edns ? 1 : 0), 10);
    query.copy(out, 12, 12, qEnd);
    let pos = 12 + qLen;
    if (!truncated) pos += c.body.copy(out, pos);
    if (edns) writeOpt(out, pos);
    return out;
  }

  /** A header-only answer with `rcode` (the question echoed when there is one that parses). */
  private bare(query: Buffer, rcode: Rcode): Answered {
    const out = Buffer.alloc(12);
    query.copy(out, 0, 0, 2);
    out.writeUInt16BE(QR | (query.readUInt16BE(2) & (0x7800 | RD)) | RCODES[rcode], 2);
    return { response: out, rcode: RCODES[rcode], qtype: 0 };
  }
}

/** The dotted name at `offset` of a message (labels only; the question has no pointers). */
export function wireName(buf: Buffer, offset: number): string {
  const labels: string[] = [];
  let pos = offset;
  while (pos < buf.length && buf[pos] !== 0) {
    const len = buf[pos];
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += len + 1;
  }
  return labels.join('.');
}

function writeOpt(out: Buffer, pos: number): void {
  out[pos] = 0; // root
  out.writeUInt16BE(41, pos + 1);
  out.writeUInt16BE(EDNS_UDP_SIZE, pos + 3);
  out.writeUInt32BE(0, pos + 5); // extended rcode, version 0, flags
  out.writeUInt16BE(0, pos + 9);
}
