import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../../../lib/api/errors.js';
import { ApiClient, connectNats } from '../../../lib/client/mod.js';
import type { ApiServer } from '../../apiserver/server.js';
import { testApiServer } from '../../../test/apiserver.js';
import { slowStartBatchCreate } from './slowstart.js';

const NS = 'slowstart';
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' } as const;

/** A real client that remembers the size of every batch it sends. */
class BatchRecordingClient extends ApiClient {
  readonly batches: number[] = [];
  override batchCreate<T>(...args: Parameters<ApiClient['batchCreate']>): Promise<Array<T | StatusError>> {
    this.batches.push(args[0].length);
    return super.batchCreate<T>(...args);
  }
}

describe('slowStartBatchCreate against a real apiserver', function () {
  this.timeout(30_000);
  let server: ApiServer & { natsUrl: string };
  let nc: NatsConnection;
  let client: BatchRecordingClient;

  const request = (name: string) => ({ ...CONFIGMAPS, namespace: NS, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS } } });

  before(async () => {
    server = await testApiServer();
    nc = await connectNats(server.natsUrl, { name: 'slowstart-test' });
    client = new BatchRecordingClient(nc, { requestTimeoutMs: 10_000 });
    await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('creates in batches of 1, 2, 4, ... capped by what is left', async () => {
    client.batches.length = 0;
    const seen: number[] = [];
    const r = await slowStartBatchCreate<ConfigMap>(client, 10, (i) => request(`ok-${i}`), (res, i) => {
      assert.ok(!(res instanceof StatusError));
      seen.push(i);
    });
    assert.deepEqual(client.batches, [1, 2, 4, 3]);
    assert.deepEqual(r, { created: 10, failed: 0, skipped: 0, errors: [] });
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const names = (await client.list<ConfigMap>({ ...CONFIGMAPS, namespace: NS })).items.map((c) => c.metadata!.name).filter((n) => n!.startsWith('ok-'));
    assert.equal(names.length, 10);
  });

  it('stops after the first batch with a failure and reports created, failed, skipped and the errors by index', async () => {
    client.batches.length = 0;
    const results: Array<[number, boolean]> = [];
    // index 3 has an invalid name: the third batch (3..6) fails on it, index 7 is never tried
    const r = await slowStartBatchCreate<ConfigMap>(client, 8, (i) => request(i === 3 ? 'Not_A_Valid_Name' : `part-${i}`), (res, i) => results.push([i, res instanceof StatusError]));
    assert.deepEqual(client.batches, [1, 2, 4]);
    assert.equal(r.created, 6);
    assert.equal(r.failed, 1);
    assert.equal(r.skipped, 1);
    assert.deepEqual(r.errors.map((e) => [e.index, e.error.code]), [[3, 422]]);
    assert.deepEqual(results, [[0, false], [1, false], [2, false], [3, true], [4, false], [5, false], [6, false]]);
    const names = (await client.list<ConfigMap>({ ...CONFIGMAPS, namespace: NS })).items.map((c) => c.metadata!.name!).filter((n) => n.startsWith('part-'));
    assert.deepEqual(names.sort(), ['part-0', 'part-1', 'part-2', 'part-4', 'part-5', 'part-6']);
  });

  it('sends nothing for no objects', async () => {
    client.batches.length = 0;
    assert.deepEqual(await slowStartBatchCreate(client, 0, (i) => request(`none-${i}`)), { created: 0, failed: 0, skipped: 0, errors: [] });
    assert.deepEqual(client.batches, []);
  });
});
