import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Registry } from 'prom-client';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { ApiClient } from './client.js';
import { Resources } from './resources.js';
import { MAX_DECODED_MESSAGE_BYTES } from './protocol.js';
import { connectNats } from './connect.js';
import { AlreadyExistsError } from '../api/errors.js';
import { eventName, EventRecorder, type EventSpec } from './events.js';

describe('eventName', () => {
  it("is the regarding object's name and the hex of the nanosecond timestamp, exactly", () => {
    const cases: Array<[number, number]> = [[0, 0], [1, 999_999], [Date.UTC(2026, 11, 4, 16, 40, 1, 7), 123_456], [2 ** 40 + 12345, 999_999], [Date.now(), 0]];
    for (let i = 0; i < 200; i++) cases.push([Math.floor(Math.random() * 4e12), Math.floor(Math.random() * 1e6)]);
    for (const [ms, nanos] of cases) {
      assert.equal(eventName('web-1', ms, nanos), `web-1.${(BigInt(ms) * 1_000_000n + BigInt(nanos)).toString(16)}`, `${ms} ms + ${nanos} ns`);
    }
    assert.equal(eventName(undefined, 1, 0), 'event.f4240');
  });
});

describe('EventRecorder batches', () => {
  it('keeps each batch create under MAX_DECODED_MESSAGE_BYTES, writing every event', async () => {
    const sizes: number[] = [];
    let written = 0;
    const client = {
      batchCreateOutcomes: async (items: unknown[]) => {
        sizes.push(JSON.stringify({ items }).length);
        written += items.length;
        return items.map(() => undefined);
      },
    } as unknown as ApiClient;
    const rec = new EventRecorder({ client, reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-host', flushIntervalMs: 1 });
    const pod = (i: number) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: 'namespace-1', uid: `uid-${i}`, resourceVersion: String(i) } });
    for (let i = 0; i < 600; i++) rec.eventf(pod(i), undefined, 'Normal', 'Scheduled', 'Binding', `Successfully assigned namespace-1/pod-${i} to node-${i}`);
    for (let i = 0; i < 100; i++) rec.eventf(pod(i), undefined, 'Warning', 'FailedScheduling', 'Scheduling', 'x'.repeat(1000));
    await rec.stop();
    assert.equal(written, 700);
    assert.ok(sizes.length >= 5, `${sizes.length} batches`);
    for (const n of sizes) assert.ok(n <= MAX_DECODED_MESSAGE_BYTES, `a batch of ${n} bytes`);
  });

  it('writes an event whose name another recorder took under the next name, and gives up after three', async () => {
    const taken = new Set<string>();
    const created: string[] = [];
    const tried: string[] = [];
    let refuseAll = false;
    const client = {
      batchCreateOutcomes: async (items: Array<{ body: { metadata: { name: string } } }>) =>
        items.map(({ body }) => {
          const name = body.metadata.name;
          tried.push(name);
          // the first name of each event is already taken (as by another recorder in the same ms)
          if (refuseAll || !taken.has(name.split('.')[0]!)) {
            taken.add(name.split('.')[0]!);
            return new AlreadyExistsError({ group: 'events.k8s.io', resource: 'events' }, name);
          }
          created.push(name);
          return undefined;
        }),
    } as unknown as ApiClient;
    const errors: object[] = [];
    const rec = new EventRecorder({ client, reportingController: 'c', reportingInstance: 'i', flushIntervalMs: 1, onError: (e) => errors.push(e as object) });
    const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: `uid-${name}` } });
    rec.eventf(node('cloud-0'), undefined, 'Normal', 'DeletingNode', 'DeletingNode', 'Deleting node cloud-0');
    rec.eventf(node('cloud-1'), undefined, 'Normal', 'DeletingNode', 'DeletingNode', 'Deleting node cloud-1');
    await rec.flush();
    assert.deepEqual(created.map((n) => n.split('.')[0]).sort(), ['cloud-0', 'cloud-1']);
    assert.equal(rec.written, 2);
    assert.equal(errors.length, 0);
    refuseAll = true;
    rec.eventf(node('cloud-2'), undefined, 'Normal', 'DeletingNode', 'DeletingNode', 'Deleting node cloud-2');
    await rec.flush();
    assert.equal(errors.length, 1);
    const cloud2 = tried.filter((n) => n.startsWith('cloud-2.'));
    assert.equal(cloud2.length, 4, 'given up after the first create and three more names');
    assert.equal(new Set(cloud2).size, 4);
    assert.ok(errors[0] instanceof AlreadyExistsError);
    assert.equal(rec.written, 2);
    // the same event again is created afresh, not counted into the series that was never written
    refuseAll = false;
    rec.eventf(node('cloud-2'), undefined, 'Normal', 'DeletingNode', 'DeletingNode', 'Deleting node cloud-2');
    await rec.stop();
    assert.equal(created.filter((n) => n.startsWith('cloud-2.')).length, 1);
    assert.equal(rec.written, 3);
  });

  it('names the events of two recorders about one object in one millisecond apart', async () => {
    const names: string[] = [];
    const client = {
      batchCreateOutcomes: async (items: Array<{ body: { metadata: { name: string } } }>) => {
        names.push(...items.map((i) => i.body.metadata.name));
        return items.map(() => undefined);
      },
    } as unknown as ApiClient;
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'cloud-0', uid: 'uid-cloud-0' } };
    const recorders = [0, 1, 2, 3].map((i) => new EventRecorder({ client, reportingController: `c${i}`, reportingInstance: 'i', now: () => 1_765_000_000_000 }));
    for (const [i, rec] of recorders.entries()) rec.eventf(node, undefined, 'Normal', 'Reason', 'Action', `from recorder ${i}`);
    await Promise.all(recorders.map((r) => r.stop()));
    assert.equal(names.length, 4);
    assert.equal(new Set(names).size, 4, names.join(' '));
  });

  it('remembers at most maxSeries series, the least recently seen forgotten first, none before it is written', async () => {
    const creates: string[] = [];
    const patches: string[] = [];
    const client = {
      batchCreateOutcomes: async (items: Array<{ body: { note: string } }>) => {
        for (const it of items) creates.push(it.body.note);
        return items.map(() => undefined);
      },
      patch: async (ref: { name: string }) => {
        patches.push(ref.name);
        return {};
      },
    } as unknown as ApiClient;
    const rec = new EventRecorder({ client, reportingController: 'c', reportingInstance: 'i', flushIntervalMs: 1, maxSeries: 4 });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' } };
    // 20 distinct events before any is written: none may be forgotten before its create
    for (let i = 0; i < 20; i++) rec.eventf(pod, undefined, 'Normal', 'Tick', 'Testing', `tick ${i}`);
    await rec.flush();
    assert.equal(creates.length, 20);
    // a new series makes room: "tick 19" was seen last, so it is still a series; "tick 0" was forgotten: a new Event
    rec.eventf(pod, undefined, 'Normal', 'Tick', 'Testing', 'tick 20');
    rec.eventf(pod, undefined, 'Normal', 'Tick', 'Testing', 'tick 19');
    rec.eventf(pod, undefined, 'Normal', 'Tick', 'Testing', 'tick 0');
    await rec.stop();
    assert.deepEqual(creates.slice(20), ['tick 20', 'tick 0']);
    assert.equal(patches.length, 1);
  });
});

