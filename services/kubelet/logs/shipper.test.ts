import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../../lib/client/mod.js';
import { ensureLogStream, forEachLogLine, LOG_HEADERS, parseLogSubject, type LogLine } from '../../../lib/logging/mod.js';
import { startNatsServer, type NatsServerHandle } from '../../../lib/nats/server.js';
import { freshNats } from '../../../test/harness.js';
import { waitFor } from '../../../test/wait.js';
import { LogShipper } from './shipper.js';

const T0 = Date.parse('2026-12-03T07:00:00Z');
const cri = (i: number, text: string, stream = 'stdout', tag = 'F') => `${new Date(T0 + i).toISOString().replace('Z', '000123Z')} ${stream} ${tag} ${text}\n`;

interface Shipped {
  subject: string;
  labels: Record<string, string>;
  node: string;
  line: LogLine;
}

/** Every line of the stream, in stream order. */
async function shipped(nc: NatsConnection, stream: string, prefix: string): Promise<Shipped[]> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(stream)).state.last_seq;
  const out: Shipped[] = [];
  if (last === 0) return out;
  const c = await jetstream(nc).consumers.get(stream);
  for await (const m of await c.fetch({ max_messages: 100_000, expires: 2000 })) {
    assert.ok(parseLogSubject(prefix, m.subject));
    const labels = JSON.parse(m.headers!.get(LOG_HEADERS.labels)) as Record<string, string>;
    forEachLogLine(m.data, (line) => void out.push({ subject: m.subject, labels, node: m.headers!.get(LOG_HEADERS.node), line }));
    if (m.seq >= last) break;
  }
  return out;
}

