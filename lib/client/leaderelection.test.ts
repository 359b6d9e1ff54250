import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { ApiClient } from './client.js';
import { Resources } from './resources.js';
import { connectNats } from './connect.js';
import { metaMicroTime } from '../api/time.js';
import { LeaderElector } from './leaderelection.js';
import { sleep } from './retry.js';

describe('leader election settings', () => {
  it('formats MicroTime with six fraction digits, as upstream serializes it', () => {
    assert.equal(metaMicroTime(Date.UTC(2006, 0, 2, 15, 4, 5, 123)), '2006-01-02T15:04:05.123000Z');
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

  it('a candidate stopped while its first acquire is in flight gives back the lease that acquire took', async () => {
    const name = 'stopped-while-acquiring';
    const log: string[] = [];
    const elector = new LeaderElector({
      client,
      namespace: NS,
      name,
      identity: 'hasty',
      leaseDurationSeconds: 30,
      renewDeadlineSeconds: 20,
      retryPeriodSeconds: 5,
      callbacks: { onStartedLeading: () => void log.push('started'), onStoppedLeading: () => void log.push('stopped') },
    });
    const done = elector.run(); // its get of the lease is in flight now
    await elector.stop();
    await done;
    const l = await client.get<Lease>({ ...Resources.leases, namespace: NS, name });
    assert.equal(l.spec?.holderIdentity, undefined, 'the lease is still held by a candidate that stopped');
    assert.equal(l.spec?.leaseDurationSeconds, 1);
    assert.deepEqual(log, [], 'a candidate that never led must not be told it started or stopped leading');
  });

  /** A candidate whose polls are 40-88 s apart, so only the expiry wake or the watch can make it act sooner. */
  function slowPoller(name: string, identity: string) {
    const events: Array<{ what: string; at: number }> = [];
    const elector = new LeaderElector({
      client,
      namespace: NS,
      name,
      identity,
      leaseDurationSeconds: 60,
      renewDeadlineSeconds: 50,
      retryPeriodSeconds: 40,
      callbacks: {
        onStartedLeading: () => void events.push({ what: 'started', at: Date.now() }),
        onStoppedLeading: () => void events.push({ what: 'stopped', at: Date.now() }),
        onNewLeader: (id) => void events.push({ what: `leader ${id}`, at: Date.now() }),
      },
    });
    return { elector, events, done: elector.run() };
  }

  /** Plays a holder that is not a LeaderElector: writes the lease by hand. */
  function ghost(name: string, leaseDurationSeconds: number) {
    const ref = { ...Resources.leases, namespace: NS, name };
    return {
      async hold(): Promise<void> {
        const now = metaMicroTime();
        await client.create<Lease>(ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { namespace: NS, name },
          spec: { holderIdentity: 'ghost', leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        });
      },
      /** renews once; answers the local time the write was sent (no one can observe it earlier) */
      async renew(): Promise<number> {
        const l = await client.get<Lease>(ref);
        const sentAt = Date.now();
        await client.update<Lease>(ref, { ...l, spec: { ...l.spec, renewTime: metaMicroTime(sentAt) } });
        return sentAt;
      },
      async release(): Promise<void> {
        const l = await client.get<Lease>(ref);
        const now = metaMicroTime();
        await client.update<Lease>(ref, { ...l, spec: { leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: l.spec?.leaseTransitions ?? 0 } });
      },
    };
  }

  it('a standby wakes when the lease it observed expires, not at its next poll, and never takes a lease still being renewed', async () => {
    const name = 'wake-at-expiry';
    const g = ghost(name, 2);
    await g.hold();
    const s = slowPoller(name, 'standby');
    await until(() => s.events.some((e) => e.what === 'leader ghost'), 'the standby sees the ghost as leader');
    // the ghost keeps renewing for twice its lease duration: the standby must keep off
    let lastSent = 0;
    const renewUntil = Date.now() + 4_000;
    while (Date.now() < renewUntil) {
      lastSent = await g.renew();
      assert.equal(s.elector.isLeader(), false, 'the standby took a lease that was being renewed');
      await sleep(500);
    }
    assert.equal(s.elector.isLeader(), false, 'the standby took a lease that was being renewed');
    // the ghost is gone: the lease expires 2 s after the standby observed the last renewal,
    // long before the standby's next poll (40 s or more)
    await until(() => s.elector.isLeader(), 'the standby leads once the lease it observed expired', 20_000);
    const started = s.events.find((e) => e.what === 'started')!;
    assert.ok(started.at - lastSent >= 2_000, `took the lease ${started.at - lastSent} ms after its last renewal was sent, before it expired`);
    assert.equal((await client.get<Lease>({ ...Resources.leases, namespace: NS, name })).spec?.holderIdentity, 'standby');
    await s.elector.stop();
    await s.done;
  });

  it('a standby takes a lease at once when its holder gives it up', async () => {
    const name = 'wake-on-release';
    // a 30 s lease and polls 40 s apart: only the watch can tell the standby before then
    const g = ghost(name, 30);
    await g.hold();
    const s = slowPoller(name, 'standby');
    await until(() => s.events.some((e) => e.what === 'leader ghost'), 'the standby sees the ghost as leader');
    assert.equal(s.elector.isLeader(), false);
    await g.release();
    await until(() => s.elector.isLeader(), 'the standby leads after the ghost released the lease', 10_000);
    await s.elector.stop();
    await s.done;
  });
});
