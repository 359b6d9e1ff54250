import assert from 'node:assert/strict';
import { headers } from '@nats-io/transport-node';
import { freshNats } from '../../test/harness.js';
import { connectNats, partsLength, publishParts } from './connect.js';

// A message larger than one socket read arrives in pieces that the NATS client joins
// (patches/: one buffer of the announced size, not one regrown per piece): each must
// come out whole, byte for byte, whatever its size and wherever the pieces break.
describe('NATS messages across socket reads', function () {
  this.timeout(30_000);

  it('delivers payloads from 1 byte to 900 kB intact and in order', async () => {
    const nats = await freshNats();
    const nc = await connectNats(nats.url, { name: 'connect-test' });
    try {
      const sizes = [1, 100, 65_535, 65_536, 65_537, 200_001, 900_000, 3, 400_000, 131_072];
      const payload = (n: number, seed: number) => {
        const b = new Uint8Array(n);
        for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
        return b;
      };
      const got: Uint8Array[] = [];
      const done = new Promise<void>((resolve) => {
        nc.subscribe('connect-test.big', {
          callback: (_e, m) => {
            got.push(Uint8Array.from(m.data));
            if (got.length === sizes.length * 2) resolve();
          },
        });
      });
      await nc.flush();
      // twice: the second round's messages follow one another within the same reads
      for (let round = 0; round < 2; round++) sizes.forEach((n, k) => nc.publish('connect-test.big', payload(n, k + round)));
      await done;
      for (let round = 0; round < 2; round++)
        sizes.forEach((n, k) => assert.deepEqual(got[round * sizes.length + k], payload(n, k + round), `message ${k} of round ${round} (${n} bytes)`));
    } finally {
      await nc.close();
      await nats.stop();
    }
  });

  // patches/: a message's header block and PUB line are Node Buffers cut from its pool,
  // not a TextEncoder's new ArrayBuffer each, and still UTF-8
  it('sends header blocks and string payloads as UTF-8 bytes from Node\'s Buffer pool', async () => {
    const h = headers();
    h.set('X-Note', 'café ☕ ü');
    assert.ok(Buffer.isBuffer((h as unknown as { encode(): Uint8Array }).encode()), 'a header block is a pooled Buffer');
    const nats = await freshNats();
    const nc = await connectNats(nats.url, { name: 'connect-test' });
    try {
      const got = new Promise<{ note?: string; text: string }>((resolve) => {
        nc.subscribe('connect-test.utf8', { callback: (_e, m) => resolve({ note: m.headers?.get('X-Note'), text: m.string() }) });
      });
      await nc.flush();
      nc.publish('connect-test.utf8', 'ünïcødé ✓', { headers: h });
      assert.deepEqual(await got, { note: 'café ☕ ü', text: 'ünïcødé ✓' });
    } finally {
      await nc.close();
      await nats.stop();
    }
  });

  // patches/: the buffers a turn's publishes queued reach the socket as they are, in one
  // writev, instead of being copied into one new ArrayBuffer first
  it('writes a turn of publishes as one writev of the very buffers given, and they arrive in order', async () => {
    const nats = await freshNats();
    const nc = await connectNats(nats.url, { name: 'connect-test' });
    try {
      const socket = (nc as unknown as { protocol: { transport: { socket: { _writev: (chunks: Array<{ chunk: Uint8Array }>, cb: unknown) => void } } } }).protocol.transport.socket;
      const writes: Uint8Array[][] = [];
      const writev = socket._writev;
      socket._writev = function (this: unknown, chunks, cb) {
        writes.push(chunks.map((c) => c.chunk));
        return writev.call(this, chunks, cb);
      };
      const n = 50;
      const got: string[] = [];
      const done = new Promise<void>((resolve) => {
        nc.subscribe('connect-test.frames', {
          callback: (_e, m) => {
            got.push(`${m.headers?.get('X-Seq') ?? '-'}:${m.string()}`);
            if (got.length === n) resolve();
          },
        });
      });
      await nc.flush();
      writes.length = 0;
      const payloads = Array.from({ length: n }, (_, i) => Buffer.from(`message ${i} ${'x'.repeat(i * 7)}`));
      payloads.forEach((p, i) => {
        if (i % 2) nc.publish('connect-test.frames', p);
        else {
          const h = headers();
          h.set('X-Seq', String(i));
          nc.publish('connect-test.frames', p, { headers: h });
        }
      });
      await done;
      assert.deepEqual(got, payloads.map((p, i) => `${i % 2 ? '-' : String(i)}:${p.toString()}`));
      const first = writes[0] ?? [];
      assert.equal(writes.length, 1, `one writev for the turn's ${n} publishes (writes: ${writes.map((w) => w.length).join(', ')})`);
      // (below the client's pending limit, 32 kB, which flushes at once)
      // each publish queued its PUB line, its header block when it has one, its payload and CRLF
      assert.equal(first.length, n * 3 + n / 2);
      for (const p of payloads) assert.ok(first.some((c) => c.buffer === p.buffer && c.byteOffset === p.byteOffset && c.byteLength === p.byteLength), 'a payload is written from its own bytes, not a copy');
    } finally {
      await nc.close();
      await nats.stop();
    }
  });

  // patches/: a payload given as parts goes out as its parts, and arrives as their bytes in order
  it('publishes a payload given as parts as one message of their bytes, writing the parts themselves', async () => {
    const nats = await freshNats();
    const nc = await connectNats(nats.url, { name: 'connect-test' });
    try {
      const socket = (nc as unknown as { protocol: { transport: { socket: { _writev: (chunks: Array<{ chunk: Uint8Array }>, cb: unknown) => void } } } }).protocol.transport.socket;
      const written: Uint8Array[] = [];
      const writev = socket._writev;
      socket._writev = function (this: unknown, chunks, cb) {
        for (const c of chunks) written.push(c.chunk);
        return writev.call(this, chunks, cb);
      };
      const got: string[] = [];
      const done = new Promise<void>((resolve) => {
        nc.subscribe('connect-test.parts', {
          callback: (_e, m) => {
            got.push(`${m.headers?.get('X-Part') ?? '-'}|${m.string()}`);
            if (got.length === 3) resolve();
          },
        });
      });
      await nc.flush();
      const whole = Buffer.from('{"metadata":{"name":"ü"},"spec":{}}');
      const parts = [whole.subarray(0, 24), Buffer.from(',"resourceVersion":"7"'), whole.subarray(24)];
      publishParts(nc, 'connect-test.parts', parts);
      const h = headers();
      h.set('X-Part', 'yes');
      publishParts(nc, 'connect-test.parts', [Buffer.from('a'), Buffer.alloc(0), Buffer.from('bc')], { headers: h });
      publishParts(nc, 'connect-test.parts', []);
      await done;
      assert.deepEqual(got, ['-|{"metadata":{"name":"ü","resourceVersion":"7"},"spec":{}}', 'yes|abc', '-|']);
      for (const p of parts) assert.ok(written.some((c) => c.buffer === p.buffer && c.byteOffset === p.byteOffset && c.byteLength === p.byteLength), 'a part is written from its own bytes, not a copy');
      assert.equal(partsLength(parts), Buffer.byteLength('{"metadata":{"name":"ü","resourceVersion":"7"},"spec":{}}'));
      assert.throws(() => publishParts(nc, 'connect-test.parts', ['text' as unknown as Uint8Array]), TypeError);
    } finally {
      await nc.close();
      await nats.stop();
    }
  });
});