describe('kubelet logs/shipper: CRI log files into the log stream', function () {
  this.timeout(60_000);
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let dir: string;
  let n = 0;
  let stream: string;
  let prefix: string;
  let shipper: LogShipper | undefined;
  const live = new Set<string>();

  before(async () => {
    nats = await freshNats();
    nc = await connectNats(nats.url, { name: 'shipper-test' });
  });
  after(async () => {
    await nc?.close();
  });
  beforeEach(async () => {
    n++;
    stream = `SHIPTEST${n}`;
    prefix = `shiptest${n}.logs`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'flt-shipper-'));
    await ensureLogStream(await jetstreamManager(nc), { stream, prefix, maxAgeMs: 3600_000, maxBytes: 64 * 1024 * 1024 });
  });
  afterEach(async () => {
    await shipper?.stop();
    shipper = undefined;
    live.clear();
    rmSync(dir, { recursive: true, force: true });
  });

  const logFile = (pod: string, container = 'app', name = '0.log') => {
    const d = path.join(dir, 'pods', `shop_${pod}_uid-${pod}`, container);
    mkdirSync(d, { recursive: true });
    live.add(`shop/${pod}`);
    return path.join(d, name);
  };
  const startShipper = (conn = nc) => {
    shipper = new LogShipper({
      nc: conn,
      nodeName: 'node-a',
      podLogDir: path.join(dir, 'pods'),
      stateDir: path.join(dir, 'state'),
      stream,
      prefix,
      pollMs: 50,
      readBytes: 4096,
      pods: { labels: (ns, name) => (live.has(`${ns}/${name}`) ? { app: 'web', pod: name } : undefined) },
    });
    shipper.start();
    return shipper;
  };
  const texts = (lines: Shipped[]) => lines.map((l) => l.line.text);
  const waitLines = (count: number) => waitFor(`${count} lines in the stream`, async () => {
    const got = await shipped(nc, stream, prefix);
    return got.length >= count && got;
  }, 20_000);

  it('ships every line once, in order, with labels, node and stream, following rotation', async () => {
    const f = logFile('web-1');
    const g = logFile('web-2', 'side');
    for (let i = 0; i < 200; i++) appendFileSync(f, cri(i, `line ${i}`, i % 10 === 0 ? 'stderr' : 'stdout'));
    appendFileSync(g, cri(0, 'side line'));
    startShipper();
    await waitLines(201);
    // the runtime's rotation: renamed, then a new file at the path
    renameSync(f, `${f}.20261203-070000`);
    appendFileSync(f, cri(300, 'after rotation'));
    const got = await waitLines(202);
    const web1 = got.filter((l) => l.subject === `${prefix}.shop.web-1.app`);
    assert.deepEqual(texts(web1), [...Array.from({ length: 200 }, (_, i) => `line ${i}`), 'after rotation']);
    assert.equal(web1[10]!.line.stream, 'stderr');
    assert.equal(web1[11]!.line.stream, 'stdout');
    assert.deepEqual(web1[0]!.labels, { app: 'web', pod: 'web-1' });
    assert.equal(web1[0]!.node, 'node-a');
    assert.equal(web1[0]!.line.time, T0);
    assert.deepEqual(texts(got.filter((l) => l.subject === `${prefix}.shop.web-2.side`)), ['side line']);
  });

  it('bad input as CRI: long lines split at 16 KiB, invalid UTF-8 and control bytes escaped, non-CRI lines kept', async () => {
    const f = logFile('bad');
    const long = 'x'.repeat(40 * 1024);
    appendFileSync(f, cri(0, long));
    appendFileSync(f, Buffer.concat([Buffer.from(cri(1, '').slice(0, -1)), Buffer.from([0x61, 0xff, 0xfe, 0x00, 0x62, 0xe2, 0x82]), Buffer.from(' \u00e9\u20ac\t\x1b[1m\n')]));
    appendFileSync(f, 'not a CRI line at all\n');
    appendFileSync(f, cri(2, 'last'));
    startShipper();
    const got = await waitLines(6);
    assert.deepEqual(got.map((l) => [l.line.text.length, l.line.partial]), [
      [16384, true],
      [16384, true],
      [8192, false],
      [got[3]!.line.text.length, false],
      ['not a CRI line at all'.length, false],
      [4, false],
    ]);
    assert.equal(got.slice(0, 3).map((l) => l.line.text).join(''), long);
    assert.equal(got[3]!.line.text, 'a\\xff\\xfe\\x00b\\xe2\\x82 \u00e9\u20ac\t\x1b[1m');
    assert.equal(got[4]!.line.text, 'not a CRI line at all');
    assert.equal(got[5]!.line.text, 'last');
  });

  it('a restart of the shipper loses and doubles nothing, with or without its saved positions', async () => {
    const f = logFile('restart');
    for (let i = 0; i < 300; i++) appendFileSync(f, cri(i, `a ${i}`));
    startShipper();
    await waitLines(300);
    await shipper!.stop();
    for (let i = 300; i < 600; i++) appendFileSync(f, cri(i, `a ${i}`));
    startShipper();
    await waitLines(600);
    await shipper!.stop();
    // positions gone: the stream's last batch for the pod says where to go on
    rmSync(path.join(dir, 'state'), { recursive: true });
    for (let i = 600; i < 700; i++) appendFileSync(f, cri(i, `a ${i}`));
    startShipper();
    await waitLines(700);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(texts(await shipped(nc, stream, prefix)), Array.from({ length: 700 }, (_, i) => `a ${i}`));
  });

  it('after a restart, files rotated away meanwhile are skipped and the rest shipped once', async () => {
    const f = logFile('rotated');
    for (let i = 0; i < 10; i++) appendFileSync(f, cri(i, `r ${i}`));
    startShipper();
    await waitLines(10);
    await shipper!.stop();
    // while the shipper is down: two rotations, and the older rotated file removed (max files)
    for (let i = 10; i < 20; i++) appendFileSync(f, cri(i, `r ${i}`));
    renameSync(f, `${f}.20261203-070001`);
    for (let i = 20; i < 30; i++) appendFileSync(f, cri(i, `r ${i}`));
    renameSync(f, `${f}.20261203-070002`);
    for (let i = 30; i < 40; i++) appendFileSync(f, cri(i, `r ${i}`));
    rmSync(`${f}.20261203-070001`);
    startShipper();
    await waitLines(30);
    await new Promise((r) => setTimeout(r, 300));
    const want = [...Array.from({ length: 10 }, (_, i) => `r ${i}`), ...Array.from({ length: 20 }, (_, i) => `r ${i + 20}`)];
    assert.deepEqual(texts(await shipped(nc, stream, prefix)), want);
  });

  it('a restart of nats-server loses and doubles nothing', async () => {
    const own = await startNatsServer({ dataDir: path.join(dir, 'nats') });
    const conn = await connectNats(own.url, { name: 'shipper-test-own' });
    let restarted: NatsServerHandle | undefined;
    try {
      await ensureLogStream(await jetstreamManager(conn), { stream, prefix });
      const f = logFile('natsdown');
      for (let i = 0; i < 100; i++) appendFileSync(f, cri(i, `b ${i}`));
      startShipper(conn);
      const count = async () => (await jetstreamManager(conn)).streams.info(stream).then((s) => s.state.messages);
      await waitFor('first batches', async () => (await count()) > 0, 10_000);
      await own.stop();
      for (let i = 100; i < 400; i++) appendFileSync(f, cri(i, `b ${i}`));
      await new Promise((r) => setTimeout(r, 500));
      restarted = await startNatsServer({ dataDir: own.dataDir, port: own.port });
      const got = await waitFor('400 lines after the restart', async () => {
        const all = await shipped(conn, stream, prefix).catch(() => []);
        return all.length >= 400 && all;
      }, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(texts(got), Array.from({ length: 400 }, (_, i) => `b ${i}`));
      assert.deepEqual(texts(await shipped(conn, stream, prefix)), texts(got));
    } finally {
      await shipper?.stop();
      shipper = undefined;
      await conn.close();
      await restarted?.stop();
      await own.stop();
    }
  });
});
