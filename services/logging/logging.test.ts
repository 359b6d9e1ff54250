import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import WebSocket from 'ws';
import { connectNats } from '../../lib/client/mod.js';
import { ensureLogStream, formatTimestamp, LOG_HEADERS, LOG_QUERY_SUBJECT, LogBatch, logSubject } from '../../lib/logging/mod.js';
import { startNatsServer } from '../../lib/nats/server.js';
import { Channel, openStream } from '../../lib/stream/mod.js';
import { sharedNats } from '../../test/harness.js';
import { spawnFlotilla, stopChild } from '../../test/cluster.js';
import { waitFor } from '../../test/wait.js';
import { parseLogQL } from './logql.js';
import { startLogging, type RunningLogging } from './server.js';

const NOW = Date.now();
/** lines at NOW - 60 s + i seconds */
const at = (i: number) => NOW - 60_000 + i * 1000;

interface Pod {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  labels: Record<string, string>;
}

const web1: Pod = { namespace: 'shop', pod: 'web-1', container: 'app', node: 'n1', labels: { app: 'web', 'app.kubernetes.io/part-of': 'store' } };
const web2: Pod = { namespace: 'shop', pod: 'web-2', container: 'app', node: 'n2', labels: { app: 'web' } };
const db: Pod = { namespace: 'shop', pod: 'db-0', container: 'db', node: 'n1', labels: { app: 'db' } };
const other: Pod = { namespace: 'other', pod: 'web-1', container: 'app', node: 'n1', labels: { app: 'web' } };

