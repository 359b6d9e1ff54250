import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, connectNats, Resources, type ResourceRef } from '../../lib/client/mod.js';
import { testApiServer } from '../../test/apiserver.js';

/**
 * remainingItemCount on every page of a paged list, as upstream: the objects after the
 * page at the first page's resourceVersion. The count is carried from page to page (not
 * counted again), so these lists page through objects created and deleted around them.
 */
describe('paged lists: remainingItemCount on every page', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  const configMap = (namespace: string, name: string) => ({ ...Resources.configmaps, namespace, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { k: name } } });

  before(async () => {
    server = await testApiServer();
    nc = await connectNats(server.natsUrl, { name: 'list-paging-test' });
    client = new ApiClient(nc);
    for (const name of ['pg-a', 'pg-b', 'pg-empty']) await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const made = [
      ...Array.from({ length: 41 }, (_, i) => configMap('pg-a', `a-${String(i).padStart(2, '0')}`)),
      ...Array.from({ length: 17 }, (_, i) => configMap('pg-b', `b-${String(i).padStart(2, '0')}`)),
    ];
    assert.deepEqual(await client.batchCreateOutcomes(made), made.map(() => undefined));
    // deleted ones must leave the counts too
    for (const name of ['a-03', 'a-40', 'b-00']) await client.delete({ ...Resources.configmaps, namespace: name.startsWith('a') ? 'pg-a' : 'pg-b', name });
  });

  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  /** Pages through `ref`, changing objects after each page; checks each page's count against the first page's snapshot. */
  async function pageThrough(ref: ResourceRef, limit: number, churn: (page: number, whole: string[]) => Promise<void>) {
    const whole = (await client.list<{ metadata: { name: string } }>(ref)).items.map((o) => o.metadata.name);
    const seen: string[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    for (let page = 0; ; page++) {
      const l = await client.list<{ metadata: { name: string } }>(ref, { limit, continue: cont });
      seen.push(...l.items.map((o) => o.metadata.name));
      rv ??= l.metadata.resourceVersion;
      assert.equal(l.metadata.resourceVersion, rv, "every page at the first page's resourceVersion");
      cont = l.metadata.continue || undefined;
      if (!cont) {
        assert.equal(l.metadata.remainingItemCount, undefined, 'the last page counts nothing');
        break;
      }
      assert.equal(l.metadata.remainingItemCount, whole.length - seen.length, `page ${page} of ${limit} of ${whole.length}`);
      await churn(page, whole);
    }
    assert.deepEqual(seen, whole, 'the first page\'s snapshot, whole');
  }

  it('counts what remains in one namespace, through creates and deletes between the pages', async () => {
    const inA = { ...Resources.configmaps, namespace: 'pg-a' };
    let n = 0;
    for (const limit of [1, 7, 10, 40]) {
      await pageThrough(inA, limit, async (page, whole) => {
        // after the first page's snapshot: neither the new objects nor the deletes show, nor count
        const late = `late-${n++}`;
        await client.create(inA, configMap('pg-a', late).body);
        if (n % 2) await client.delete({ ...inA, name: late });
        if (page === 0) await client.delete({ ...inA, name: whole[whole.length - 1]! });
      });
    }
  });

  it('counts what remains across all namespaces and for cluster-scoped objects', async () => {
    await pageThrough(Resources.configmaps, 9, async (page) => {
      await client.create({ ...Resources.configmaps, namespace: 'pg-b' }, configMap('pg-b', `late-all-${page}`).body);
    });
    await pageThrough(Resources.namespaces, 2, async (page) => {
      await client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `pg-late-${page}` } });
    });
  });

  it('counts nothing in an empty namespace and a namespace\'s count after deletes', async () => {
    const empty = await client.list({ ...Resources.configmaps, namespace: 'pg-empty' }, { limit: 5 });
    assert.equal(empty.items.length, 0);
    assert.equal(empty.metadata.remainingItemCount, undefined);
    const b = await client.list({ ...Resources.configmaps, namespace: 'pg-b' }, { limit: 5 });
    const inB = (await client.list<{ metadata: { name: string } }>({ ...Resources.configmaps, namespace: 'pg-b' })).items.length;
    assert.equal(b.metadata.remainingItemCount, inB - 5);
  });

  it('refuses a continue token whose count is not a count', async () => {
    const first = await client.list({ ...Resources.configmaps, namespace: 'pg-a' }, { limit: 2 });
    const token = JSON.parse(Buffer.from(first.metadata.continue!, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...token, rem: -4 })).toString('base64url');
    await assert.rejects(client.list({ ...Resources.configmaps, namespace: 'pg-a' }, { limit: 2, continue: forged }), (e: any) => e.code === 400 && /invalid continue token/.test(e.message));
  });
});
