import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { ApiClient, Resources } from './client.js';
import { connectNats } from './connect.js';
import { LeaderElector, formatMicroTime } from './leaderelection.js';
import { sleep } from './retry.js';

describe('leader election settings', () => {
  it('formats MicroTime with six fraction digits, as upstream serializes it', () => {
    assert.equal(formatMicroTime(new Date(Date.UTC(2006, 0, 2, 15, 4, 5, 123))), '2006-01-02T15:04:05.123000Z');
  });

  it('refuses timings where a leader could not renew before its lease runs out', () => {
    const base = { client: undefined as unknown as ApiClient, namespace: 'ns', name: 'l', identity: 'me', callbacks: { onStartedLeading() {}, onStoppedLeading() {} } };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }), /leaseDuration must be greater than renewDeadline/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineSeconds: 2, retryPeriodSeconds: 2 }), /renewDeadline must be greater than retryPeriod/);
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity/);
  });
});

type ApiServer = { httpUrl: string; stop(): Promise<void> };

interface Candidate {
  elector: LeaderElector;
  log: string[];
  done: Promise<void>;
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe('LeaderElector against the apiserver', function () {
  this.timeout(120_000);
  const NS = 'kube-system';
  const NAME = 'test-controller';
  let server: ApiServer;
  let nc: NatsConnection;
  let client: ApiClient;

  function candidate(identity: string): Candidate {
    const log: string[] = [];
    const elector = new LeaderElector({
      client,
      namespace: NS,
      name: NAME,
      identity,
      // short timings keep the test quick; the ratios are upstream's
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 0.4,
      callbacks: {
        onStartedLeading: () => void log.push('started'),
        onStoppedLeading: () => void log.push('stopped'),
        onNewLeader: (id) => void log.push(`leader ${id}`),
      },
    });
    return { elector, log, done: elector.run() };
  }

  const lease = () => client.get<Lease>({ ...Resources.leases, namespace: NS, name: NAME });

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url, bucket: 'leader-test' });
    nc = await connectNats(nats.url, { name: 'leader-test' });
    client = new ApiClient(nc, { requestTimeoutMs: 5_000 });
    await client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch(() => {});
  });
  after(async () => {
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('one of two candidates leads; the other takes over on release and after the leader stops renewing', async () => {
    const a = candidate('a');
    await until(() => a.elector.isLeader(), 'a leads');
    const b = candidate('b');
    await until(() => b.log.includes('leader a'), 'b sees a as leader');
    assert.equal(b.elector.isLeader(), false, 'two leaders at once');
    let l = await lease();
    assert.equal(l.spec?.holderIdentity, 'a');
    assert.equal(l.spec?.leaseDurationSeconds, 3);
    assert.match(l.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(l.spec?.acquireTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const firstRenew = l.spec!.renewTime!;
    // a keeps renewing while it leads
    const t0 = Date.now();
    while ((await lease()).spec?.renewTime === firstRenew) {
      if (Date.now() - t0 > 10_000) assert.fail('the leader did not renew its lease');
      await sleep(100);
    }
    const transitionsBefore = (await lease()).spec?.leaseTransitions ?? 0;

    // release on stop: b need not wait out the lease
    await a.elector.stop();
    await a.done;
    assert.deepEqual(a.log.filter((x) => x === 'started' || x === 'stopped'), ['started', 'stopped']);
    await until(() => b.elector.isLeader(), 'b leads after a released');
    l = await lease();
    assert.equal(l.spec?.holderIdentity, 'b');
    assert.equal(l.spec?.leaseTransitions, transitionsBefore + 1);

    // b dies without releasing (stops renewing): c takes over once the lease expires
    await b.elector.stop({ release: false });
    assert.equal((await lease()).spec?.holderIdentity, 'b', 'a stop without release leaves the lease held');
    const c = candidate('c');
    await until(() => c.log.includes('leader b'), 'c sees b as leader');
    assert.equal(c.elector.isLeader(), false, 'c must wait for the lease to expire');
    await until(() => c.elector.isLeader(), 'c leads after b stopped renewing');
    l = await lease();
    assert.equal(l.spec?.holderIdentity, 'c');
    assert.equal(l.spec?.leaseTransitions, transitionsBefore + 2);
    await c.elector.stop();
    await c.done;
  });
});
