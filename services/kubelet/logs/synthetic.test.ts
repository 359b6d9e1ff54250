import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, Resources } from '../../../lib/client/mod.js';
import { testApiServer } from '../../../test/apiserver.js';
import { waitFor } from '../../../test/wait.js';
import { startLogging, type RunningLogging } from '../../logging/server.js';
import { startKubelet, type RunningKubelet } from '../server.js';

describe('kubelet logs/synthetic: hollow pods ship synthetic lines when asked', function () {
  this.timeout(60_000);
  let api: Awaited<ReturnType<typeof testApiServer>>;
  let kubelet: RunningKubelet | undefined;
  let logging: RunningLogging | undefined;
  let client: ApiClient;
  let close: () => Promise<void>;

  before(async () => {
    api = await testApiServer();
    const nc = await connectNats(api.natsUrl, { name: 'synthetic-test' });
    client = new ApiClient(nc);
    close = () => nc.close();
    logging = await startLogging({ natsUrl: api.natsUrl, port: 0, log: () => undefined });
    kubelet = await startKubelet({ natsUrl: api.natsUrl, runtime: 'hollow', nodes: 2, namePrefix: 'synth-', syntheticLogRate: 20, log: () => undefined });
  });
  after(async () => {
    await kubelet?.stop();
    await logging?.stop();
    client?.close();
    await close?.();
    await api?.stop();
  });

  it('each running container prints N lines a second, with its pod\'s labels and node', async () => {
    for (const [name, node] of [['synth-a', 'synth-0'], ['synth-b', 'synth-1']]) {
      await client.create<Pod>({ ...Resources.pods, namespace: 'default' }, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: name!, labels: { app: 'synthetic', 'app.kubernetes.io/name': name! } },
        spec: { nodeName: node, containers: [{ name: 'main', image: 'busybox' }, { name: 'side', image: 'busybox' }] },
      });
    }
    const q = (query: string) => logging!.querier.query({ query, startMs: Date.now() - 600_000, endMs: Date.now() + 1000, limit: 1000, direction: 'forward' });
    const errors = await waitFor('error lines of both pods', async () => {
      const r = await q('{app="synthetic", container="main"} |= "level=error"');
      const pods = new Set(r.entries.map((e) => e.labels.pod));
      return pods.size === 2 && r.entries.length >= 4 && r.entries;
    }, 20_000);
    const a = errors.find((e) => e.labels.pod === 'synth-a')!;
    assert.deepEqual({ ...a.labels }, { app: 'synthetic', app_kubernetes_io_name: 'synth-a', namespace: 'default', pod: 'synth-a', container: 'main', node: 'synth-0', stream: 'stderr' });
    assert.match(a.line, /^level=error line=\d*9 pod=synth-a container=main /);
    // every line once and in order: line numbers count up from 0 with no gap
    const main = (await q('{pod="synth-b", container="side"}')).entries.map((e) => Number(/line=(\d+)/.exec(e.line)![1]));
    assert.ok(main.length >= 20, `lines: ${main.length}`);
    assert.deepEqual(main, main.map((_, i) => i));
  });
});
