import assert from 'node:assert/strict';
import { API_PREFIX } from '../../lib/client/protocol.js';
import { call, connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';

/**
 * The options of create, update and patch (dryRun, fieldManager, fieldValidation) as
 * upstream's ValidateCreateOptions / ValidateUpdateOptions / ValidatePatchOptions judge
 * them, over HTTP (query parameters) and NATS (the request's `write`): a bad value is a
 * 422 Invalid on `<Kind>Options.meta.k8s.io ""` with a cause per field, and nothing is written.
 */

const NS = 'wopt-test';
const CM = { group: '', version: 'v1', resource: 'configmaps', namespace: NS };
type Verb = 'create' | 'update' | 'patch';
const OPTIONS_KIND: Record<Verb, string> = { create: 'CreateOptions', update: 'UpdateOptions', patch: 'PatchOptions' };

interface Case {
  what: string;
  /** as a NATS client sends them; over HTTP each becomes query parameters */
  write: Record<string, unknown>;
  field: string;
  reason: string;
  body: (t: 'HTTP' | 'NATS') => string;
}

const cases: Case[] = [
  {
    what: 'a dryRun other than All',
    write: { dryRun: ['Maybe'] },
    field: 'dryRun',
    reason: 'FieldValueNotSupported',
    body: () => 'Unsupported value: []string{"Maybe"}: supported values: "All"',
  },
  {
    what: 'a fieldValidation that is not Ignore, Strict or Warn',
    write: { fieldValidation: 'Loose' },
    field: 'fieldValidation',
    reason: 'FieldValueNotSupported',
    body: () => 'Unsupported value: "Loose": supported values: "", "Ignore", "Strict", "Warn"',
  },
  {
    what: 'a fieldManager longer than 128 bytes',
    write: { fieldManager: 'm'.repeat(129) },
    field: 'fieldManager',
    reason: 'FieldValueTooLong',
    body: () => 'Too long: may not be more than 128 bytes',
  },
  {
    what: 'a fieldManager with a character that does not print',
    write: { fieldManager: 'a\tb' },
    field: 'fieldManager',
    reason: 'FieldValueInvalid',
    body: () => 'Invalid value: "a\\tb": invalid character U+0009 (at position 1)',
  },
];

describe('create, update and patch options, as upstream validates them', () => {
  let api: ConnectedApiServer;
  let n = 0;

  before(async () => {
    api = await connectedApiServer('writeoptions-test');
    await api.client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(() => api?.stop());

  async function send(t: 'HTTP' | 'NATS', verb: Verb, name: string, write: Record<string, unknown>): Promise<{ code: number; body: any }> {
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { changed: 'yes' } };
    if (t === 'HTTP') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(write)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
      const base = `/api/v1/namespaces/${NS}/configmaps`;
      const r =
        verb === 'create' ? await call(api.server.httpUrl, 'POST', `${base}?${q}`, obj)
        : verb === 'update' ? await call(api.server.httpUrl, 'PUT', `${base}/${name}?${q}`, obj)
        : await call(api.server.httpUrl, 'PATCH', `${base}/${name}?${q}`, { data: { changed: 'yes' } }, { 'content-type': 'application/merge-patch+json' });
      return { code: r.status, body: r.body };
    }
    const req =
      verb === 'create' ? { ...CM, body: obj, write }
      : verb === 'update' ? { ...CM, name, body: obj, write }
      : { ...CM, name, patchType: 'merge', body: { data: { changed: 'yes' } }, write };
    const reply = (await api.nc.request(`${API_PREFIX}.${verb}`, JSON.stringify(req), { timeout: 10_000 })).json<any>();
    return { code: reply?.kind === 'Status' && reply.status === 'Failure' ? reply.code : 200, body: reply };
  }

  for (const t of ['HTTP', 'NATS'] as const) {
    for (const c of cases) {
      for (const verb of ['create', 'update', 'patch'] as const) {
        it(`${t} ${verb}: rejects ${c.what} with 422 Invalid on ${OPTIONS_KIND[verb]}`, async () => {
          const name = `w${n++}`;
          if (verb !== 'create') await api.client.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { changed: 'no' } });
          const o = await send(t, verb, name, c.write);
          assert.equal(o.code, 422, JSON.stringify(o.body));
          assert.equal(o.body.reason, 'Invalid');
          assert.equal(o.body.message, `${OPTIONS_KIND[verb]}.meta.k8s.io "" is invalid: ${c.field}: ${c.body(t)}`);
          assert.equal(o.body.details.group, 'meta.k8s.io');
          assert.equal(o.body.details.kind, OPTIONS_KIND[verb]);
          assert.deepEqual(o.body.details.causes, [{ reason: c.reason, message: c.body(t), field: c.field }]);
          // nothing was written
          const now = await api.client.get<any>({ ...CM, name }).catch(() => undefined);
          if (verb === 'create') assert.equal(now, undefined);
          else assert.equal(now.data.changed, 'no');
        });
      }
    }

    it(`${t}: every bad option is a cause of one 422`, async () => {
      const o = await send(t, 'create', `w${n++}`, { dryRun: ['All', 'Nope'], fieldValidation: 'Loose' });
      assert.equal(o.code, 422, JSON.stringify(o.body));
      assert.equal(
        o.body.message,
        'CreateOptions.meta.k8s.io "" is invalid: [dryRun: Unsupported value: []string{"All", "Nope"}: supported values: "All", ' +
          'fieldValidation: Unsupported value: "Loose": supported values: "", "Ignore", "Strict", "Warn"]',
      );
    });

    it(`${t}: dryRun=All and a valid fieldValidation still work`, async () => {
      const name = `w${n++}`;
      const o = await send(t, 'create', name, { dryRun: t === 'HTTP' ? ['All'] : 'All', fieldValidation: 'Strict' });
      assert.equal(o.code, t === 'HTTP' ? 201 : 200, JSON.stringify(o.body));
      assert.equal(o.body.metadata.name, name);
      assert.equal(await api.client.get<any>({ ...CM, name }).catch(() => undefined), undefined, 'dryRun stored nothing');
    });
  }
});
