import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freshNats, sharedNats } from '../../test/harness.js';
import { escapeToken, objectKey, parseKey, resourceToken, unescapeToken } from './keys.js';
import { KeyExistsError, KvStore, RevisionMismatchError, StoreTimeoutError, compareVersions, type StoreEntry } from './kvstore.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('store keys', () => {
  it('maps names with dots, colons and unicode reversibly into one token', () => {
    for (const name of ['web-1', 'pod.17a3b', 'a:b', 'ümlaut', 'x=y', 'under_score', 'smile😀.x']) {
      const tok = escapeToken(name);
      assert.match(tok, /^[-_=A-Za-z0-9]+$/);
      assert.equal(unescapeToken(tok), name);
    }
    assert.deepEqual(
      ['web-1', 'pod.17a3b', 'a:b', 'ümlaut', 'x=y', 'smile😀.x'].map(escapeToken),
      ['web-1', 'pod=2E17a3b', 'a=3Ab', '=C3=BCmlaut', 'x=3Dy', 'smile=F0=9F=98=80=2Ex'],
    );
  });

  it('lays out <resource>.<namespace>.<name> with "_" for cluster scope and group-qualified resources', () => {
    assert.equal(objectKey('pods', 'default', 'web.1'), 'pods.default.web=2E1');
    assert.equal(objectKey('nodes', undefined, 'n1'), 'nodes._.n1');
    assert.equal(resourceToken('coordination.k8s.io', 'leases'), 'coordination_k8s_io/leases');
    assert.deepEqual(parseKey('coordination_k8s_io/leases.kube-node-lease.n=2E1'), {
      resource: 'coordination_k8s_io/leases',
      namespace: 'kube-node-lease',
      name: 'n.1',
    });
    assert.deepEqual(parseKey('nodes._.n1'), { resource: 'nodes', namespace: '', name: 'n1' });
  });
});