describe('EventRecorder series', () => {
  it('aggregates only events alike in regarding object, fieldPath, type, reason, action and note', async () => {
    const creates: string[] = [];
    const patched: string[] = [];
    const client = {
      batchCreateOutcomes: async (items: Array<{ body: { note: string; reason: string; type: string; regarding: { name: string; uid?: string; fieldPath?: string } } }>) => {
        for (const { body: b } of items) creates.push(`${b.regarding.name}/${b.regarding.uid ?? '-'}/${b.regarding.fieldPath ?? '-'}/${b.type}/${b.reason}/${b.note}`);
        return items.map(() => undefined);
      },
      patch: async (ref: { name: string }, _type: string, body: { series: { count: number } }) => {
        patched.push(`${ref.name.split('.')[0]}:${body.series.count}`);
        return {};
      },
    } as unknown as ApiClient;
    const rec = new EventRecorder({ client, reportingController: 'c', reportingInstance: 'i', flushIntervalMs: 1 });
    const a = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default', uid: 'u1' } };
    const aAgain = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default', uid: 'u2' } };
    const b = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'default' } };
    const other = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', namespace: 'other' } };
    // not a real object's history (a uid names one object): the key's every part counts
    const renamed = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'z', namespace: 'default', uid: 'u1' } };
    const ev = (regarding: EventSpec['regarding'], note: string, o: { type?: 'Normal' | 'Warning'; reason?: string; fieldPath?: string } = {}) =>
      rec.record({ regarding, type: o.type ?? 'Normal', reason: o.reason ?? 'R', action: 'A', note, fieldPath: o.fieldPath });
    ev(a, 'n1');
    ev(a, 'n2');
    ev(a, 'n1', { reason: 'S' });
    ev(a, 'n1', { type: 'Warning' });
    ev(a, 'n1', { fieldPath: 'spec.containers{c}' });
    ev(aAgain, 'n1');
    ev(b, 'n1');
    ev(other, 'n1');
    ev(renamed, 'n1');
    await rec.flush();
    assert.equal(creates.length, 9, creates.join('\n'));
    ev(a, 'n2');
    ev(a, 'n2');
    ev(b, 'n1');
    ev(a, 'n1', { fieldPath: 'spec.containers{c}' });
    await rec.stop();
    assert.equal(creates.length, 9, creates.join('\n'));
    // a/n2 seen three times, b/n1 and a's container event twice
    assert.deepEqual(patched.sort(), ['a:2', 'a:3', 'b:2']);
  });
});

