import assert from 'node:assert/strict';
import { connectedApiServer, watchLines, type ConnectedApiServer } from '../../test/apiserver.js';
import { JsonPacker, PackDictionary, type Unpacker } from './packedjson.js';

/** a pod as the scheduler bench makes them, bound and running */
function benchPod(i: number): object {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: `pod-${i.toString(36)}`,
      generateName: 'pod-',
      namespace: 'namespace-1',
      uid: `0b6f${i.toString(16).padStart(4, '0')}-8d1c-4c1e-9a7e-${(i * 7919).toString(16).padStart(12, '0')}`,
      resourceVersion: String(100_000 + i * 3),
      creationTimestamp: `2026-12-05T05:${String(i % 60).padStart(2, '0')}:00Z`,
    },
    spec: {
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '100m', memory: '500Mi' }, requests: { cpu: '100m', memory: '500Mi' } } }],
      nodeName: `node-${(i * 31) % 5000}`,
      schedulerName: 'default-scheduler',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-12-05T05:10:01Z' }], podIP: `10.1.${i % 256}.${(i >> 8) % 256}` },
  };
}

function benchEvent(i: number): object {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: `pod-${i.toString(36)}.1800${i}`, namespace: 'namespace-1', uid: `e${i}`, resourceVersion: String(i), creationTimestamp: '2026-12-05T05:10:01Z' },
    involvedObject: { kind: 'Pod', namespace: 'namespace-1', name: `pod-${i.toString(36)}`, uid: `u${i}`, apiVersion: 'v1', resourceVersion: String(i - 1) },
    reason: 'Scheduled',
    message: `Successfully assigned namespace-1/pod-${i.toString(36)} to node-${i % 5000}`,
    source: { component: 'default-scheduler' },
    type: 'Normal',
    count: 1,
  };
}

describe('packed JSON', () => {
  it('gives back every text it packed, byte for byte', () => {
    const packer = new JsonPacker();
    const big = JSON.stringify({ data: Array.from({ length: 5000 }, (_, i) => ({ i, s: `value ${i * 7919}` })) });
    const texts = [
      JSON.stringify(benchPod(1)),
      '{}',
      '[]',
      '""',
      JSON.stringify({ metadata: {} }),
      JSON.stringify({ u: 'ä€😀 \u0000 \\ "q" \ud800', e: '' }),
      big,
      JSON.stringify(benchPod(2)),
    ];
    for (const text of texts) {
      const packed = packer.pack(text);
      if (packed) {
        assert.ok(packed.bytes.length < text.length, `packed only when smaller (${packed.bytes.length} < ${text.length})`);
        assert.equal(packed.dictionary.inflate(packed.bytes), text);
      }
    }
    // a text longer than the dictionary and than zlib's window
    const packed = packer.pack(big)!;
    assert.ok(big.length > 100_000 && packed.bytes.length < big.length / 3);
    assert.equal(packed.dictionary.inflate(packed.bytes), big);
  });

  it('copies from the dictionary and keeps literals of any code unit: non-ASCII, astral, lone surrogates', () => {
    const shared = 'a run of text long enough to be copied from the dictionary';
    const d = new PackDictionary(JSON.stringify({ a: `ä€😀 ${shared}`, b: '\ud800 lone', c: 'x'.repeat(100), n: 12345 }));
    const texts = [
      JSON.stringify({ a: `ä€😀 ${shared}`, b: '\ud800 lone', c: 'x'.repeat(100), n: 12346 }),
      JSON.stringify({ z: `${shared}😀\udc00${shared}€`, c: 'x'.repeat(300) }),
      JSON.stringify({ only: 'literals ünd 😀 \ud801' }),
      '',
      'x',
    ];
    for (const t of texts) assert.equal(d.inflate(d.deflate(t)), t);
    assert.ok(d.deflate(texts[0]).length * 5 < texts[0].length, 'a text like the dictionary is mostly copies');
    assert.ok(d.deflate(texts[1]).length * 2 < texts[1].length, 'copies longer than the dictionary holds them are cut into several');
  });

  it('leaves a text that would not be smaller as it is', () => {
    const packer = new JsonPacker();
    packer.pack(JSON.stringify(benchPod(1)));
    assert.equal(packer.pack('{}'), undefined);
  });

  it('packs a bench pod to a tenth of its text against a dictionary of its resource', () => {
    const pods = new JsonPacker();
    const events = new JsonPacker();
    pods.pack(JSON.stringify(benchPod(0)));
    events.pack(JSON.stringify(benchEvent(0)));
    const pod = JSON.stringify(benchPod(12345));
    const event = JSON.stringify(benchEvent(12345));
    const podPacked = pods.pack(pod)!;
    const eventPacked = events.pack(event)!;
    assert.ok(podPacked.bytes.length * 10 < pod.length, `a pod: ${pod.length} B packed to ${podPacked.bytes.length} B`);
    assert.ok(eventPacked.bytes.length * 4 < event.length, `an event: ${event.length} B packed to ${eventPacked.bytes.length} B`);
    // the other resource's dictionary does not serve as well: each resource has its own
    assert.ok(events.current!.deflate(pod).length > 2 * podPacked.bytes.length);
    assert.ok(pods.current!.deflate(event).length > 2 * eventPacked.bytes.length);
  });

  it('keeps a text readable after its resource picked a newer dictionary', () => {
    const packer = new JsonPacker();
    const first = JSON.stringify({ kind: 'First', spec: { x: 'a'.repeat(300) } });
    const early = packer.pack(first)!;
    const dictionaries = new Set<Unpacker | undefined>([packer.current]);
    const texts = Array.from({ length: 5000 }, (_, i) => JSON.stringify(benchPod(i)));
    const packed = texts.map((t) => {
      const p = packer.pack(t)!;
      dictionaries.add(p.dictionary);
      return p;
    });
    assert.ok(dictionaries.size >= 3, `dictionaries picked: ${dictionaries.size}`);
    assert.equal(early.dictionary.inflate(early.bytes), first);
    for (const [i, p] of packed.entries()) assert.equal(p.dictionary.inflate(p.bytes), texts[i]);
  });

  it('a dictionary longer than its cap is cut, and still packs and unpacks', () => {
    const d = new PackDictionary(JSON.stringify({ pad: 'x'.repeat(20_000), tail: 'y' }));
    const text = JSON.stringify({ pad: 'x'.repeat(50), ok: '€' });
    assert.equal(d.inflate(d.deflate(text)), text);
  });
});