describe('KvStore (etcd role) on a real nats-server', () => {
  let nc: NatsConnection;
  let store: KvStore;

  before(async () => {
    const nats = await sharedNats();
    nc = await connect({ servers: nats.url });
    store = await KvStore.open(nc, { bucket: 'store-test' });
  });
  after(async () => {
    await nc.close();
  });

  it('creates only when absent and reports AlreadyExists otherwise', async () => {
    const r1 = await store.create('pods.default.a', enc('{"v":1}'));
    assert.ok(r1 > 0);
    await assert.rejects(store.create('pods.default.a', enc('{"v":2}')), KeyExistsError);
    const got = await store.get('pods.default.a');
    assert.equal(Buffer.from(got!.value!).toString(), '{"v":1}');
  });

  it('updates by compare-and-swap on the last revision; a stale revision is a mismatch', async () => {
    const r1 = await store.create('pods.default.b', enc('1'));
    const r2 = await store.update('pods.default.b', enc('2'), r1);
    assert.ok(r2 > r1);
    await assert.rejects(store.update('pods.default.b', enc('3'), r1), RevisionMismatchError);
    assert.equal(Buffer.from((await store.get('pods.default.b'))!.value!).toString(), '2');
  });

  it('revisions are global and monotonic across keys, like etcd', async () => {
    const a = await store.create('configmaps.default.x', enc('x'));
    const b = await store.create('configmaps.other.y', enc('y'));
    assert.equal(b, a + 1);
    assert.equal(await store.currentRevision(), b);
  });

  it('deletes by compare-and-swap and allows re-create after delete', async () => {
    const r1 = await store.create('pods.default.c', enc('c'));
    await assert.rejects(store.delete('pods.default.c', r1 - 1), RevisionMismatchError);
    await store.delete('pods.default.c', r1);
    const e = await store.get('pods.default.c');
    assert.equal(e?.operation, 'DEL');
    const r2 = await store.create('pods.default.c', enc('again'));
    assert.ok(r2 > r1);
  });

  it('watches every write in order with its operation: PUT, DEL and PURGE', async () => {
    const s = await KvStore.open(nc, { bucket: 'store-watch-ops' });
    const seen: StoreEntry[] = [];
    let synced = false;
    const w = await s.watch({ onEntry: (e) => seen.push(e), onSynced: () => (synced = true) });
    try {
      const r1 = await s.create('pods.default.w', enc('one'));
      const r2 = await s.update('pods.default.w', enc('two'), r1);
      await s.delete('pods.default.w', r2);
      await s.create('pods.default.w', enc('three'));
      await s.kv.purge('pods.default.w');
      await waitUntil(() => synced && seen.length >= 5);
      assert.deepEqual(
        seen.map((e) => [e.operation, e.value && Buffer.from(e.value).toString()]),
        [['PUT', 'one'], ['PUT', 'two'], ['DEL', undefined], ['PUT', 'three'], ['PURGE', undefined]],
      );
      assert.deepEqual(seen.map((e) => e.revision), [...seen.map((e) => e.revision)].sort((a, b) => a - b));
    } finally {
      w.stop();
    }
  });

  it('fails a write to a bucket that is gone at once, not at its acknowledgement timeout', async () => {
    const s = await KvStore.open(nc, { bucket: 'store-gone', writeTimeoutMs: 60_000 });
    await s.create('pods.default.g', enc('g'));
    await s.jsm.streams.delete(s.streamName);
    const started = Date.now();
    await assert.rejects(s.create('pods.default.h', enc('h')), /store: create pods\.default\.h: no responders/);
    await assert.rejects(s.update('pods.default.g', enc('g2'), 1), /store: update pods\.default\.g: no responders/);
    assert.ok(Date.now() - started < 5000);
  });

  it('refuses replicated buckets on servers older than 2.9.21', () => {
    assert.equal(compareVersions('2.9.10', '2.9.21'), -1);
    assert.equal(compareVersions('2.10.0', '2.9.21'), 1);
    assert.equal(compareVersions('v2.9.21', '2.9.21'), 0);
  });

  it('says a create or put was not acknowledged in time with a typed error, and the write may still land', async () => {
    // a server of its own, stopped (SIGSTOP) so that it reads nothing until it is continued
    const own = await freshNats();
    const c = await connect({ servers: own.url });
    try {
      const s = await KvStore.open(c, { bucket: 'store-timeout', writeTimeoutMs: 300 });
      own.process.kill('SIGSTOP');
      await stopped(own.process.pid!);
      let results: PromiseSettledResult<number>[];
      try {
        results = await Promise.allSettled([s.create('pods.default.late', enc('late')), s.put('pods.default.put', enc('put'))]);
      } finally {
        own.process.kill('SIGCONT');
      }
      const [created, put] = results.map((r) => (r.status === 'rejected' ? r.reason : r.value));
      assert.ok(created instanceof StoreTimeoutError, `${created}`);
      assert.equal(created.operation, 'create pods.default.late');
      assert.match(created.message, /within 0\.3 s \(the write may or may not have been stored\)/);
      assert.ok(put instanceof StoreTimeoutError, `${put}`);
      assert.equal(put.operation, 'put pods.default.put');
      // the publishes were queued on the socket: once the server runs again they are stored
      assert.equal(await waitForValue(s, 'pods.default.late'), 'late');
      assert.equal(await waitForValue(s, 'pods.default.put'), 'put');
    } finally {
      await c.close();
    }
  });
});

/** SIGSTOP takes effect when the kernel next runs the process: wait until /proc says it is stopped. */
async function stopped(pid: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the state follows the parenthesised command name
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`nats-server ${pid} did not stop within 2 s of SIGSTOP`);
}

async function waitForValue(s: KvStore, key: string): Promise<string | undefined> {
  for (let i = 0; i < 50; i++) {
    const e = await s.get(key);
    if (e?.value) return new TextDecoder().decode(e.value);
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
}