describe('EventRecorder against a real apiserver', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  let web: Pod;

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url, bucket: 'events-test' });
    nc = await connectNats(nats.url, { name: 'events-test' });
    client = new ApiClient(nc);
    web = await client.create<Pod>({ ...Resources.pods, namespace: 'default' }, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  });
  after(async () => {
    client.close();
    await nc.close();
    await server.stop();
  });

  async function coreEvents(): Promise<Event[]> {
    return (await client.list<Event>({ ...Resources.events, namespace: 'default' }, { fieldSelector: 'involvedObject.name=web' })).items;
  }

  it('writes events about a pod that core/v1 readers (kubectl describe) see, with reporter and type', async () => {
    const rec = new EventRecorder({ client, reportingController: 'default-scheduler', reportingInstance: 'default-scheduler-test' });
    rec.eventf(web, undefined, 'Warning', 'FailedScheduling', 'Scheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    rec.eventf(web, undefined, 'Normal', 'Scheduled', 'Binding', 'Successfully assigned default/web to n1');
    await rec.stop();
    const evs = await coreEvents();
    assert.equal(evs.length, 2);
    const failed = evs.find((e) => e.reason === 'FailedScheduling')!;
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.message, '0/1 nodes are available: 1 Insufficient cpu.');
    assert.equal(failed.reportingComponent, 'default-scheduler');
    assert.equal(failed.involvedObject.uid, web.metadata!.uid);
    assert.equal(failed.involvedObject.kind, 'Pod');
    assert.equal(rec.written, 2);
  });

  it('aggregates identical events into one series with a count', async () => {
    const rec = new EventRecorder({ client, reportingController: 'default-scheduler', reportingInstance: 'i', flushIntervalMs: 5 });
    const note = 'repeated note';
    rec.eventf(web, undefined, 'Warning', 'FailedScheduling', 'Scheduling', note);
    await rec.flush();
    rec.eventf(web, undefined, 'Warning', 'FailedScheduling', 'Scheduling', note);
    rec.eventf(web, undefined, 'Warning', 'FailedScheduling', 'Scheduling', note);
    await rec.stop();
    const evs = (await coreEvents()).filter((e) => e.message === note);
    assert.equal(evs.length, 1, 'one event object for the repeats');
    assert.equal(evs[0]!.series?.count, 3);
  });

  it('drops events beyond its backlog and counts them instead of blocking', async () => {
    const registry = new Registry();
    const rec = new EventRecorder({ client, reportingController: 'c', reportingInstance: 'i', maxQueued: 2, registry });
    for (let i = 0; i < 5; i++) rec.eventf(web, undefined, 'Normal', 'Tick', 'Testing', `tick ${i}`);
    assert.equal(rec.dropped, 3);
    await rec.stop();
    assert.match(await registry.metrics(), /events_dropped_total 3/);
    assert.equal((await coreEvents()).filter((e) => e.reason === 'Tick').length, 2);
  });
});
