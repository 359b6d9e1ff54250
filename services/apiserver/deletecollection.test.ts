import assert from 'node:assert/strict';
import { isNotFound } from '../../lib/api/errors.js';
import type { ListOptions } from '../../lib/client/protocol.js';
import { allKinds, apiVersionOf } from '../../lib/schema/registry.js';
import type { KindDef } from '../../lib/schema/types.js';
import { call, connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { minimalName, minimalObject } from '../../test/minimalobjects.js';

const NS = 'dc-test';
/** objects here carry the same labels and must survive a delete-collection in NS */
const OTHER_NS = 'dc-other';

type Transport = 'HTTP' | 'NATS';

const servesDeleteCollection = (k: KindDef) => (k.verbs ?? ['deletecollection']).includes('deletecollection');

function collectionPath(k: KindDef, namespace?: string): string {
  const root = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return k.namespaced && namespace ? `${root}/namespaces/${namespace}/${k.plural}` : `${root}/${k.plural}`;
}

function query(o: ListOptions): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The API through one transport: list, delete-collection, create and get, answering bodies or throwing Status errors. */
function through(t: Transport, api: ConnectedApiServer) {
  const ref = (k: KindDef, namespace = NS) => ({ group: k.group, version: k.version, resource: k.plural, namespace: k.namespaced ? namespace : undefined });
  const http = async (method: string, path: string, body?: unknown) => {
    const r = await call(api.server.httpUrl, method, path, body);
    if (r.status >= 300) throw Object.assign(new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`), { status: r.body });
    return r.body;
  };
  return {
    list: (k: KindDef, o: ListOptions): Promise<any> =>
      t === 'HTTP' ? http('GET', collectionPath(k, NS) + query(o)) : api.client.list(ref(k), o),
    deleteCollection: (k: KindDef, o: ListOptions): Promise<any> =>
      t === 'HTTP' ? http('DELETE', collectionPath(k, NS) + query(o)) : api.client.deleteCollection(ref(k), o),
    create: (k: KindDef, obj: any, namespace = NS): Promise<any> =>
      t === 'HTTP' ? http('POST', collectionPath(k, namespace), obj) : api.client.create(ref(k, namespace), obj),
  };
}

const names = (l: any) => (l.items as any[]).map((o) => o.metadata.name).sort();

describe('deletecollection deletes exactly what its selectors select, on every kind that serves it (HTTP and NATS)', () => {
  let api: ConnectedApiServer;

  before(async () => {
    api = await connectedApiServer('deletecollection-test');
    for (const name of [NS, OTHER_NS]) await api.client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  });
  after(() => api?.stop());

  const exists = async (k: KindDef, name: string, namespace = NS): Promise<boolean> => {
    try {
      await api.client.get({ group: k.group, version: k.version, resource: k.plural, namespace: k.namespaced ? namespace : undefined, name });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  };

  const kinds = allKinds().filter(servesDeleteCollection);
  for (const t of ['HTTP', 'NATS'] as const) {
    kinds.forEach((k, i) => {
      it(`${t}: ${k.plural}${k.group ? `.${k.group}` : ''}/${k.version}`, async () => {
        const via = through(t, api);
        // names and label values of this kind and transport only: kinds sharing storage (the
        // two Event kinds) and cluster-scoped kinds never see each other's objects
        const p = `${t === 'HTTP' ? 'h' : 'n'}${i}`;
        const set = `${p}-${k.plural}`;
        // a name valid for the kind (an APIService's is "<version>.<group>")
        const nm = (suffix: string) => minimalName(k, `${p}-${suffix}`);
        const obj = (name: string, labels: Record<string, string>) => minimalObject(k, name, labels, k.namespaced ? NS : undefined);
        await via.create(k, obj(nm('a1'), { dc: set, tier: 'a' }));
        await via.create(k, obj(nm('a2'), { dc: set, tier: 'b' }));
        await via.create(k, obj(nm('c'), { dc: set, tier: 'c' }));
        await via.create(k, obj(nm('none'), {}));
        if (k.namespaced) await via.create(k, minimalObject(k, `${p}-elsewhere`, { dc: set, tier: 'a' }, OTHER_NS), OTHER_NS);

        // a label and a field selector together, then the label selector alone
        const steps: ListOptions[] = [
          { labelSelector: `dc=${set},tier in (a,b)`, fieldSelector: `metadata.name!=${nm('a2')}` },
          { labelSelector: `dc=${set},tier in (a,b)` },
        ];
        const expected = [[nm('a1')], [nm('a2')]];
        for (const [n, sel] of steps.entries()) {
          const listed = await via.list(k, sel);
          assert.deepEqual(names(listed), expected[n], `step ${n}: what the selector lists`);
          const deleted = await via.deleteCollection(k, sel);
          assert.equal(deleted.kind, `${k.kind}List`, JSON.stringify(deleted).slice(0, 300));
          assert.equal(deleted.apiVersion, apiVersionOf(k));
          assert.deepEqual(names(deleted), names(listed), `step ${n}: the reply lists what was deleted`);
          assert.deepEqual(names(await via.list(k, sel)), [], `step ${n}: nothing the selector selects is left`);
        }
        for (const name of [nm('c'), nm('none')]) assert.ok(await exists(k, name), `${name} was not selected and must remain`);
        if (k.namespaced) assert.ok(await exists(k, `${p}-elsewhere`, OTHER_NS), 'an object in another namespace must remain');
      });
    });

    it(`${t}: a selector that does not parse is a 400 and deletes nothing`, async () => {
      const via = through(t, api);
      const cm = allKinds().find((k) => k.kind === 'ConfigMap' && k.group === '')!;
      const name = `${t === 'HTTP' ? 'h' : 'n'}-unparsed`;
      await via.create(cm, minimalObject(cm, name, { team: 'a' }, NS));
      const bad: Array<[ListOptions, RegExp]> = [
        [{ labelSelector: 'team in (a' }, /unable to parse requirement|expected/],
        [{ labelSelector: 'team=a', fieldSelector: 'spec.nope=1' }, /field label not supported: spec\.nope/],
      ];
      for (const [sel, message] of bad) {
        await assert.rejects(via.deleteCollection(cm, sel), (e: any) => {
          const status = e.status ?? e.toStatus?.();
          assert.equal(status.code, 400, JSON.stringify(status));
          assert.equal(status.reason, 'BadRequest');
          assert.match(status.message, message);
          return true;
        });
        assert.ok(await exists(cm, name), `${JSON.stringify(sel)} deleted nothing`);
      }
    });
  }
});
