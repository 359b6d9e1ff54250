/**
 * The DNS transports on one port: a UDP socket and a TCP server (two-byte length before
 * each message, several messages per connection) for each address. One socket per
 * address rather than one on 0.0.0.0: a UDP reply leaves from the address the socket is
 * bound to, and a query the proxy DNATed to the node's address must be answered from that
 * address, or conntrack cannot map the reply back to 10.96.0.10 and the pod drops it.
 */
import dgram from 'node:dgram';
import net from 'node:net';

/** The response to a query, now or later; undefined: send nothing. */
export type QueryHandler = (query: Buffer, udp: boolean) => Buffer | undefined | Promise<Buffer | undefined>;

/** a TCP connection with no complete query for this long is closed (CoreDNS's read timeout) */
const TCP_IDLE_MS = 10_000;
/** a UDP socket's kernel buffers: bursts of queries must not be dropped */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Replies go to the address a query came from, always an IP literal: answered at once
 * instead of through dns.lookup, which defers every send by a tick (a measurable share of
 * a query's cost at tens of thousands a second).
 */
export function literalLookup(address: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

export interface Listeners {
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on UDP and TCP on every address at `port` (0: one free port, the same for all).
 * A port that cannot be had (EADDRINUSE, EACCES) rejects with the socket's error.
 */
export async function listen(addresses: string[], port: number, handle: QueryHandler, onError: (e: Error) => void): Promise<Listeners> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listenOnce(addresses, port, handle, onError);
    } catch (e) {
      // a free UDP port may be taken for TCP (or on another address): try another one
      if (port !== 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw e;
    }
  }
}

async function listenOnce(addresses: string[], port: number, handle: QueryHandler, onError: (e: Error) => void): Promise<Listeners> {
  const udps: dgram.Socket[] = [];
  const tcps: net.Server[] = [];
  const conns = new Set<net.Socket>();
  const close = async () => {
    for (const c of conns) c.destroy();
    await Promise.all([
      ...udps.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      ...tcps.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    ]);
  };
  try {
    for (const address of addresses) {
      const udp = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES, lookup: literalLookup as never });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, address, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      udps.push(udp);
      if (port === 0) port = udp.address().port;
      udp.on('error', onError);
      udp.on('message', (msg, rinfo) => {
        const out = handle(msg, true);
        if (out === undefined) return;
        if (Buffer.isBuffer(out)) udp.send(out, rinfo.port, rinfo.address);
        else out.then((r: Buffer | undefined) => r && udp.send(r, rinfo.port, rinfo.address), onError);
      });

      const tcp = net.createServer((sock) => serveTcp(sock, handle, conns, onError));
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      tcps.push(tcp);
      tcp.on('error', onError);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { port, close };
}

function serveTcp(sock: net.Socket, handle: QueryHandler, conns: Set<net.Socket>, onError: (e: Error) => void): void {
  conns.add(sock);
  sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
  sock.on('close', () => conns.delete(sock));
  sock.on('error', () => sock.destroy());
  let pending = Buffer.alloc(0);
  // answers go out in the order the queries came, even when one waits on the upstream
  let chain: Promise<void> = Promise.resolve();
  const write = (r: Buffer | undefined) => {
    if (!r || sock.destroyed) return;
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(r.length);
    sock.write(Buffer.concat([len, r]));
  };
  sock.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) break;
      const query = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      const out = handle(query, false);
      chain = chain.then(() => out).then(write, (e: Error) => onError(e));
    }
  });
}
