import assert from 'node:assert/strict';
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import { ApiClient, connectNats, MAX_DECODED_MESSAGE_BYTES } from '../../lib/client/mod.js';
import { call, testApiServer } from '../../test/apiserver.js';
import { waitFor } from '../../test/wait.js';
import type { ApiServer } from './server.js';

const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
});

describe('apiserver NATS API', () => {
  let s: ApiServer & { natsUrl: string };
  let nc: NatsConnection;
  let api: ApiClient;
  before(async () => {
    s = await testApiServer();
    nc = await connectNats(s.natsUrl, { name: 'nats-api-test' });
    api = new ApiClient(nc);
  });
  after(async () => {
    api.close();
    await nc.close();
    await s.stop();
  });

  it('creates many pods in one batch request, reporting each failure in place', async () => {
    const items = ['b1', 'b2', 'b3'].map((n) => ({ ...pods, body: pod(n) }));
    items.push({ ...pods, body: { ...pod('Bad_Name') } });
    items.push({ ...pods, body: pod('b1') });
    const res = await api.batchCreate(items);
    assert.deepEqual(
      res.map((r: any) => (r instanceof Error ? (r as any).reason : r.metadata.name)),
      ['b1', 'b2', 'b3', 'Invalid', 'AlreadyExists'],
    );
  });

  it('binds many pods in one batch request; a pod bound twice is a Conflict', async () => {
    const res = await api.batchBind([
      { namespace: 'default', name: 'b1', node: 'n1' },
      { namespace: 'default', name: 'b2', node: 'n2' },
      { namespace: 'default', name: 'b1', node: 'n3' },
      { namespace: 'default', name: 'missing', node: 'n1' },
      { namespace: 'default', name: 'b3' } as never,
      { namespace: 'default', name: 'b3', node: '' },
    ]);
    assert.deepEqual(
      res.map((r: any) => (r instanceof Error ? (r as any).reason : r.status)),
      ['Success', 'Success', 'Conflict', 'NotFound', 'BadRequest', 'BadRequest'],
    );
    assert.match((res[4] as Error).message, /binding target name is required/);
    const b1: any = await api.get({ ...pods, name: 'b1' });
    assert.equal(b1.spec.nodeName, 'n1');
    const b3: any = await api.get({ ...pods, name: 'b3' });
    assert.equal(b3.spec.nodeName, undefined, 'a binding without a node left the pod alone');
  });

  it('patches many pods (and their status) in one batch request, reporting each failure in place', async () => {
    const res = await api.batchPatch([
      { ...pods, name: 'b2', subresource: 'status', patchType: 'merge', body: { status: { phase: 'Running', podIP: '10.0.0.2' } } },
      { ...pods, name: 'b3', patchType: 'merge', body: { metadata: { labels: { tier: 'web' } } } },
      { ...pods, name: 'missing', subresource: 'status', patchType: 'merge', body: { status: { phase: 'Running' } } },
      { ...pods, name: 'b3', patchType: 'json', body: [{ op: 'replace', path: '/metadata/nope/x', value: 1 }] },
    ]);
    assert.deepEqual(
      res.map((r: any) => (r instanceof Error ? (r as any).reason : r.metadata.name)),
      ['b2', 'b3', 'NotFound', 'Invalid'],
    );
    const b2: any = await api.get({ ...pods, name: 'b2' });
    assert.deepEqual([b2.status.phase, b2.status.podIP], ['Running', '10.0.0.2']);
    const b3: any = await api.get({ ...pods, name: 'b3' });
    assert.equal(b3.metadata.labels.tier, 'web');
  });

  it('publishes change events on flotilla.events.<resource>.<namespace>.<name>', async () => {
    const got: any[] = [];
    const sub = nc.subscribe('flotilla.events.configmaps.default.>', {
      callback: (_e, m) => void got.push({ subject: m.subject, ...JSON.parse(new TextDecoder().decode(m.data)) }),
    });
    await nc.flush();
    const cm = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    await api.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ev.1' }, data: { a: '1' } });
    await api.patch({ ...cm, name: 'ev.1' }, 'merge', { data: { a: '2' } });
    await api.delete({ ...cm, name: 'ev.1' });
    const deadline = Date.now() + 5000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    assert.deepEqual(
      got.map((e) => [e.subject, e.type, e.object.data?.a]),
      [
        ['flotilla.events.configmaps.default.ev=2E1', 'ADDED', '1'],
        ['flotilla.events.configmaps.default.ev=2E1', 'MODIFIED', '2'],
        ['flotilla.events.configmaps.default.ev=2E1', 'DELETED', '2'],
      ],
    );
  });

  it('change events and batch replies of events.k8s.io Events show them as written, not in their stored shape', async () => {
    const got: any[] = [];
    const sub = nc.subscribe('flotilla.events.events.default.>', {
      callback: (_e, m) => void got.push(JSON.parse(new TextDecoder().decode(m.data))),
    });
    await nc.flush();
    const evs = { group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' };
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'ce.1' },
      eventTime: '2026-01-02T03:04:05.000000Z',
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-x',
      action: 'Binding',
      reason: 'Scheduled',
      type: 'Normal',
      note: 'Successfully assigned default/p to n1',
      regarding: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'p' },
    };
    const [created]: any[] = await api.batchCreate([{ ...evs, body }]);
    await api.delete({ ...evs, name: 'ce.1' });
    await waitFor('the ADDED and DELETED change events', () => got.length >= 2, 5000);
    sub.unsubscribe();
    assert.deepEqual(got.map((e) => [e.type, e.object.apiVersion, e.object.note, e.object.reportingController, e.object.regarding?.name]), [
      ['ADDED', 'events.k8s.io/v1', body.note, 'default-scheduler', 'p'],
      ['DELETED', 'events.k8s.io/v1', body.note, 'default-scheduler', 'p'],
    ]);
    assert.deepEqual(got[0].object, created);
  });

  it('watch events and change events of batch writes carry the objects as written and as read back', async () => {
    const sel = { labelSelector: 'json=splice' };
    const from: any = await api.list(pods, { limit: 1 });
    const w = api.watch<any>(pods, { ...sel, resourceVersion: from.metadata.resourceVersion });
    const seen: any[] = [];
    const changes: any[] = [];
    const sub = nc.subscribe('flotilla.events.pods.default.>', {
      callback: (_e, m) => void changes.push(JSON.parse(new TextDecoder().decode(m.data))),
    });
    await nc.flush();
    const reading = (async () => {
      for await (const ev of w) seen.push(ev);
    })();
    try {
      const names = ['js1', 'js2', 'js3'];
      const created: any[] = await api.batchCreate(names.map((n) => ({ ...pods, body: { ...pod(n), metadata: { name: n, labels: { json: 'splice' }, annotations: { note: 'é "q" \\' } } } })));
      const bound = await api.batchBind(names.map((n) => ({ namespace: 'default', name: n, node: 'n1' })));
      assert.deepEqual(bound.map((r: any) => r.status), ['Success', 'Success', 'Success']);
      await waitFor('3 ADDED and 3 MODIFIED watch events', () => seen.length >= 6, 10_000);
      for (const [i, n] of names.entries()) {
        const added = seen.find((e) => e.type === 'ADDED' && e.object.metadata.name === n);
        assert.deepEqual(added.object, created[i]);
        const modified = seen.find((e) => e.type === 'MODIFIED' && e.object.metadata.name === n);
        assert.deepEqual(modified.object, await api.get({ ...pods, name: n }));
        assert.equal(modified.object.spec.nodeName, 'n1');
      }
      await waitFor('the change events', () => changes.filter((c) => c.object.metadata.labels?.json === 'splice').length >= 6, 10_000);
      for (const c of changes.filter((c) => c.object.metadata.labels?.json === 'splice')) {
        const match = seen.find((e) => e.type === c.type && e.object.metadata.resourceVersion === c.object.metadata.resourceVersion);
        assert.deepEqual(c.object, match?.object);
      }
    } finally {
      sub.unsubscribe();
      w.stop();
      await reading.catch(() => undefined);
    }
  });

  it('answers a single create, update and patch with the object as written and read back, as JSON.stringify writes it', async () => {
    const ask = async (verb: string, req: object): Promise<any> => {
      const text = new TextDecoder().decode((await nc.request(`flotilla.api.${verb}`, JSON.stringify(req), { timeout: 5000 })).data);
      const obj = JSON.parse(text);
      // the reply is spliced from the change event's bytes: byte for byte what JSON.stringify gives
      assert.equal(text, JSON.stringify(obj), `${verb} reply`);
      return obj;
    };
    const created = await ask('create', { ...pods, body: { ...pod('single1'), metadata: { name: 'single1', annotations: { note: 'é "q"' } } } });
    assert.deepEqual(created, await api.get<any>({ ...pods, name: 'single1' }));
    assert.ok(created.metadata.resourceVersion && created.metadata.uid && created.metadata.managedFields);
    const patched = await ask('patch', { ...pods, name: 'single1', patchType: 'merge', body: { metadata: { labels: { tier: 'db' } } } });
    assert.deepEqual(patched, await api.get<any>({ ...pods, name: 'single1' }));
    assert.equal(patched.metadata.labels.tier, 'db');
    const updated = await ask('update', { ...pods, name: 'single1', body: { ...patched, metadata: { ...patched.metadata, labels: { tier: 'web' } } } });
    assert.deepEqual(updated, await api.get<any>({ ...pods, name: 'single1' }));
    assert.equal(updated.metadata.labels.tier, 'web');
    assert.notEqual(updated.metadata.resourceVersion, patched.metadata.resourceVersion);
    const unchanged = await ask('patch', { ...pods, name: 'single1', patchType: 'merge', body: { metadata: { labels: { tier: 'web' } } } });
    assert.deepEqual(unchanged, updated, 'a no-op patch answers the object as it is');
    // a kind stored in another shape answers in its API version's shape
    const evs = { group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' };
    const ev = await ask('create', {
      ...evs,
      body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'single.1' }, eventTime: '2026-01-02T03:04:05.000000Z', reportingController: 'c', reportingInstance: 'c-1', action: 'Binding', reason: 'Scheduled', type: 'Normal', note: 'n', regarding: { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'single1' } },
    });
    assert.equal(ev.apiVersion, 'events.k8s.io/v1');
    assert.deepEqual(ev, await api.get<any>({ ...evs, name: 'single.1' }));
  });

  it('answers flotilla.api.discovery with the groups and resource lists the HTTP discovery serves', async () => {
    const http = async (path: string) => {
      const r = await call(s.httpUrl, 'GET', path);
      assert.equal(r.status, 200, `GET ${path}`);
      return r.body;
    };
    const d = await api.discovery();
    const list = (gv: string) => d.resources.find((l) => l.groupVersion === gv);
    const apps = await http('/apis/apps/v1');
    const core = await http('/api/v1');
    assert.deepEqual(list('apps/v1'), apps);
    assert.deepEqual(list('v1'), core);
    assert.ok(core.resources.some((r: any) => r.name === 'pods/status') && apps.resources.some((r: any) => r.name === 'deployments/scale'), 'subresources are listed as over HTTP');
    // every other served group version too, and nothing the HTTP discovery does not serve
    const apis = await http('/apis');
    assert.deepEqual(d.groups.groups[0], { name: '', versions: [{ groupVersion: 'v1', version: 'v1' }], preferredVersion: { groupVersion: 'v1', version: 'v1' } });
    assert.deepEqual((await http('/api')).versions, ['v1']);
    assert.deepEqual(d.groups.groups.slice(1), apis.groups);
    const served = d.groups.groups.flatMap((g) => g.versions.map((v) => v.groupVersion));
    assert.deepEqual(d.resources.map((l) => l.groupVersion), served);
    for (const gv of served) assert.deepEqual(list(gv), await http(gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`), gv);
  });

  it('answers a malformed request with a BadRequest Status instead of failing', async () => {
    const r = await nc.request('flotilla.api.get', new TextEncoder().encode('{not json'), { timeout: 5000 });
    const body = JSON.parse(new TextDecoder().decode(r.data));
    assert.equal(body.kind, 'Status');
    assert.equal(body.code, 400);
    const unknown = await nc.request('flotilla.api.get', new TextEncoder().encode('{"version":"v1","resource":"widgets","name":"x"}'), { timeout: 5000 });
    assert.equal(JSON.parse(new TextDecoder().decode(unknown.data)).code, 404);
  });

  it('refuses a list reply larger than the NATS max payload with 413 and a hint to page', async () => {
    const big = 'x'.repeat(300 * 1024);
    const cm = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    for (let i = 0; i < 4; i++) await api.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big${i}` }, data: { a: big } });
    await assert.rejects(api.list(cm), (e: any) => e.code === 413 && /limit/.test(e.message));
    const page: any = await api.list(cm, { limit: 2 });
    assert.equal(page.items.length, 2);
    assert.ok(page.metadata.continue);
  });

  it('cuts a paged list to the whole items that fit the NATS max payload, with a continue token, never failing on size', async () => {
    const max = nc.info!.max_payload;
    await api.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } });
    const cm = { group: '', version: 'v1', resource: 'configmaps', namespace: 'paged' };
    // 9 objects of a quarter of max_payload: three fit one reply, whatever the limit asks
    const names = Array.from({ length: 9 }, (_, i) => `page${i}`);
    for (const name of names) await api.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { paged: 'yes' } }, data: { a: 'z'.repeat(Math.floor(max / 4)) } });
    await assert.rejects(api.list(cm), (e: any) => e.code === 413 && /limit/.test(e.message), 'an unpaged list that does not fit stays a 413');
    for (const list of [{ limit: 500 }, { limit: 500, labelSelector: 'paged=yes' }]) {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cont: string | undefined;
      let first: any;
      do {
        const page: any = await api.list(cm, { ...list, continue: cont });
        first ??= page;
        sizes.push(page.items.length);
        seen.push(...page.items.map((o: any) => o.metadata.name));
        cont = page.metadata.continue || undefined;
      } while (cont);
      assert.deepEqual(seen, names, JSON.stringify(list));
      assert.deepEqual(sizes, [3, 3, 3]);
      // remainingItemCount only without selectors, as upstream
      assert.equal(first.metadata.remainingItemCount, list.labelSelector ? undefined : 6);
    }
    // a page that fits is not touched
    const small: any = await api.list(cm, { limit: 2 });
    assert.equal(small.items.length, 2);
    assert.equal(small.metadata.remainingItemCount, 7);
  });

  it('answers a batch that asks for outcomes alone with null for each success and each Failure in place', async () => {
    const ask = async (op: string, body: unknown) => {
      const m = await nc.request(`flotilla.api.batch.${op}`, JSON.stringify(body), { timeout: 10_000 });
      return JSON.parse(new TextDecoder().decode(m.data)).results as any[];
    };
    const created = await ask('create', { outcomes: true, items: [{ ...pods, body: pod('oc1') }, { ...pods, body: pod('Bad_Name') }, { ...pods, body: pod('oc2') }] });
    assert.deepEqual(created.map((r) => r?.reason ?? r), [null, 'Invalid', null]);
    assert.equal(((await api.get({ ...pods, name: 'oc1' })) as any).metadata.name, 'oc1', 'the item answered null was created');
    const patched = await ask('patch', { outcomes: true, items: [{ ...pods, name: 'oc1', patchType: 'merge', body: { metadata: { labels: { o: 'c' } } } }, { ...pods, name: 'nope', patchType: 'merge', body: {} }] });
    assert.deepEqual(patched.map((r) => r?.reason ?? r), [null, 'NotFound']);
    assert.equal(((await api.get({ ...pods, name: 'oc1' })) as any).metadata.labels.o, 'c');
    const bound = await ask('bind', { outcomes: true, items: [{ namespace: 'default', name: 'oc1', node: 'n1' }, { namespace: 'default', name: 'oc1', node: 'n2' }] });
    assert.deepEqual(bound.map((r) => r?.reason ?? r), [null, 'Conflict']);
    // without the option the reply carries the objects and Statuses (unchanged)
    const full = await ask('bind', { items: [{ namespace: 'default', name: 'oc2', node: 'n1' }] });
    assert.equal(full[0].status, 'Success');
    const bad = JSON.parse(new TextDecoder().decode((await nc.request('flotilla.api.batch.create', JSON.stringify({ outcomes: 'yes', items: [] }), { timeout: 10_000 })).data));
    assert.deepEqual([bad.status, bad.reason], ['Failure', 'BadRequest']);
  });

  it('a watch that asks to omit managedFields gets every event without them, in order; a watch without the option gets them', async () => {
    const from: any = await api.list(pods, { limit: 1 });
    // raw watches, so the frames are read as the apiserver sent them (ApiClient would cut them itself)
    const open = (omit: unknown) => {
      const frames: Buffer[] = [];
      const inbox = `_INBOX.omit-test.${Math.random().toString(36).slice(2)}`;
      const sub = nc.subscribe(inbox, { callback: (_e, m) => void frames.push(Buffer.from(m.data)) });
      const req = { group: '', version: 'v1', resource: 'pods', namespace: 'default', list: { labelSelector: 'mf=omit', resourceVersion: from.metadata.resourceVersion }, ...(omit === undefined ? {} : { omitManagedFields: omit }) };
      nc.publish('flotilla.api.watch', JSON.stringify(req), { reply: inbox });
      const events = () => frames.flatMap((f) => (JSON.parse(f.toString('utf8')) as any).events ?? []);
      const stop = () => {
        const control = frames.length ? (JSON.parse(frames[0]!.toString('utf8')) as any).control : undefined;
        if (control) nc.publish(control, 'stop');
        sub.unsubscribe();
      };
      return { frames, events, stop };
    };
    const omitting = open(true);
    const full = open(undefined);
    // a second watcher with the same options: sent the same frames as the first (made once)
    const omittingToo = open(true);
    const refused = open('yes');
    try {
      const names = ['mf1', 'mf2', 'mf3'];
      await api.batchCreate(names.map((n) => ({ ...pods, body: { ...pod(n), metadata: { name: n, labels: { mf: 'omit' } } } })));
      await api.batchBind(names.map((n) => ({ namespace: 'default', name: n, node: 'n1' })));
      await api.patch({ ...pods, name: 'mf2' }, 'merge', { metadata: { labels: { more: 'x' } } });
      await api.delete({ ...pods, name: 'mf3' }, { gracePeriodSeconds: 0 });
      await waitFor('every event on the watches', () => omitting.events().length >= 8 && full.events().length >= 8 && omittingToo.events().length >= 8, 10_000);
      const first = (w: { frames: Buffer[] }) => JSON.parse(w.frames[0]!.toString('utf8'));
      assert.equal(first(omitting).managedFieldsOmitted, true, 'the first frame says managedFields are left out');
      assert.equal(first(full).managedFieldsOmitted, undefined);
      const want = full.events();
      assert.ok(want.every((e: any) => Array.isArray(e.object.metadata.managedFields)), 'without the option the objects carry managedFields');
      assert.ok(omitting.frames.every((f) => !f.includes('"managedFields"')), 'no frame carries managedFields');
      // the same events in the same order, each object whole but for its managedFields
      const stripped = want.map((e: any) => {
        const { managedFields: _mf, ...metadata } = e.object.metadata;
        return { ...e, object: { ...e.object, metadata } };
      });
      assert.deepEqual(omitting.events(), stripped);
      assert.deepEqual(omittingToo.events(), stripped);
      assert.deepEqual(
        omitting.events().map((e: any) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED mf1', 'ADDED mf2', 'ADDED mf3', 'MODIFIED mf1', 'MODIFIED mf2', 'MODIFIED mf3', 'MODIFIED mf2', 'DELETED mf3'],
      );
      await waitFor('the refusal', () => refused.frames.length > 0, 10_000);
      const refusal = JSON.parse(refused.frames[0]!.toString('utf8'));
      assert.equal(refusal.done, true);
      assert.equal(refusal.error.reason, 'BadRequest');
    } finally {
      omitting.stop();
      full.stop();
      omittingToo.stop();
      refused.stop();
    }
  });

  it('cuts watch frames of many small events below MAX_DECODED_MESSAGE_BYTES (the decoder\'s large-string cost), losing none', async () => {
    const cm = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    const from: any = await api.list(cm, { limit: 1 });
    // 300 x ~1.2 kB, replayed from an older resourceVersion in one flush: ~360 kB, under 512 events
    const items = Array.from({ length: 300 }, (_, i) => ({ ...cm, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `small${i}`, labels: { frames: 'small' } }, data: { a: 'z'.repeat(1200) } } }));
    for (const r of await api.batchCreate(items)) assert.ok(!(r instanceof Error), String(r));
    const inbox = createInbox();
    const sizes: number[] = [];
    const names = new Set<string>();
    const sub = nc.subscribe(inbox, {
      callback: (_e, m) => {
        sizes.push(m.data.length);
        for (const ev of (m.json<{ events?: Array<{ object: { metadata: { name: string } } }> }>().events ?? [])) names.add(ev.object.metadata.name);
      },
    });
    nc.publish('flotilla.api.watch', JSON.stringify({ ...cm, verb: 'watch', list: { labelSelector: 'frames=small', resourceVersion: from.metadata.resourceVersion } }), { reply: inbox });
    try {
      await waitFor('every replayed event', () => names.size === 300, 10_000);
      assert.ok(sizes.length >= 4, `${sizes.length} frames`);
      for (const n of sizes) assert.ok(n <= MAX_DECODED_MESSAGE_BYTES, `a frame of ${n} bytes`);
    } finally {
      sub.unsubscribe();
    }
  });

  it('splits watch events larger together than the NATS max payload into frames that fit, losing none', async () => {
    const cm = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
    const from: any = await api.list(cm, { limit: 1 });
    const names = Array.from({ length: 8 }, (_, i) => `frame${i}`);
    // 8 x 200 KB: replayed from an older resourceVersion, all in one flush of the watch
    for (const name of names) await api.create(cm, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { frames: 'split' } }, data: { a: 'y'.repeat(200 * 1024) } });
    const w = api.watch<any>(cm, { labelSelector: 'frames=split', resourceVersion: from.metadata.resourceVersion });
    const seen = new Set<string>();
    let failure: unknown;
    const reading = (async () => {
      for await (const ev of w) if (ev.type === 'ADDED') seen.add(ev.object.metadata.name);
    })().catch((e) => (failure = e));
    try {
      await waitFor('every replayed ADDED event', () => failure === undefined && seen.size === names.length, 10_000);
      assert.equal(failure, undefined);
    } finally {
      w.stop();
      await reading;
    }
  });
});