describe('services/logging: queries over the log stream (NATS, Loki HTTP, flotilla logs)', function () {
  this.timeout(60_000);
  let nc: NatsConnection;
  let natsUrl: string;
  let logging: RunningLogging;
  const stream = 'LOGTEST';
  const prefix = 'logtest.logs';
  let msgs = 0;

  /** Publishes lines as a shipper does: one batch, `[time, text, stderr?]` each. */
  const ship = async (p: Pod, lines: Array<[number, string, boolean?]>) => {
    const b = new LogBatch();
    for (const [t, text, err] of lines) b.add(formatTimestamp(t, 123), t, err ? 'stderr' : 'stdout', false, Buffer.from(text));
    const h = headers();
    h.set(LOG_HEADERS.node, p.node);
    h.set(LOG_HEADERS.podUid, `uid-${p.pod}`);
    h.set(LOG_HEADERS.labels, JSON.stringify(p.labels));
    h.set(LOG_HEADERS.lines, String(b.lines));
    h.set(LOG_HEADERS.first, String(b.first));
    h.set(LOG_HEADERS.last, String(b.last));
    await jetstream(nc).publish(logSubject(prefix, p), b.body(), { headers: h, msgID: `test-${++msgs}` });
  };
  const start = () => startLogging({ natsUrl, stream, prefix, port: 0, log: () => undefined });
  const loki = async (pathAndQuery: string): Promise<{ status: number; body: any }> => {
    const res = await fetch(logging.url + pathAndQuery);
    return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : await res.text() };
  };
  const range = (q: string, extra = '') => loki(`/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${NOW - 3600_000}000000&end=${Date.now() + 1000}000000${extra}`);

  before(async () => {
    const nats = await sharedNats();
    natsUrl = nats.url;
    nc = await connectNats(natsUrl, { name: 'logging-test' });
    logging = await start();
    await ship(web1, [[at(0), 'GET / 200'], [at(2), 'GET /cart 500 error'], [at(4), 'panic: nil map', true]]);
    await ship(web2, [[at(1), 'GET / 200'], [at(3), 'GET /pay 502 error']]);
    await ship(db, [[at(0), 'ready to accept connections'], [at(5), 'error: deadlock detected']]);
    await ship(other, [[at(0), 'another namespace error']]);
  });
  after(async () => {
    await logging?.stop();
    await nc?.close();
  });

  it('parses LogQL selectors and line filters, and refuses the rest as Loki does', () => {
    const q = parseLogQL('{namespace="shop", app=~"w.+", pod!="x",container!~`side.*`} |= "error" != `cart` |~ "5\\\\d\\\\d" !~ "(?i)PAY"');
    assert.deepEqual(q.matchers.map((m) => [m.name, m.op, m.value]), [['namespace', '=', 'shop'], ['app', '=~', 'w.+'], ['pod', '!=', 'x'], ['container', '!~', 'side.*']]);
    assert.deepEqual(q.filters.map((f) => [f.op, f.value]), [['|=', 'error'], ['!=', 'cart'], ['|~', '5\\d\\d'], ['!~', '(?i)PAY']]);
    assert.throws(() => parseLogQL('{}'), /parse error at line 1, col 2/);
    assert.throws(() => parseLogQL('{app=~".*"}'), /at least one regexp or equality matcher/);
    assert.throws(() => parseLogQL('{app="web"} | json'), /only line filters/);
    assert.throws(() => parseLogQL('rate({app="web"}[1m])'), /stream selector/);
  });

  it('query_range: Loki\'s streams, selected by labels, filtered, newest first, with limit and time range', async () => {
    const r = await range('{namespace="shop", app="web"} |= "error"');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'success');
    assert.equal(r.body.data.resultType, 'streams');
    const result = r.body.data.result as Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
    assert.deepEqual(result.map((s) => [s.stream.pod, s.values.map((v) => v[1])]), [['web-2', ['GET /pay 502 error']], ['web-1', ['GET /cart 500 error']]]);
    assert.deepEqual(result[1]!.stream, { app: 'web', app_kubernetes_io_part_of: 'store', namespace: 'shop', pod: 'web-1', container: 'app', node: 'n1', stream: 'stdout' });
    assert.equal(result[1]!.values[0]![0], `${Math.floor(at(2) / 1000)}${String(at(2) % 1000).padStart(3, '0')}000123`);

    const all = async (q: string, extra = '') => ((await range(q, extra)).body.data.result as Array<{ values: Array<[string, string]> }>).flatMap((s) => s.values).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((v) => v[1]);
    assert.deepEqual(await all('{app="web", namespace="shop"}', '&limit=2'), ['GET /pay 502 error', 'panic: nil map']);
    assert.deepEqual(await all('{app="web", namespace="shop"}', '&limit=2&direction=forward'), ['GET / 200', 'GET / 200']);
    assert.deepEqual(await all('{namespace="shop"} != "GET" |~ "e.r+or" !~ "dead"'), []);
    assert.deepEqual(await all('{namespace="shop"} |~ "dead|panic"'), ['panic: nil map', 'error: deadlock detected']);
    assert.deepEqual(await all('{namespace=~"shop|other", stream="stderr"}'), ['panic: nil map']);
    assert.deepEqual((await all('{node="n1", pod="web-1"}')).sort(), ['GET / 200', 'GET /cart 500 error', 'another namespace error', 'panic: nil map']);
    assert.deepEqual(await all('{app_kubernetes_io_part_of="store"}'), ['GET / 200', 'GET /cart 500 error', 'panic: nil map']);
    // the time range: [at(1), at(3))
    const t = (ms: number) => `${ms}000000`;
    const inRange = (await loki(`/loki/api/v1/query_range?query=${encodeURIComponent('{namespace="shop"}')}&start=${t(at(1))}&end=${t(at(3))}&direction=forward`)).body.data.result as Array<{ values: Array<[string, string]> }>;
    assert.deepEqual(inRange.flatMap((s) => s.values.map((v) => v[1])).sort(), ['GET / 200', 'GET /cart 500 error']);

    const bad = await range('{namespace="shop"');
    assert.equal(bad.status, 400);
    assert.match(bad.body as string, /parse error/);
    assert.equal((await range('{namespace="shop"}', '&limit=0')).status, 400);
  });

  it('labels and label values (Loki\'s /labels, /label/<name>/values)', async () => {
    const labels = await loki(`/loki/api/v1/labels?start=${NOW - 3600_000}000000`);
    assert.deepEqual(labels.body, { status: 'success', data: ['app', 'app_kubernetes_io_part_of', 'container', 'namespace', 'node', 'pod', 'stream'] });
    assert.deepEqual((await loki('/loki/api/v1/label/pod/values')).body.data, ['db-0', 'web-1', 'web-2']);
    assert.deepEqual((await loki('/loki/api/v1/label/namespace/values')).body.data, ['other', 'shop']);
    const series = await loki(`/loki/api/v1/series?match[]=${encodeURIComponent('{app="web", namespace="shop"}')}&match[]=${encodeURIComponent('{pod="db-0"}')}`);
    assert.deepEqual(series.body.data.map((s: Record<string, string>) => s.pod).sort(), ['db-0', 'web-1', 'web-2']);
    assert.equal((await loki('/loki/api/v1/series')).status, 400);
    assert.equal((await loki('/ready')).status, 200);
    assert.match((await loki('/metrics')).body as string, /flotilla_logging_indexed_streams 4/);
  });

  it('over NATS: a query session, and follow picks up a pod that starts later', async () => {
    const s = await openStream(nc, LOG_QUERY_SUBJECT, { kind: 'log', target: {}, options: { query: '{app="web"} |= "error"', follow: true, limit: 10 } });
    const seen: string[] = [];
    const labelsById = new Map<number, Record<string, string>>();
    const reading = (async () => {
      let rest = '';
      for await (const chunk of s.channel(Channel.STDOUT)) {
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop()!;
        for (const p of parts) {
          const r = JSON.parse(p);
          if (r.labels) labelsById.set(r.stream, r.labels);
          else seen.push(`${labelsById.get(r.s)!.namespace}/${labelsById.get(r.s)!.pod}: ${r.line}`);
        }
      }
    })();
    await waitFor('the newest lines first', () => seen.length >= 3);
    assert.deepEqual(seen, ['other/web-1: another namespace error', 'shop/web-1: GET /cart 500 error', 'shop/web-2: GET /pay 502 error']);
    const web3: Pod = { namespace: 'shop', pod: 'web-3', container: 'app', node: 'n2', labels: { app: 'web' } };
    await ship(web3, [[Date.now(), 'new pod ok'], [Date.now(), 'new pod error']]);
    await ship(db, [[Date.now(), 'db error, not web']]);
    await waitFor('the new pod\'s line', () => seen.length >= 4);
    assert.equal(seen[3], 'shop/web-3: new pod error');
    await s.close();
    await reading.catch(() => undefined);
    await assert.rejects(openStream(nc, LOG_QUERY_SUBJECT, { kind: 'log', target: {}, options: { query: '{app=' } }), (e: any) => e.code === 400 && /parse error/.test(e.message));
  });

  it('tail over WebSocket (Loki\'s /loki/api/v1/tail)', async () => {
    const ws = new WebSocket(`${logging.url.replace('http', 'ws')}/loki/api/v1/tail?query=${encodeURIComponent('{pod="tailed"}')}`);
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    await new Promise((r) => setTimeout(r, 200));
    await ship({ namespace: 'shop', pod: 'tailed', container: 'app', node: 'n1', labels: {} }, [[Date.now(), 'tailed line']]);
    await waitFor('a tail frame', () => frames.length >= 1);
    assert.deepEqual(frames[0].streams.map((s: any) => [s.stream.pod, s.values.map((v: any) => v[1])]), [['tailed', ['tailed line']]]);
    assert.ok('dropped_entries' in frames[0]);
    ws.close();
  });

  it('flotilla logs prints a query oldest first, and follows', async () => {
    const q = spawnFlotilla(['logs', '{namespace="shop", app="web"} |= "error"', '--nats', natsUrl, '-o', 'raw']);
    assert.equal(await q.exited, 0, q.output());
    assert.deepEqual(q.output().trim().split('\n'), ['GET /cart 500 error', 'GET /pay 502 error', 'new pod error']);
    const d = spawnFlotilla(['logs', '{pod="web-2"}', '--nats', natsUrl, '--limit', '1']);
    assert.equal(await d.exited, 0, d.output());
    assert.match(d.output(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z shop\/web-2\/app GET \/pay 502 error\n$/);
    const f = spawnFlotilla(['logs', '{pod="followed"}', '--nats', natsUrl, '-f', '-o', 'raw']);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      await ship({ namespace: 'shop', pod: 'followed', container: 'app', node: 'n1', labels: {} }, [[Date.now(), 'first'], [Date.now(), 'second']]);
      await waitFor('followed lines', () => f.output().includes('second'), 15_000);
      assert.equal(f.output(), 'first\nsecond\n');
    } finally {
      await stopChild(f);
    }
    const bad = spawnFlotilla(['logs', '{pod=', '--nats', natsUrl]);
    assert.equal(await bad.exited, 1);
    assert.match(bad.output(), /parse error/);
  });

  it('a restart of the logging service finds everything again; retention drops the oldest', async () => {
    await logging.stop();
    await ship(web1, [[Date.now(), 'shipped while the logging service was down']]);
    logging = await start();
    const r = await range('{pod="web-1", namespace="shop"} |= "down"');
    assert.deepEqual(r.body.data.result[0].values.map((v: [string, string]) => v[1]), ['shipped while the logging service was down']);
    // a byte limit: the oldest batches go, the query answers from what is left
    await ensureLogStream(await jetstreamManager(nc), { stream, prefix, maxBytes: 4096 });
    for (let i = 0; i < 20; i++) await ship(db, [[Date.now(), `filler ${i} ${'x'.repeat(300)}`]]);
    const left = await range('{pod="db-0"} |= "filler"', '&limit=100');
    const got = left.body.data.result.flatMap((s: any) => s.values.map((v: [string, string]) => v[1].split(' ')[1]));
    assert.ok(got.length > 0 && got.length < 20, `some fillers dropped: ${got.length}`);
    assert.equal(got[0], '19');
    assert.deepEqual((await range('{pod="web-2"}')).body.data.result, []);
  });
});

