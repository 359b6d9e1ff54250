import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { BadRequestError, NotFoundError, ServiceUnavailableError } from '../api/errors.js';
import { connectNats } from '../client/connect.js';
import { sharedNats } from '../../test/harness.js';
import { waitFor } from '../../test/wait.js';
import { Channel, openStream, serveStreams, StreamResetError, type StreamChannel, type StreamRun, type StreamServer, type StreamSession } from './mod.js';

/** everything a channel delivers until its end */
async function readAll(c: StreamChannel): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of c) parts.push(b as Buffer);
  return Buffer.concat(parts);
}

describe('lib/stream: byte streams over NATS', function () {
  this.timeout(30_000);
  let url: string;
  let serverNc: NatsConnection;
  let clientNc: NatsConnection;
  let n = 0;
  const servers: StreamServer[] = [];
  /** a server of the test's own on a subject of its own; `run` gets each accepted session */
  const serve = async (run: StreamRun) => {
    const subject = `test.stream.${process.pid}.${++n}`;
    servers.push(await serveStreams(serverNc, subject, () => run));
    return subject;
  };

  before(async () => {
    url = (await sharedNats()).url;
    serverNc = await connectNats(url, { name: 'stream-test-server' });
    clientNc = await connectNats(url, { name: 'stream-test-client' });
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await serverNc?.close();
    await clientNc?.close();
  });

  it('delivers bytes in order on several channels both ways (an echo server)', async () => {
    const subject = await serve(async (s: StreamSession) => {
      // stdin comes back on stdout; stderr carries numbered lines meanwhile
      const echo = (async () => {
        for await (const b of s.channel(Channel.STDIN)) s.channel(Channel.STDOUT).write(b);
        s.channel(Channel.STDOUT).end();
      })();
      for (let i = 0; i < 500; i++) s.channel(Channel.STDERR).write(`line ${i}\n`);
      s.channel(Channel.STDERR).end();
      await echo;
    });
    const s = await openStream(clientNc, subject, { kind: 'exec', target: { pod: 'p' } }, { window: 32 * 1024, maxFrameBytes: 4096 });
    const sent = randomBytes(3 * 1024 * 1024);
    const out = readAll(s.channel(Channel.STDOUT));
    const err = readAll(s.channel(Channel.STDERR));
    const stdin = s.channel(Channel.STDIN);
    // odd-sized writes, so frames do not line up with writes
    for (let off = 0; off < sent.length; off += 77_777) stdin.write(sent.subarray(off, off + 77_777));
    stdin.end();
    assert.ok((await out).equals(sent), 'stdout is stdin, byte for byte');
    assert.equal((await err).toString(), Array.from({ length: 500 }, (_, i) => `line ${i}\n`).join(''));
    assert.deepEqual(await s.done, { status: undefined, local: false }, 'the server ended it well');
  });

  it('a slow reader bounds what is in flight to its window; everything arrives once it reads', async () => {
    let server!: StreamChannel;
    const total = 4 * 1024 * 1024;
    const subject = await serve(async (s: StreamSession) => {
      server = s.channel(Channel.STDOUT);
      const chunk = Buffer.alloc(16 * 1024, 7);
      for (let sent = 0; sent < total; sent += chunk.length) {
        if (!server.write(chunk)) await new Promise((r) => server.once('drain', r));
      }
      server.end();
    });
    const window = 64 * 1024;
    const s = await openStream(clientNc, subject, { kind: 'log', target: {} }, { window });
    const reader = s.channel(Channel.STDOUT);
    await waitFor('the server to start sending', () => server?.bytesSent > 0);
    await sleep(500);
    // the reader consumed nothing: the window, plus what its buffer took before it filled
    const inFlight = server.bytesSent;
    assert.ok(inFlight <= window + reader.readableHighWaterMark, `${inFlight} bytes sent to a reader that read nothing (window ${window})`);
    await sleep(300);
    assert.equal(server.bytesSent, inFlight, 'the sender waits for credit');
    assert.equal((await readAll(reader)).length, total);
    assert.equal((await s.done).status, undefined);
  });

  it('a refused open rejects with the server\'s Status; no server is ServiceUnavailable', async () => {
    const subject = `test.stream.${process.pid}.refuse`;
    servers.push(
      await serveStreams(serverNc, subject, (req) => {
        throw new NotFoundError({ resource: 'pods' }, String(req.target.pod));
      }),
    );
    await assert.rejects(openStream(clientNc, subject, { kind: 'log', target: { pod: 'gone' } }), (e: any) => e instanceof NotFoundError && e.message === 'pods "gone" not found');
    await assert.rejects(openStream(clientNc, `test.stream.${process.pid}.nobody`, { kind: 'log', target: {} }), ServiceUnavailableError);
  });

  it('abort: the server\'s error reaches the opener as the END status; the opener\'s abort stops the server\'s work', async () => {
    const subject = await serve(async (s: StreamSession) => {
      s.channel(Channel.STDOUT).write('partial\n');
      throw new BadRequestError('container "c" in pod "p" is waiting to start: ContainerCreating');
    });
    const s = await openStream(clientNc, subject, { kind: 'log', target: {} });
    assert.equal((await readAll(s.channel(Channel.STDOUT))).toString(), 'partial\n', 'what was sent before the abort arrives');
    const end = await s.done;
    assert.equal(end.status?.reason, 'BadRequest');
    assert.equal(end.status?.message, 'container "c" in pod "p" is waiting to start: ContainerCreating');

    let serverSession!: StreamSession;
    const subject2 = await serve(async (ss: StreamSession) => {
      serverSession = ss;
      // a follower: writes until the session ends
      while (!ss.signal.aborted) {
        ss.channel(Channel.STDOUT).write('tick\n');
        await sleep(20);
      }
    });
    const s2 = await openStream(clientNc, subject2, { kind: 'log', target: {} });
    await waitFor('a tick', () => s2.channel(Channel.STDOUT).readableLength > 0);
    s2.abort(new BadRequestError('client went away'));
    const serverEnd = await serverSession.done;
    assert.equal(serverEnd.status?.message, 'client went away');
    assert.equal(serverEnd.local, false);
    assert.ok(serverSession.signal.aborted);
  });

  it('a channel reset reaches the peer\'s channel as a StreamResetError', async () => {
    let got: unknown;
    const subject = await serve(async (s: StreamSession) => {
      try {
        await readAll(s.channel(Channel.STDIN));
      } catch (e) {
        got = e;
      }
    });
    const s = await openStream(clientNc, subject, { kind: 'exec', target: {} });
    s.channel(Channel.STDIN).write('x');
    s.channel(Channel.STDIN).destroy(new Error('terminal closed'));
    await s.done;
    assert.ok(got instanceof StreamResetError, String(got));
    assert.match((got as Error).message, /channel 0 reset by the peer: terminal closed/);
  });

  it('a dead peer is noticed after the idle timeout (Timeout), both ways', async () => {
    let serverSession!: StreamSession;
    const subject = await serve(async (s: StreamSession) => {
      serverSession = s;
      await new Promise((r) => s.signal.addEventListener('abort', r));
    });
    // the opener's process "dies": its connection goes without a word
    const doomed = await connectNats(url, { name: 'stream-test-doomed' });
    await openStream(doomed, subject, { kind: 'attach', target: {} }, { heartbeatMs: 100, idleTimeoutMs: 500 });
    await waitFor('the server session', () => serverSession);
    await sleep(300);
    assert.equal(serverSession.ended, false, 'heartbeats keep an idle session open');
    await doomed.close();
    const end = await serverSession.done;
    assert.equal(end.status?.reason, 'Timeout');
    assert.match(end.status!.message!, /nothing heard from the peer for 500 ms/);

    // and the server dies under the opener
    const serverNc2 = await connectNats(url, { name: 'stream-test-doomed-server' });
    const subject2 = `test.stream.${process.pid}.dies`;
    await serveStreams(serverNc2, subject2, () => (s) => new Promise<void>((r) => s.signal.addEventListener('abort', () => r())));
    const s = await openStream(clientNc, subject2, { kind: 'attach', target: {} }, { heartbeatMs: 100, idleTimeoutMs: 500 });
    await serverNc2.close();
    const end2 = await s.done;
    assert.equal(end2.status?.reason, 'Timeout');
    assert.equal(end2.local, true);
  });
});
