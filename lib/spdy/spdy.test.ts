import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import zlib from 'node:zlib';
import {
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
  FrameParser,
  HeaderCompressor,
  HeaderDecompressor,
  SPDY3_DICTIONARY,
  SpdySession,
  type SpdyStream,
} from './mod.js';

async function readAll(s: SpdyStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** a client and a server session over a real loopback TCP connection */
async function pair(): Promise<{ client: SpdySession; server: SpdySession; close(): void }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'connection');
  const c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const [s] = (await accepted) as [net.Socket];
  await once(c, 'connect');
  const client = new SpdySession(c, { isServer: false });
  const server = new SpdySession(s, { isServer: true });
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

describe('SPDY/3.1 framing (lib/spdy)', () => {
  it('builds the SPDY/3 header dictionary byte for byte (1423 bytes, adler32 e3c6a7c2)', () => {
    assert.equal(SPDY3_DICTIONARY.length, 1423);
    const z = zlib.deflateSync(Buffer.from('x'), { dictionary: SPDY3_DICTIONARY });
    assert.equal(z.subarray(2, 6).toString('hex'), 'e3c6a7c2');
  });

  it("reads a SYN_STREAM another implementation compressed (spdy-transport's test vector)", async () => {
    const hex = '800300010000002c0000000100000000000078f9e3c6a7c202e50e507ab442a45a77d7105006b32a4804974d8cfa00000000ffff';
    const [f] = new FrameParser().push(Buffer.from(hex, 'hex'));
    assert.equal(f.type, 'synStream');
    if (f.type !== 'synStream') return;
    assert.equal(f.streamId, 1);
    const h = await new HeaderDecompressor().decompress(f.block);
    assert.equal(h[':method'], 'GET');
    assert.equal(h[':path'], '/');
  });

  it('encodes and decodes every frame type, whole or cut into single bytes', () => {
    const frames = Buffer.concat([
      encodeSynStream(5, Buffer.from('abc'), { fin: true, priority: 3, associatedId: 2 }),
      encodeSynReply(5, Buffer.from('de'), true),
      encodeData(5, Buffer.from('hello'), true),
      encodeData(7, Buffer.alloc(0), false),
      encodeRstStream(5, 5),
      encodeSettings([{ id: 7, value: 65536, flags: 1 }]),
      encodePing(9),
      encodeGoAway(11, 2),
      encodeWindowUpdate(5, 1000),
    ]);
    const whole = new FrameParser().push(frames);
    const p = new FrameParser();
    const bytewise = [...frames].flatMap((b) => p.push(Buffer.from([b])));
    for (const got of [whole, bytewise]) {
      assert.deepEqual(
        got.map((f) => ({ ...f, ...('block' in f ? { block: f.block.toString() } : {}), ...('data' in f ? { data: f.data.toString() } : {}) })),
        [
          { type: 'synStream', streamId: 5, associatedId: 2, priority: 3, flags: 1, block: 'abc' },
          { type: 'synReply', streamId: 5, flags: 1, block: 'de' },
          { type: 'data', streamId: 5, flags: 1, data: 'hello' },
          { type: 'data', streamId: 7, flags: 0, data: '' },
          { type: 'rstStream', streamId: 5, status: 5 },
          { type: 'settings', flags: 0, entries: [{ id: 7, flags: 1, value: 65536 }] },
          { type: 'ping', id: 9 },
          { type: 'goAway', lastStreamId: 11, status: 2 },
          { type: 'windowUpdate', streamId: 5, delta: 1000 },
        ],
      );
    }
  });

  it('refuses another SPDY version and oversized frames', () => {
    const v2 = encodePing(1);
    v2.writeUInt16BE(0x8002, 0);
    assert.throws(() => new FrameParser().push(v2), /version 2/);
    assert.throws(() => new FrameParser(100).push(encodeData(1, Buffer.alloc(200), false)), /exceeds the limit/);
  });

  it('header blocks: names lowercased, repeated values NUL-joined, one zlib context across blocks', async () => {
    const block = encodeHeaderBlock({ StreamType: 'stdout', port: '80' });
    assert.deepEqual(decodeHeaderBlock(block), { streamtype: 'stdout', port: '80' });
    const c = new HeaderCompressor();
    const d = new HeaderDecompressor();
    const sent: Record<string, string>[] = [{ streamtype: 'error' }, { streamtype: 'stdin' }, { streamtype: 'stdout', x: 'a\0b' }];
    const blocks = await Promise.all(sent.map((h) => c.compress(h)));
    // the second block leans on the first: it only inflates in order, in the same context
    assert.ok(blocks[1].length < blocks[0].length);
    for (let i = 0; i < sent.length; i++) assert.deepEqual(await d.decompress(blocks[i]), sent[i]);
    await assert.rejects(new HeaderDecompressor().decompress(blocks[1]), /does not inflate/);
  });

  it('sessions: streams opened by either side, replies, data both ways, half-close, 2 MiB intact, reset, ping', async () => {
    const { client, server, close } = await pair();
    try {
      const got: SpdyStream[] = [];
      server.on('stream', (s: SpdyStream) => {
        got.push(s);
        s.reply({ ok: s.headers.streamtype });
        if (s.headers.streamtype === 'echo') s.pipe(s);
      });
      const echo = await client.openStream({ streamtype: 'echo', port: '8080' });
      assert.deepEqual(echo.replyHeaders, { ok: 'echo' });
      assert.equal(echo.id, 1);
      const big = Buffer.alloc(2 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      const back = readAll(echo);
      echo.end(big);
      assert.ok((await back).equals(big));

      // the server opens one too (even id) and the client answers
      client.on('stream', (s: SpdyStream) => {
        s.reply();
        s.end(`to ${s.headers.name}`);
      });
      const pushed = await server.openStream({ name: 'client' }, { unidirectional: false });
      assert.equal(pushed.id, 2);
      pushed.end();
      assert.equal((await readAll(pushed)).toString(), 'to client');

      // several streams in flight share the header contexts
      const many = await Promise.all([...Array(10)].map((_, i) => client.openStream({ streamtype: `s${i}` })));
      assert.deepEqual(many.map((s) => s.replyHeaders?.ok), [...Array(10)].map((_, i) => `s${i}`));
      for (const s of many) s.end();

      // a reset reaches the other side as the end of its stream, with the status
      const doomed = await client.openStream({ streamtype: 'doomed' });
      const peer = got.find((s) => s.headers.streamtype === 'doomed')!;
      doomed.reset(5);
      // its reader ends (pipes from it end theirs), then it is destroyed
      await readAll(peer);
      assert.equal(peer.resetStatus, 5);
      await new Promise((r) => setImmediate(r));
      assert.ok(peer.destroyed);
      peer.write('ignored after the reset');

      await client.ping();
      await server.ping();
    } finally {
      close();
    }
  });

  it('a stream opened with fin ends our half in the SYN_STREAM: the peer reads its end and no later frame', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const frames: string[] = [];
    const parser = new FrameParser();
    server.on('connection', (sock) => {
      const peer = new SpdySession(sock, { isServer: true });
      sock.on('data', (c: Buffer) => frames.push(...parser.push(c).map((f) => `${f.type}${'flags' in f && f.flags & 1 ? '+fin' : ''}`)));
      peer.on('stream', (s: SpdyStream) => {
        s.reply();
        s.on('end', () => s.end('bye'));
        s.resume();
      });
    });
    const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(sock, 'connect');
    const client = new SpdySession(sock, { isServer: false });
    try {
      const s = await client.openStream({ streamtype: 'stdout' }, { fin: true });
      assert.equal((await readAll(s)).toString(), 'bye');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(frames, ['synStream+fin']);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('a stream the peer refuses rejects openStream; closing the session ends its streams', async () => {
    const { client, server, close } = await pair();
    try {
      server.on('stream', (s: SpdyStream) => (s.headers.streamtype === 'bad' ? s.reset(3) : s.reply()));
      await assert.rejects(client.openStream({ streamtype: 'bad' }), /refused by the peer \(status 3\)/);
      const open = await client.openStream({ streamtype: 'good' });
      const closed = once(client, 'close');
      server.close();
      await closed;
      assert.equal((await readAll(open)).length, 0);
      assert.equal(open.resetStatus, 5);
      await assert.rejects(client.openStream({ streamtype: 'late' }), /closed/);
    } finally {
      close();
    }
  });
});