describe('services/logging: a restart of nats-server', function () {
  this.timeout(60_000);

  it('the index and queries go on with what is shipped after it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flt-logging-nats-'));
    let nats = await startNatsServer({ dataDir: dir });
    const prefix = 'natsrestart.logs';
    const stream = 'NATSRESTART';
    const logging = await startLogging({ natsUrl: nats.url, stream, prefix, port: 0, log: () => undefined });
    const nc = await connectNats(nats.url, { name: 'logging-restart-test' });
    try {
      const ship = async (text: string) => {
        const b = new LogBatch();
        b.add(formatTimestamp(Date.now()), Date.now(), 'stdout', false, Buffer.from(text));
        const h = headers();
        h.set(LOG_HEADERS.node, 'n1');
        h.set(LOG_HEADERS.labels, '{}');
        h.set(LOG_HEADERS.first, String(b.first));
        h.set(LOG_HEADERS.last, String(b.last));
        h.set(LOG_HEADERS.lines, '1');
        await jetstream(nc).publish(logSubject(prefix, { namespace: 'ns', pod: 'p', container: 'c' }), b.body(), { headers: h, msgID: text });
      };
      const lines = async () => (await logging.querier.query({ query: '{pod="p"}', startMs: Date.now() - 60_000, endMs: Date.now() + 1000, limit: 100, direction: 'forward' })).entries.map((e) => e.line);
      await ship('before');
      assert.deepEqual(await lines(), ['before']);
      await nats.stop();
      nats = await startNatsServer({ dataDir: dir, port: nats.port });
      await waitFor('shipping again', () => ship('after').then(() => true, () => false), 20_000);
      assert.deepEqual(await waitFor('both lines', async () => {
        const l = await lines();
        return l.length === 2 && l;
      }, 20_000), ['before', 'after']);
    } finally {
      await nc.close();
      await logging.stop();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
