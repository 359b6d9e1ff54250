import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { KvStore, type StoreEntry } from '../lib/store/kvstore.js';
import type { NatsServerHandle } from '../lib/nats/server.js';
import { startApiServer, type ApiServer } from '../services/apiserver/server.js';
import { call } from '../test/apiserver.js';
import { freshNats } from '../test/harness.js';
import { CLI_MAIN } from './datafolder.js';
import { PAD_KEY, backupStore, readBackup, restoreStore } from './backup.js';

const BUCKET = 'backuptest';
const enc = (s: string) => new TextEncoder().encode(s);

async function dumpAll(store: KvStore): Promise<Array<{ key: string; revision: number; value: Buffer }>> {
  const entries: StoreEntry[] = await store.dump();
  return entries.map((e) => ({ key: e.key, revision: e.revision, value: Buffer.from(e.value!) }));
}

describe('flotilla backup and restore', function () {
  this.timeout(120_000);
  let source: NatsServerHandle;
  let target: NatsServerHandle;
  let ncSource: NatsConnection;
  let ncTarget: NatsConnection;
  let sourceStore: KvStore;
  let api: ApiServer;
  let dir: string;
  let deletedKey: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-backup-test-'));
    [source, target] = await Promise.all([freshNats(), freshNats()]);
    ncSource = await connect({ servers: source.url });
    ncTarget = await connect({ servers: target.url });
    api = await startApiServer({ natsUrl: source.url, bucket: BUCKET, httpPort: 0 });
    sourceStore = await KvStore.open(ncSource, { bucket: BUCKET });

    // Objects through the apiserver: creates, an update and a delete leave revision gaps.
    for (let i = 0; i < 20; i++) {
      const r = await call(api.httpUrl, 'POST', '/api/v1/namespaces/default/configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i}`, labels: { n: String(i) } },
        data: { greeting: `héllo ✓ ${i}` },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    assert.equal((await call(api.httpUrl, 'DELETE', '/api/v1/namespaces/default/configmaps/cm-3')).status, 200);
    const patched = await call(api.httpUrl, 'PATCH', '/api/v1/namespaces/default/configmaps/cm-7', { data: { more: 'x' } }, {
      'content-type': 'application/merge-patch+json',
    });
    assert.equal(patched.status, 200);

    // Raw entries with bytes that are not UTF-8, and a key deleted at the very end.
    await sourceStore.create('raw._.binary', new Uint8Array([0, 255, 128, 10, 13, 0xc3]));
    await sourceStore.create('raw._.empty', new Uint8Array(0));
    deletedKey = 'raw._.gone';
    const rev = await sourceStore.create(deletedKey, enc('short-lived'));
    await sourceStore.delete(deletedKey, rev);
  });

  after(async () => {
    await api?.stop();
    await ncSource?.close();
    await ncTarget?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores into a fresh server every key, value byte and revision, and continues after the backup revision', async () => {
    const file = path.join(dir, 'full.backup');
    const header = await backupStore(sourceStore, file);
    const expected = await dumpAll(sourceStore);
    assert.equal(header.entries, expected.length);
    assert.equal(header.revision, await sourceStore.currentRevision());
    assert.ok(!expected.some((e) => e.key === deletedKey), 'a deleted key is not backed up');
    // the deletes really left gaps, which the restore must reproduce
    assert.ok(expected[expected.length - 1]!.revision > expected.length);

    const targetStore = await KvStore.open(ncTarget, { bucket: BUCKET });
    const result = await restoreStore(targetStore, await readBackup(file));
    assert.equal(result.entries, expected.length);
    assert.equal(result.renumbered, 0);

    const restored = await dumpAll(targetStore);
    assert.deepEqual(
      restored.map((e) => [e.key, e.revision]),
      expected.map((e) => [e.key, e.revision]),
    );
    for (let i = 0; i < expected.length; i++) {
      assert.ok(restored[i]!.value.equals(expected[i]!.value), `value of ${expected[i]!.key} differs`);
    }
    assert.equal(await targetStore.get(PAD_KEY), null, 'padding is purged');
    assert.equal(await targetStore.currentRevision(), header.revision);
    assert.equal(await targetStore.create('raw._.after', enc('new')), header.revision + 1);
  });

  it('serves restored objects with their original resourceVersion', async () => {
    const file = path.join(dir, 'rv.backup');
    await backupStore(sourceStore, file);
    const fresh = await freshNats();
    const restoredApi = await (async () => {
      const nc = await connect({ servers: fresh.url });
      try {
        await restoreStore(await KvStore.open(nc, { bucket: BUCKET }), await readBackup(file));
      } finally {
        await nc.close();
      }
      return await startApiServer({ natsUrl: fresh.url, bucket: BUCKET, httpPort: 0 });
    })();
    try {
      for (const name of ['cm-0', 'cm-7', 'cm-19']) {
        const before = await call(api.httpUrl, 'GET', `/api/v1/namespaces/default/configmaps/${name}`);
        const after = await call(restoredApi.httpUrl, 'GET', `/api/v1/namespaces/default/configmaps/${name}`);
        assert.equal(after.status, 200);
        assert.deepEqual(after.body, before.body);
      }
      assert.equal((await call(restoredApi.httpUrl, 'GET', '/api/v1/namespaces/default/configmaps/cm-3')).status, 404);
    } finally {
      await restoredApi.stop();
    }
  });

  it('keeps revisions when the first live entry is far past revision 1 and gaps are long', async () => {
    const bucket = 'churned';
    const churned = await KvStore.open(ncSource, { bucket });
    let rev = await churned.create('raw._.churn', enc('0'));
    for (let i = 1; i < 300; i++) rev = await churned.update('raw._.churn', enc(String(i)), rev);
    const other = await churned.create('raw._.other', enc('o'));
    for (let i = 0; i < 200; i++) rev = await churned.update('raw._.churn', enc(`again ${i}`), rev);
    const expected = await dumpAll(churned);
    assert.deepEqual(expected.map((e) => e.revision), [other, rev]);

    const file = path.join(dir, 'churned.backup');
    await backupStore(churned, file);
    const restoredStore = await KvStore.open(ncTarget, { bucket });
    await restoreStore(restoredStore, await readBackup(file));
    const restored = await dumpAll(restoredStore);
    assert.deepEqual(
      restored.map((e) => [e.key, e.revision, e.value.toString()]),
      expected.map((e) => [e.key, e.revision, e.value.toString()]),
    );
  });

  it('refuses to restore into a bucket that is not empty unless forced', async () => {
    const file = path.join(dir, 'refuse.backup');
    const header = await backupStore(sourceStore, file);
    const nc = await connect({ servers: target.url });
    try {
      const used = await KvStore.open(nc, { bucket: 'used' });
      await used.create('raw._.existing', enc('keep me'));
      const backup = await readBackup(file);
      await assert.rejects(restoreStore(used, backup), /not empty/);
      assert.equal(await used.get('namespaces._.default'), null, 'a refused restore writes nothing');

      const forced = await restoreStore(used, backup, { force: true });
      assert.ok(forced.renumbered > 0);
      assert.equal(Buffer.from((await used.get('raw._.binary'))!.value!).toString('hex'), '00ff800a0dc3');
      assert.equal(new TextDecoder().decode((await used.get('raw._.existing'))!.value), 'keep me');
      assert.ok(forced.revision >= header.revision);
    } finally {
      await nc.close();
    }
  });

  it('rejects a truncated or foreign backup file', async () => {
    const file = path.join(dir, 'trunc.backup');
    await backupStore(sourceStore, file);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, lines.slice(0, -1).join('\n') + '\n');
    await assert.rejects(readBackup(file), /truncated/);
    writeFileSync(file, '{"hello":1}\n');
    await assert.rejects(readBackup(file), /not a flotilla backup/);
  });

  it('round-trips through the flotilla backup and restore commands', async () => {
    const exec = promisify(execFile);
    const file = path.join(dir, 'cli.backup');
    const fresh = await freshNats();
    const env = { ...process.env, NATS_URL: '' };
    await exec(process.execPath, [CLI_MAIN, 'backup', file, '--nats', source.url, '--bucket', BUCKET], { env });
    await exec(process.execPath, [CLI_MAIN, 'restore', file, '--nats', fresh.url, '--bucket', BUCKET], { env });
    const again = exec(process.execPath, [CLI_MAIN, 'restore', file, '--nats', fresh.url, '--bucket', BUCKET], { env });
    await assert.rejects(again, /not empty/);

    const nc = await connect({ servers: fresh.url });
    try {
      const restored = await dumpAll(await KvStore.open(nc, { bucket: BUCKET }));
      const { entries } = await readBackup(file);
      assert.deepEqual(
        restored.map((e) => [e.key, e.revision, e.value.toString('base64')]),
        entries.map((e) => [e.key, e.revision, Buffer.from(e.value).toString('base64')]),
      );
    } finally {
      await nc.close();
    }
  });
});
