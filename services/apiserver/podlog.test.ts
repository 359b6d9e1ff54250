import assert from 'node:assert/strict';
import { API_PREFIX } from '../../lib/client/protocol.js';
import { call, connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };

describe('pods/log: which container, as upstream LogLocation chooses it (HTTP and NATS)', () => {
  let api: ConnectedApiServer;

  before(async () => {
    api = await connectedApiServer('podlog-test');
    const pod = (name: string, containers: string[], init: string[] = []) =>
      api.client.create(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          containers: containers.map((c) => ({ name: c, image: 'busybox' })),
          ...(init.length ? { initContainers: init.map((c) => ({ name: c, image: 'busybox' })) } : {}),
        },
      });
    await pod('single', ['app']);
    await pod('multi', ['app', 'sidecar'], ['setup']);
  });
  after(() => api?.stop());

  /** the log request over one transport: [code, text or Status] */
  const log = async (t: 'HTTP' | 'NATS', pod: string, opts: Record<string, unknown> = {}): Promise<[number, any]> => {
    if (t === 'HTTP') {
      const q = new URLSearchParams(Object.entries(opts).map(([k, v]): [string, string] => [k, String(v)])).toString();
      const r = await call(api.server.httpUrl, 'GET', `/api/v1/namespaces/default/pods/${pod}/log${q ? `?${q}` : ''}`);
      return [r.status, r.body];
    }
    const reply = (await api.nc.request(`${API_PREFIX}.get`, JSON.stringify({ ...PODS, name: pod, subresource: 'log', body: opts }))).json<any>();
    return reply.kind === 'Status' ? [reply.code, reply] : [200, reply.text];
  };

  for (const t of ['HTTP', 'NATS'] as const) {
    it(`${t}: answers 200 with the (empty) log of the only container, or of the one named`, async () => {
      assert.deepEqual(await log(t, 'single'), [200, '']);
      assert.deepEqual(await log(t, 'multi', { container: 'sidecar' }), [200, '']);
      assert.deepEqual(await log(t, 'multi', { container: 'setup' }), [200, ''], 'an init container has a log too');
    });

    it(`${t}: a container the pod does not have is a 400`, async () => {
      const [code, body] = await log(t, 'single', { container: 'nope' });
      assert.equal(code, 400);
      assert.equal(body.reason, 'BadRequest');
      assert.equal(body.message, 'container nope is not valid for pod single');
    });

    it(`${t}: several containers and none named is a 400 naming the choices`, async () => {
      const [code, body] = await log(t, 'multi');
      assert.equal(code, 400);
      assert.equal(body.message, 'a container name must be specified for pod multi, choose one of: [app sidecar] or one of the init containers: [setup]');
    });

    it(`${t}: invalid log options are a 422 on PodLogOptions; a missing pod is a 404`, async () => {
      const [code, body] = await log(t, 'single', { tailLines: -1 });
      assert.equal(code, 422);
      assert.equal(body.message, 'PodLogOptions "single" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
      assert.equal((await log(t, 'gone'))[0], 404);
    });
  }

  it('HTTP: a log option that does not parse is a 400 with Go\'s message', async () => {
    const [code, body] = await log('HTTP', 'single', { limitBytes: 'lots' });
    assert.equal(code, 400);
    assert.equal(body.message, 'strconv.ParseInt: parsing "lots": invalid syntax');
  });
});
