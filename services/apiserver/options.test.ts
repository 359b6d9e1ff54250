import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { StatusError } from '../../lib/api/errors.js';
import { API_PREFIX, type ApiRequest, type Verb } from '../../lib/client/protocol.js';
import { STATUS_CODE_HEADER } from './nats.js';
import { call, connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';

/**
 * Every list and delete option on every verb that takes it, over HTTP (query parameters,
 * a DeleteOptions body) and NATS (the request's `list` and `delete`): what upstream
 * honours is honoured, what it rejects is rejected with its code, reason and message.
 */

const NS = 'opt-test';
const CM = { group: '', version: 'v1', resource: 'configmaps', namespace: NS };
const PODS = { group: '', version: 'v1', resource: 'pods', namespace: NS };
const HOLD = 'example.com/hold';

type Transport = 'HTTP' | 'NATS';
type OptVerb = Extract<Verb, 'get' | 'list' | 'watch' | 'delete' | 'deletecollection'>;

interface Outcome {
  code: number;
  body: any;
  /** watch: the events received before the stream ended or the wait ran out */
  events?: any[];
  /** watch: the server ended the stream */
  ended?: boolean;
}

interface Sent {
  /** list options: query parameters over HTTP, `list` over NATS */
  list?: Record<string, unknown>;
  /** delete options: query parameters over HTTP, `delete` over NATS */
  delete?: Record<string, unknown>;
  /** HTTP only: the DeleteOptions request body (then the query's delete options are not read, as upstream) */
  body?: unknown;
  /** the object a get, a delete or a named watch is about */
  name?: string;
  resource?: typeof CM;
}

function toQuery(...parts: Array<Record<string, unknown> | undefined>): string {
  const q = new URLSearchParams();
  for (const p of parts) for (const [k, v] of Object.entries(p ?? {})) for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
  const s = q.toString();
  return s ? `?${s}` : '';
}

describe('list and delete options per verb and transport, as upstream', () => {
  let api: ConnectedApiServer;
  let n = 0;
  const fresh = () => `o${n++}`;

  before(async () => {
    api = await connectedApiServer('options-test');
    await api.client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(() => api?.stop());

  const configMap = (name: string, labels: Record<string, string> = {}, finalizers?: string[]) =>
    api.client.create<any>(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels, finalizers } });
  const exists = async (name: string, ref = CM) => {
    try {
      return await api.client.get<any>({ ...ref, name });
    } catch {
      return undefined;
    }
  };

  async function send(t: Transport, verb: OptVerb, s: Sent, waitMs = 600): Promise<Outcome> {
    const ref = s.resource ?? CM;
    if (t === 'HTTP') {
      const base = `/api/v1/namespaces/${NS}/${ref.resource}${s.name ? `/${s.name}` : ''}`;
      if (verb === 'watch') {
        const ctrl = new AbortController();
        const res = await fetch(`${api.server.httpUrl}${base}${toQuery({ watch: 'true' }, s.list)}`, { signal: ctrl.signal });
        if (res.status !== 200) return { code: res.status, body: await res.json() };
        const events: any[] = [];
        let ended = false;
        const timer = setTimeout(() => ctrl.abort(), waitMs);
        try {
          let text = '';
          for await (const chunk of res.body as any) {
            text += Buffer.from(chunk).toString();
            let i;
            while ((i = text.indexOf('\n')) >= 0) {
              events.push(JSON.parse(text.slice(0, i)));
              text = text.slice(i + 1);
            }
          }
          ended = true;
        } catch {
          /* aborted: the wait ran out */
        } finally {
          clearTimeout(timer);
        }
        return { code: 200, body: undefined, events, ended };
      }
      const method = verb === 'delete' || verb === 'deletecollection' ? 'DELETE' : 'GET';
      const query = method === 'DELETE' ? toQuery(verb === 'deletecollection' ? s.list : undefined, s.delete) : toQuery(s.list);
      const r = await call(api.server.httpUrl, method, base + query, s.body);
      return { code: r.status, body: r.body };
    }
    if (verb === 'watch') {
      const w = api.client.watch({ ...ref, name: s.name }, s.list as any);
      const events: any[] = [];
      let ended = false;
      const timer = setTimeout(() => w.stop(), waitMs);
      try {
        for await (const ev of w) events.push(ev);
        ended = true;
      } catch (e) {
        if (e instanceof StatusError) return { code: e.code, body: e.toStatus() };
        throw e;
      } finally {
        clearTimeout(timer);
      }
      return { code: 200, body: undefined, events, ended };
    }
    // the wire reply itself, as a NATS user of any language reads it
    const req: Omit<ApiRequest, 'verb'> = { ...ref, name: s.name, list: s.list as ApiRequest['list'], delete: s.delete as ApiRequest['delete'] };
    const msg = await api.nc.request(`${API_PREFIX}.${verb}`, JSON.stringify(req), { timeout: 10_000 });
    const reply = msg.json<any>();
    const header = Number(msg.headers?.get(STATUS_CODE_HEADER) || 200);
    return { code: reply?.kind === 'Status' && reply.status === 'Failure' ? reply.code : header, body: reply };
  }

  // ---- what upstream rejects

  interface Rejection {
    what: string;
    verbs: OptVerb[];
    /** the options, typed as a NATS client sends them (HTTP sends each as a query string) */
    sent: Sent;
    code: number;
    reason: string;
    /** the message; a function of the transport where the two decode differently */
    message: string | ((t: Transport) => string);
    /** this transport only (the form does not exist on the other) */
    only?: Transport;
  }

  const listInvalid = (body: string) => `ListOptions.meta.k8s.io "" is invalid: ${body}`;
  const deleteInvalid = (body: string) => `DeleteOptions.meta.k8s.io "" is invalid: ${body}`;
  const rejections: Rejection[] = [
    {
      what: 'resourceVersionMatch without resourceVersion',
      verbs: ['list', 'deletecollection'],
      sent: { list: { resourceVersionMatch: 'NotOlderThan' } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'),
    },
    {
      what: 'an unknown resourceVersionMatch',
      verbs: ['list', 'deletecollection'],
      sent: { list: { resourceVersion: '1', resourceVersionMatch: 'Newest' } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid('resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'),
    },
    {
      what: 'resourceVersionMatch=Exact with resourceVersion=0',
      verbs: ['list', 'deletecollection'],
      sent: { list: { resourceVersion: '0', resourceVersionMatch: 'Exact' } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid('resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
    },
    {
      what: 'resourceVersionMatch with continue',
      verbs: ['list', 'deletecollection'],
      sent: { list: { resourceVersion: '1', resourceVersionMatch: 'NotOlderThan', continue: 'abc' } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided'),
    },
    {
      what: 'sendInitialEvents without watch',
      verbs: ['list', 'deletecollection'],
      sent: { list: { sendInitialEvents: true } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid('sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'),
    },
    {
      what: 'sendInitialEvents without resourceVersionMatch=NotOlderThan',
      verbs: ['watch'],
      sent: { list: { sendInitialEvents: true } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid('resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'),
    },
    {
      what: 'resourceVersionMatch on a watch without sendInitialEvents',
      verbs: ['watch'],
      sent: { list: { resourceVersion: '1', resourceVersionMatch: 'NotOlderThan' } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'),
    },
    {
      what: 'resourceVersionMatch=Exact on a watch',
      verbs: ['watch'],
      sent: { list: { sendInitialEvents: true, resourceVersionMatch: 'Exact' } },
      code: 422,
      reason: 'Invalid',
      message: listInvalid(
        '[resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]',
      ),
    },
    {
      what: 'a label selector that does not parse',
      verbs: ['list', 'watch', 'deletecollection'],
      sent: { list: { labelSelector: 'a in (b' } },
      code: 400,
      reason: 'BadRequest',
      message: "unable to parse requirement: found '', expected: ',' or ')'",
    },
    {
      what: 'a field selector on a field the kind does not select by',
      verbs: ['list', 'watch', 'deletecollection'],
      sent: { list: { fieldSelector: 'data.a=1' } },
      code: 400,
      reason: 'BadRequest',
      message: 'field label not supported: data.a',
    },
    {
      what: 'a limit that is not an integer',
      verbs: ['list', 'deletecollection'],
      sent: { list: { limit: 'ten' } },
      code: 400,
      reason: 'BadRequest',
      message: (t) =>
        t === 'HTTP' ? 'strconv.ParseInt: parsing "ten": invalid syntax' : 'json: cannot unmarshal string into Go struct field ListOptions.limit of type int64',
    },
    {
      what: 'a timeoutSeconds that is not an integer',
      verbs: ['watch'],
      sent: { list: { timeoutSeconds: 'soon' } },
      code: 400,
      reason: 'BadRequest',
      message: (t) =>
        t === 'HTTP'
          ? 'strconv.ParseInt: parsing "soon": invalid syntax'
          : 'json: cannot unmarshal string into Go struct field ListOptions.timeoutSeconds of type int64',
    },
    {
      what: 'a continue token that does not decode',
      verbs: ['list', 'deletecollection'],
      sent: { list: { continue: '!!' } },
      code: 400,
      reason: 'BadRequest',
      message: 'invalid continue token: continue key is not valid: illegal base64 data or unknown version',
    },
    {
      what: 'continue with a resourceVersion',
      verbs: ['list'],
      sent: { list: { continue: 'x', resourceVersion: '5' } },
      code: 400,
      reason: 'BadRequest',
      message: 'specifying resource version is not allowed when using continue',
    },
    {
      what: 'a resourceVersion that is not a number (get, list: storage error, no reason)',
      verbs: ['get', 'list'],
      sent: { name: 'anything', list: { resourceVersion: 'abc' } },
      code: 500,
      reason: '',
      message: 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
    },
    {
      what: 'a resourceVersion that is not a number (watch)',
      verbs: ['watch'],
      sent: { list: { resourceVersion: 'abc' } },
      code: 422,
      reason: 'Invalid',
      message: 'configmaps "" is invalid: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
    },
    {
      what: 'a field selector naming another object on a named watch',
      verbs: ['watch'],
      sent: { name: 'one', list: { fieldSelector: 'metadata.name=two' } },
      code: 400,
      reason: 'BadRequest',
      message: "fieldSelector metadata.name doesn't match requested name",
    },
    {
      what: 'an unknown propagationPolicy',
      verbs: ['delete', 'deletecollection'],
      sent: { name: 'anything', delete: { propagationPolicy: 'Cascade' } },
      code: 422,
      reason: 'Invalid',
      message: deleteInvalid('propagationPolicy: Unsupported value: "Cascade": supported values: "Foreground", "Background", "Orphan", "nil"'),
    },
    {
      what: 'orphanDependents with a propagationPolicy',
      verbs: ['delete', 'deletecollection'],
      sent: { name: 'anything', delete: { orphanDependents: true, propagationPolicy: 'Orphan' } },
      code: 422,
      reason: 'Invalid',
      message: deleteInvalid('propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set'),
    },
    {
      what: 'a dryRun other than All',
      verbs: ['delete', 'deletecollection'],
      sent: { name: 'anything', delete: { dryRun: ['Maybe'] } },
      code: 422,
      reason: 'Invalid',
      message: deleteInvalid('dryRun: Unsupported value: []string{"Maybe"}: supported values: "All"'),
    },
    {
      what: 'a gracePeriodSeconds that is not an integer',
      verbs: ['delete', 'deletecollection'],
      sent: { name: 'anything', delete: { gracePeriodSeconds: 'now' } },
      code: 400,
      reason: 'BadRequest',
      message: (t) =>
        t === 'HTTP'
          ? 'strconv.ParseInt: parsing "now": invalid syntax'
          : 'json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64',
    },
    {
      what: 'a DeleteOptions body with a gracePeriodSeconds that is not an integer',
      verbs: ['delete', 'deletecollection'],
      sent: { name: 'anything', body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 'now' } },
      code: 400,
      reason: 'BadRequest',
      message: 'json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64',
      only: 'HTTP',
    },
    {
      what: 'a DeleteOptions body with an unknown propagationPolicy',
      verbs: ['delete', 'deletecollection'],
      sent: { name: 'anything', body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Cascade' } },
      code: 422,
      reason: 'Invalid',
      message: deleteInvalid('propagationPolicy: Unsupported value: "Cascade": supported values: "Foreground", "Background", "Orphan", "nil"'),
      only: 'HTTP',
    },
  ];

  for (const t of ['HTTP', 'NATS'] as const) {
    for (const r of rejections) {
      if (r.only && r.only !== t) continue;
      for (const verb of r.verbs) {
        it(`${t} ${verb}: rejects ${r.what} (${r.code})`, async () => {
          // a bystander: a rejected delete or deletecollection must delete nothing
          const bystander = fresh();
          await configMap(bystander, { bystander: 'yes' });
          const sent = verb === 'delete' ? { ...r.sent, name: bystander } : verb === 'get' || verb === 'watch' ? r.sent : { ...r.sent, name: undefined };
          const o = await send(t, verb, sent);
          assert.equal(o.code, r.code, JSON.stringify(o.body));
          assert.equal(o.body.kind, 'Status');
          assert.equal(o.body.reason ?? '', r.reason);
          assert.equal(o.body.message, typeof r.message === 'function' ? r.message(t) : r.message);
          if (r.code === 422) assert.ok(o.body.details?.causes?.length, 'field causes');
          assert.ok(await exists(bystander), 'nothing was deleted');
        });
      }
    }
  }

  // ---- what upstream honours

  it('HTTP delete: a DeleteOptions body in YAML or protobuf is read as upstream reads it; another media type is a 415', async () => {
    const base = `/api/v1/namespaces/${NS}/configmaps`;
    const yaml = fresh();
    await configMap(yaml, {}, [HOLD]);
    const y = await call(api.server.httpUrl, 'DELETE', `${base}/${yaml}`, 'apiVersion: v1\nkind: DeleteOptions\npropagationPolicy: Orphan\n', { 'content-type': 'application/yaml' });
    assert.equal(y.status, 200, JSON.stringify(y.body));
    assert.deepEqual((await exists(yaml)).metadata.finalizers, [HOLD, 'orphan']);

    // what client-go sends with protobuf: "k8s\0" + runtime.Unknown{typeMeta, raw: DeleteOptions}
    const opts = protobuf.Writer.create();
    opts.uint32((4 << 3) | 2).string('Foreground');
    const typeMeta = protobuf.Writer.create().uint32((1 << 3) | 2).string('v1').uint32((2 << 3) | 2).string('DeleteOptions').finish();
    const unknown = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(typeMeta).uint32((2 << 3) | 2).bytes(opts.finish()).finish();
    const pb = fresh();
    await configMap(pb, {}, [HOLD]);
    const body = Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...unknown]);
    const p = await call(api.server.httpUrl, 'DELETE', `${base}/${pb}`, body, { 'content-type': 'application/vnd.kubernetes.protobuf' });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.deepEqual((await exists(pb)).metadata.finalizers, [HOLD, 'foregroundDeletion']);

    const set = fresh();
    await configMap(`${set}-a`, { set }, [HOLD]);
    const c = await call(api.server.httpUrl, 'DELETE', `${base}?labelSelector=set%3D${set}`, 'propagationPolicy: Orphan\n', { 'content-type': 'application/yaml' });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.deepEqual((await exists(`${set}-a`)).metadata.finalizers, [HOLD, 'orphan']);

    const bystander = fresh();
    await configMap(bystander);
    const bad = await call(api.server.httpUrl, 'DELETE', `${base}/${bystander}`, 'propagationPolicy=Orphan', { 'content-type': 'text/plain' });
    assert.equal(bad.status, 415, JSON.stringify(bad.body));
    assert.equal(bad.body.reason, 'UnsupportedMediaType');
    assert.ok(await exists(bystander), 'nothing was deleted');
  });

  for (const t of ['HTTP', 'NATS'] as const) {
    it(`${t} list: labelSelector, fieldSelector, limit and continue`, async () => {
      const set = fresh();
      for (const x of ['a', 'b', 'c']) await configMap(`${set}-${x}`, { set, x });
      const q = (list: Record<string, unknown>) => send(t, 'list', { list });
      const names = (o: Outcome) => o.body.items.map((i: any) => i.metadata.name);
      assert.deepEqual(names(await q({ labelSelector: `set=${set},x!=b` })), [`${set}-a`, `${set}-c`]);
      assert.deepEqual(names(await q({ labelSelector: `set=${set}`, fieldSelector: `metadata.name=${set}-b` })), [`${set}-b`]);
      const first = await q({ labelSelector: `set=${set}`, limit: 2 });
      assert.deepEqual(names(first), [`${set}-a`, `${set}-b`]);
      assert.ok(first.body.metadata.continue);
      assert.deepEqual(names(await q({ labelSelector: `set=${set}`, limit: 2, continue: first.body.metadata.continue })), [`${set}-c`]);
      const rv = first.body.metadata.resourceVersion;
      assert.equal((await q({ resourceVersion: rv, resourceVersionMatch: 'NotOlderThan', labelSelector: `set=${set}` })).body.items.length, 3);
      assert.equal((await q({ resourceVersion: '0', labelSelector: `set=${set}` })).body.items.length, 3);
    });

    it(`${t} get: list-only options are ignored, resourceVersion=0 is served`, async () => {
      const name = fresh();
      await configMap(name);
      // resourceVersion=0 reads the watch cache as it is, which may not have the create yet
      // (as upstream): a consistent read first waits until it has
      assert.ok(await exists(name));
      const o = await send(t, 'get', { name, list: { resourceVersion: '0', labelSelector: 'none=here', limit: 'ten', sendInitialEvents: true } });
      assert.equal(o.code, 200, JSON.stringify(o.body));
      assert.equal(o.body.metadata.name, name);
    });

    it(`${t} watch: selectors, sendInitialEvents with its bookmark, timeoutSeconds`, async () => {
      const set = fresh();
      await configMap(`${set}-a`, { set });
      await configMap(`${set}-b`, { set, skip: 'yes' });
      const o = await send(t, 'watch', {
        list: { labelSelector: `set=${set},!skip`, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, timeoutSeconds: 1 },
      }, 4000);
      assert.equal(o.code, 200, JSON.stringify(o.body));
      assert.ok(o.ended, 'timeoutSeconds ended the stream');
      assert.deepEqual(o.events!.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name), [`${set}-a`]);
      assert.ok(o.events!.some((e) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true'));
      // sendInitialEvents=false: only what happens from now on
      const later = await send(t, 'watch', { list: { labelSelector: `set=${set}`, sendInitialEvents: false, resourceVersionMatch: 'NotOlderThan' } }, 400);
      assert.deepEqual(later.events!.filter((e) => e.type === 'ADDED'), []);
    });

    it(`${t} delete: dryRun, preconditions, propagationPolicy, orphanDependents, gracePeriodSeconds`, async () => {
      const dry = fresh();
      await configMap(dry);
      assert.equal((await send(t, 'delete', { name: dry, delete: { dryRun: ['All'] } })).code, 200);
      assert.ok(await exists(dry), 'dryRun deletes nothing');

      const pre = fresh();
      await configMap(pre);
      const preconditions = { uid: '00000000-0000-0000-0000-000000000000' };
      const conflict = t === 'HTTP' ? await send(t, 'delete', { name: pre, body: { preconditions } }) : await send(t, 'delete', { name: pre, delete: { preconditions } });
      assert.equal(conflict.code, 409, JSON.stringify(conflict.body));
      assert.match(conflict.body.message, /Precondition failed: UID in precondition: 0{8}-/);

      const orphan = fresh();
      await configMap(orphan, {}, [HOLD]);
      await send(t, 'delete', { name: orphan, delete: { orphanDependents: true } });
      assert.deepEqual((await exists(orphan)).metadata.finalizers, [HOLD, 'orphan']);
      await send(t, 'delete', { name: orphan, delete: { propagationPolicy: 'Foreground' } });
      assert.deepEqual((await exists(orphan)).metadata.finalizers, [HOLD, 'foregroundDeletion']);

      // a pod on a node is deleted gracefully; a negative period is one second, as upstream
      const pod = fresh();
      await api.client.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } });
      await send(t, 'delete', { name: pod, resource: PODS, delete: { gracePeriodSeconds: -5 } });
      assert.equal((await exists(pod, PODS)).metadata.deletionGracePeriodSeconds, 1);
    });

    it(`${t} delete: orphanDependents=false on an object its finalizers hold answers 202 Accepted with the object, as upstream`, async () => {
      const held = fresh();
      await configMap(held, {}, [HOLD]);
      const o = await send(t, 'delete', { name: held, delete: { orphanDependents: false } });
      assert.equal(o.code, 202, JSON.stringify(o.body));
      assert.equal(o.body.metadata.name, held);
      assert.ok(o.body.metadata.deletionTimestamp);
      // only the deprecated orphanDependents=false asks for 202 (upstream keeps 200 for the rest)
      const other = fresh();
      await configMap(other, {}, [HOLD]);
      assert.equal((await send(t, 'delete', { name: other, delete: { propagationPolicy: 'Background' } })).code, 200);
      // gone at once: the Status, 200
      const free = fresh();
      await configMap(free);
      const gone = await send(t, 'delete', { name: free, delete: { orphanDependents: false } });
      assert.equal(gone.code, 200);
      assert.equal(gone.body.status, 'Success');
      // a deletecollection is 200 whatever it leaves pending
      const set = fresh();
      await configMap(`${set}-a`, { set }, [HOLD]);
      assert.equal((await send(t, 'deletecollection', { list: { labelSelector: `set=${set}` }, delete: { orphanDependents: false } })).code, 200);
    });

    it(`${t} deletecollection: limit deletes one page, dryRun deletes nothing, delete options reach every object`, async () => {
      const set = fresh();
      for (const x of ['a', 'b', 'c']) await configMap(`${set}-${x}`, { set }, [HOLD]);
      const dry = await send(t, 'deletecollection', { list: { labelSelector: `set=${set}` }, delete: { dryRun: ['All'] } });
      assert.equal(dry.body.items.length, 3);
      for (const x of ['a', 'b', 'c']) assert.ok(!(await exists(`${set}-${x}`)).metadata.deletionTimestamp, 'dryRun deleted nothing');
      const page = await send(t, 'deletecollection', { list: { labelSelector: `set=${set}`, limit: 1 }, delete: { propagationPolicy: 'Orphan' } });
      assert.deepEqual(page.body.items.map((i: any) => i.metadata.name), [`${set}-a`]);
      assert.ok(page.body.metadata.continue, 'a limited deletecollection answers where to continue');
      assert.deepEqual((await exists(`${set}-a`)).metadata.finalizers, [HOLD, 'orphan']);
      assert.ok(!(await exists(`${set}-b`)).metadata.deletionTimestamp, 'the next page is untouched');
    });
  }
});
