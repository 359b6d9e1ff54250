import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { ConflictError, NotFoundError } from '../../lib/api/errors.js';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { Binder } from './binding.js';

const pod = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

describe('Binder against a real apiserver', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url, bucket: 'binding-test' });
    nc = await connectNats(nats.url, { name: 'binding-test' });
    client = new ApiClient(nc);
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } };
    await client.create(Resources.nodes, node);
  });
  after(async () => {
    client.close();
    await nc.close();
    await server.stop();
  });

  it('coalesces the bindings of one turn into one batch request and sets each pod on its node', async () => {
    const pods = await Promise.all(['a', 'b', 'c'].map((n) => client.create<Pod>({ ...Resources.pods, namespace: 'default' }, pod(n))));
    const binder = new Binder({ client });
    await Promise.all(pods.map((p) => binder.bind(p, 'n1')));
    assert.equal(binder.requests, 1);
    for (const n of ['a', 'b', 'c']) {
      const p = await client.get<Pod>({ ...Resources.pods, namespace: 'default', name: n });
      assert.equal(p.spec?.nodeName, 'n1');
      assert.equal(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
    }
  });

  it('splits large batches at maxBatch', async () => {
    const pods = await Promise.all(['s1', 's2', 's3', 's4', 's5'].map((n) => client.create<Pod>({ ...Resources.pods, namespace: 'default' }, pod(n))));
    const binder = new Binder({ client, maxBatch: 2, maxInFlight: 1 });
    await Promise.all(pods.map((p) => binder.bind(p, 'n1')));
    assert.equal(binder.requests, 3);
  });

  it('rejects only the failing pods of a batch, each with its own StatusError', async () => {
    const ok = await client.create<Pod>({ ...Resources.pods, namespace: 'default' }, pod('ok'));
    const taken = await client.create<Pod>({ ...Resources.pods, namespace: 'default' }, pod('taken'));
    const binder = new Binder({ client });
    await binder.bind(taken, 'n1');
    const results = await Promise.allSettled([binder.bind(ok, 'n1'), binder.bind(pod('missing'), 'n1'), binder.bind(taken, 'n1')]);
    assert.equal(results[0].status, 'fulfilled');
    assert.ok(results[1].status === 'rejected' && results[1].reason instanceof NotFoundError, String((results[1] as PromiseRejectedResult).reason));
    assert.ok(results[2].status === 'rejected' && results[2].reason instanceof ConflictError);
    assert.match((results[2] as PromiseRejectedResult).reason.message, /already assigned to node "n1"/);
    assert.equal(binder.requests, 2);
  });

  it('refuses a binding for a pod recreated under the same name (uid precondition)', async () => {
    const first = await client.create<Pod>({ ...Resources.pods, namespace: 'default' }, pod('again'));
    await client.delete({ ...Resources.pods, namespace: 'default', name: 'again' }, { gracePeriodSeconds: 0 });
    await client.create<Pod>({ ...Resources.pods, namespace: 'default' }, pod('again'));
    const binder = new Binder({ client });
    await assert.rejects(binder.bind(first, 'n1'), (e: unknown) => e instanceof ConflictError && /UID in precondition/.test(e.message));
  });
});
