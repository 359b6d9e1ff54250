import assert from 'node:assert/strict';
import { NotFoundError } from '../../lib/api/errors.js';
import { metaMicroTime } from '../../lib/api/time.js';
import type { ApiClient } from '../../lib/client/mod.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { EventExpiry, lastWritten } from './eventttl.js';

const CORE_EVENTS = { group: '', version: 'v1', resource: 'events', namespace: 'default' };
const EVENTS_V1 = { group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' };

function coreEvent(name: string): any {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'p' },
    reason: 'Tested',
    message: 'an event that will expire',
    type: 'Normal',
    count: 1,
  };
}

async function exists(client: ApiClient, ref: typeof CORE_EVENTS, name: string): Promise<boolean> {
  try {
    await client.get({ ...ref, name });
    return true;
  } catch (e) {
    if (e instanceof NotFoundError) return false;
    throw e;
  }
}

describe('event TTL: Events not written for --event-ttl are deleted, as upstream\'s etcd lease deletes them', function () {
  this.timeout(60_000);

  describe('on a clock of the test\'s own', () => {
    let api: ConnectedApiServer;
    let expiry: EventExpiry | undefined;
    // the apiserver's own expiry never fires in this suite
    before(async () => {
      api = await connectedApiServer('event-ttl-test', { eventTtlMs: 10 * 3600_000 });
    });
    after(async () => {
      await expiry?.stop();
      await api?.stop();
    });

    it('deletes an Event a TTL after its last write, from the Events present at start and those written after', async () => {
      const { client } = api;
      const cache = api.server.cache;
      const base = Date.now();
      let clock = base;
      await client.create(CORE_EVENTS, coreEvent('present-at-start'));
      await cache.waitConsistent();
      expiry = new EventExpiry(
        cache,
        async (namespace, name, resourceVersion) => {
          await client.delete({ ...CORE_EVENTS, namespace, name }, { preconditions: { resourceVersion } });
        },
        { ttlMs: 60_000, sweepIntervalMs: 3600_000, now: () => clock },
      );
      expiry.start();

      clock = base + 30_000;
      const written = await client.create<any>(EVENTS_V1, {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'written-later' },
        eventTime: metaMicroTime(Date.now()),
        reportingController: 'test',
        reportingInstance: 'test-1',
        action: 'Testing',
        reason: 'Tested',
        regarding: { kind: 'Pod', namespace: 'default', name: 'p' },
        type: 'Normal',
      });
      await cache.waitFor(Number(written.metadata.resourceVersion));

      clock = base + 55_000;
      assert.equal(await expiry.sweep(), 0, 'nothing is due before its TTL');
      assert.ok(await exists(client, CORE_EVENTS, 'present-at-start'));

      clock = base + 65_000;
      assert.equal(await expiry.sweep(), 1);
      assert.equal(await exists(client, CORE_EVENTS, 'present-at-start'), false, 'the Event present at start expired');
      assert.ok(await exists(client, EVENTS_V1, 'written-later'), 'the later Event lives on');

      // a write renews the lease: the Event lives a TTL from its update, not from its creation
      clock = base + 80_000;
      const updated = await client.patch<any>({ ...EVENTS_V1, name: 'written-later' }, 'merge', { note: 'seen again' });
      await cache.waitFor(Number(updated.metadata.resourceVersion));
      clock = base + 95_000;
      assert.equal(await expiry.sweep(), 0, 'the entry of its first write is stale');
      assert.ok(await exists(client, EVENTS_V1, 'written-later'));
      clock = base + 141_000;
      assert.equal(await expiry.sweep(), 1);
      assert.equal(await exists(client, EVENTS_V1, 'written-later'), false);
    });

    it('reads an Event\'s last write from its newest timestamp', () => {
      const ev = {
        metadata: { creationTimestamp: '2026-01-01T00:00:00Z', managedFields: [{ time: '2026-01-01T00:05:00Z' }] },
        lastTimestamp: '2026-01-01T00:03:00Z',
        series: { count: 3, lastObservedTime: '2026-01-01T00:04:00.500000Z' },
      };
      assert.equal(lastWritten(ev), Date.parse('2026-01-01T00:05:00Z'));
      delete (ev.metadata as any).managedFields;
      assert.equal(lastWritten(ev), Date.parse('2026-01-01T00:04:00.5Z'));
    });
  });

  it('an apiserver started with a short TTL deletes the Event, and a watch sees it DELETED', async () => {
    const api = await connectedApiServer('event-ttl-e2e', { eventTtlMs: 1_500 });
    try {
      const created = await api.client.create<any>(CORE_EVENTS, coreEvent('short-lived'));
      const seen: string[] = [];
      const watch = api.client.watch<any>(CORE_EVENTS, { resourceVersion: created.metadata.resourceVersion });
      try {
        for await (const ev of watch) {
          seen.push(`${ev.type} ${ev.object.metadata?.name}`);
          if (ev.type === 'DELETED') break;
        }
      } finally {
        watch.stop();
      }
      assert.deepEqual(seen, ['DELETED short-lived']);
      assert.equal(await exists(api.client, CORE_EVENTS, 'short-lived'), false);
    } finally {
      await api.stop();
    }
  });
});
