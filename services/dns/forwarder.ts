/**
 * `--upstream IP:PORT`: names outside the cluster's zones are passed to that resolver
 * over UDP, as CoreDNS's forward plugin does, and its answer is relayed unchanged (but for
 * the ID). Without it nothing is ever forwarded: no packet may leave the machine unless
 * the operator names where it goes.
 */
import dgram from 'node:dgram';

/** how long an upstream answer is waited for (CoreDNS forward's read timeout is 2 s) */
const UPSTREAM_TIMEOUT_MS = 2000;

export function parseUpstream(v: string): { host: string; port: number } {
  const m = /^\[?([0-9a-fA-F:.]+?)\]?(?::(\d+))?$/.exec(v);
  if (!m || (!m[1].includes('.') && !m[1].includes(':'))) throw new Error(`expected IP[:PORT], got "${v}"`);
  const port = m[2] === undefined ? 53 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a port: ${m[2]}`);
  return { host: m[1], port };
}

export class Forwarder {
  private readonly socket: dgram.Socket;
  private readonly inflight = new Map<number, { id0: number; id1: number; resolve: (b: Buffer | undefined) => void; timer: NodeJS.Timeout }>();
  private nextId = Math.floor(Math.random() * 65536);
  requests = 0;
  failures = 0;

  constructor(readonly upstream: { host: string; port: number }) {
    this.socket = dgram.createSocket(upstream.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (msg) => {
      if (msg.length < 12) return;
      const waiting = this.inflight.get(msg.readUInt16BE(0));
      if (!waiting) return;
      this.inflight.delete(msg.readUInt16BE(0));
      clearTimeout(waiting.timer);
      msg[0] = waiting.id0;
      msg[1] = waiting.id1;
      waiting.resolve(msg);
    });
    this.socket.on('error', () => {});
  }

  /** The upstream's response, with the client's ID; undefined when it did not answer in time. */
  forward(query: Buffer): Promise<Buffer | undefined> {
    this.requests++;
    let id = this.nextId;
    while (this.inflight.has(id)) id = (id + 1) & 0xffff;
    this.nextId = (id + 1) & 0xffff;
    const copy = Buffer.from(query);
    copy.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.inflight.delete(id);
        this.failures++;
        resolve(undefined);
      }, UPSTREAM_TIMEOUT_MS);
      this.inflight.set(id, { id0: query[0], id1: query[1], resolve, timer });
      this.socket.send(copy, this.upstream.port, this.upstream.host);
    });
  }

  close(): void {
    for (const w of this.inflight.values()) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.inflight.clear();
    this.socket.close();
  }
}