describe('the watch cache with packed objects', () => {
  let conn: ConnectedApiServer;
  const cms = { group: '', version: 'v1', resource: 'configmaps', namespace: 'default' };
  const template = { 'config.yaml': 'a: 1\n'.repeat(200), note: 'shared by every object ' };
  const cm = (i: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `packed-${i}`, labels: { packed: 'yes' }, annotations: { u: `ä€ ${i}` } }, data: { ...template, own: `value ${i * 7919}` } });
  const N = 8;
  before(async () => {
    conn = await connectedApiServer('packedjson-test', { watchCacheSize: 4, endpointReconcilerType: 'none' });
  });
  after(() => conn?.stop());

  const text = async (path: string) => {
    const res = await fetch(conn.server.httpUrl + path);
    assert.equal(res.status, 200, path);
    return res.text();
  };
  const listItems = (body: string) => body.slice(body.indexOf('"items":'));
  const frozenEntries = () => [...conn.server.cache.list('configmaps', 'default')].filter((c) => c.name.startsWith('packed-'));

  it('serves get, list and watch of frozen objects byte for byte as it served them parsed', async () => {
    const base = '/api/v1/namespaces/default/configmaps';
    const created: any[] = [];
    for (let i = 0; i < N; i++) created.push(await conn.client.create(cms, cm(i)));
    await conn.server.cache.waitConsistent();
    // the last ones are still in the ring (parsed): read them hot
    const hotGets = [];
    for (let i = N - 2; i < N; i++) hotGets.push(await text(`${base}/packed-${i}`));
    const hotList = await text(`${base}?labelSelector=packed%3Dyes`);
    const hotWatch = await watchLines(`${conn.server.httpUrl}${base}?watch=1&resourceVersion=0&labelSelector=packed%3Dyes`, N);
    assert.equal(hotWatch.length, N);

    // push every one of them out of the ring
    for (let i = 0; i < 6; i++) await conn.client.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `push-${i}` }, data: { k: 'v' } });
    await conn.server.cache.waitConsistent();
    const entries = frozenEntries();
    assert.equal(entries.length, N);
    for (const c of entries) {
      const e = c as unknown as { frozen: boolean; text: string; json: string };
      assert.ok(e.frozen, `${c.name} is frozen`);
      assert.equal(e.json, JSON.stringify(created[Number(c.name.slice('packed-'.length))]));
      assert.ok(e.text.length * 3 < e.json.length, `${c.name} is kept packed: ${e.text.length} B for ${e.json.length} B of JSON`);
    }

    assert.equal(listItems(await text(`${base}?labelSelector=packed%3Dyes`)), listItems(hotList));
    assert.deepEqual(await watchLines(`${conn.server.httpUrl}${base}?watch=1&resourceVersion=0&labelSelector=packed%3Dyes`, N), hotWatch);
    const coldGets = [];
    for (let i = N - 2; i < N; i++) coldGets.push(await text(`${base}/packed-${i}`));
    assert.deepEqual(coldGets, hotGets);
    for (let i = 0; i < N; i++) assert.deepEqual(JSON.parse(await text(`${base}/packed-${i}`)), created[i]);
  });

  it('a frozen object changed or deleted gives its watchers the state it was kept in', async () => {
    await conn.client.create(cms, cm(100));
    await conn.client.create(cms, cm(101));
    for (let i = 0; i < 4; i++) await conn.client.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `push-again-${i}` }, data: { k: 'v' } });
    await conn.server.cache.waitConsistent();
    const before = frozenEntries().find((c) => c.name === 'packed-100')!;
    assert.ok((before as unknown as { frozen: boolean }).frozen);
    const kept = JSON.parse(before.json!);
    const from = await conn.server.cache.waitConsistent();
    const seen: any[] = [];
    const unsubscribe = conn.server.cache.subscribe('configmaps', from, (ev) => seen.push(ev));
    try {
      await conn.client.delete({ ...cms, name: 'packed-100' });
      await conn.server.cache.waitConsistent();
    } finally {
      unsubscribe();
    }
    const deleted = seen.find((ev) => ev.type === 'DELETED' && ev.name === 'packed-100');
    assert.deepEqual(deleted.prev, kept);
    assert.deepEqual({ ...deleted.obj, metadata: { ...deleted.obj.metadata, resourceVersion: kept.metadata.resourceVersion } }, kept);
    assert.equal(conn.server.cache.revisionOf('configmaps', 'default', 'packed-100'), undefined);
    const other = frozenEntries().find((c) => c.name === 'packed-101')!;
    assert.equal(conn.server.cache.revisionOf('configmaps', 'default', 'packed-101'), other.revision);
    assert.ok((other as unknown as { frozen: boolean }).frozen, 'revisionOf leaves a frozen object frozen');
  });
});
