import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from '@nats-io/transport-node';
import { writeKubeconfig } from '../../cli/kubeconfig.js';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { call, testApiServer } from '../../test/apiserver.js';
import { kubectlBinary } from '../../test/kubectl.js';
import { waitFor } from '../../test/wait.js';
import { startKubelet, type RunningKubelet } from '../kubelet/server.js';
import { startMetricsServer, type MetricsServer } from './server.js';

const run = promisify(execFile);

const pod = (name: string, namespace: string, node: string, app: string, containers: Array<[string, string, string]>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { app } },
  spec: { nodeName: node, containers: containers.map(([c, cpu, memory]) => ({ name: c, image: 'busybox', resources: { requests: { cpu, memory } } })) },
});

/** "250m" → 0.25, "1" → 1; "128Mi" → bytes */
const cores = (s: string) => (s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s));
const mib = (s: string) => Number(s.replace(/Mi$/, ''));

describe('metrics service: metrics.k8s.io through API aggregation, kubectl top on every supported kubectl', function () {
  this.timeout(120_000);
  let api: Awaited<ReturnType<typeof testApiServer>>;
  let kubelet: RunningKubelet;
  let metrics: MetricsServer;
  let nc: NatsConnection;
  let client: ApiClient;
  let kubeconfig: string;

  before(async () => {
    api = await testApiServer({ apiServiceCheckIntervalMs: 500 });
    kubeconfig = writeKubeconfig(path.join(mkdtempSync(path.join(os.tmpdir(), 'flotilla-top-')), 'kubeconfig'), api.httpUrl);
    nc = await connectNats(api.natsUrl, { name: 'metrics-test' });
    client = new ApiClient(nc);
    kubelet = await startKubelet({ natsUrl: api.natsUrl, nodes: 3, namePrefix: 'top-', cpu: '4', memory: '8Gi', pod: { flushMs: 20 }, log: () => {} });
    await client.create({ ...Resources.namespaces }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await Promise.all([
      client.create({ ...Resources.pods, namespace: 'default' }, pod('web-1', 'default', 'top-0', 'web', [['nginx', '1', '512Mi'], ['sidecar', '100m', '64Mi']])),
      client.create({ ...Resources.pods, namespace: 'default' }, pod('web-2', 'default', 'top-1', 'web', [['nginx', '250m', '128Mi']])),
      client.create({ ...Resources.pods, namespace: 'shop' }, pod('cart', 'shop', 'top-1', 'cart', [['app', '2', '1Gi']])),
    ]);
    metrics = await startMetricsServer({ natsUrl: api.natsUrl, resolutionMs: 1000, register: true, log: () => {} });
    await waitFor('pod metrics through the apiserver', async () => {
      const r = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/pods');
      return r.status === 200 && r.body.items?.length === 3 ? r : undefined;
    }, 30_000);
  });
  after(async () => {
    await metrics?.stop();
    await kubelet?.stop();
    client?.close();
    await nc?.close();
    await api?.stop();
  });

  it('registers the APIService v1beta1.metrics.k8s.io, Available with reason Passed', async () => {
    const a = await client.get<any>({ group: 'apiregistration.k8s.io', version: 'v1', resource: 'apiservices', name: 'v1beta1.metrics.k8s.io' });
    assert.deepEqual(a.spec.service, { namespace: 'kube-system', name: 'metrics-server', port: 443 });
    const c = a.status.conditions.find((x: any) => x.type === 'Available');
    assert.equal(c.status, 'True');
    assert.equal(c.reason, 'Passed');
  });

  it('serves NodeMetrics and PodMetrics as metrics-server: nanocores, Ki, timestamp and window', async () => {
    const n = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/nodes/top-0');
    assert.equal(n.status, 200);
    assert.equal(n.body.kind, 'NodeMetrics');
    assert.equal(n.body.apiVersion, 'metrics.k8s.io/v1beta1');
    assert.match(n.body.usage.cpu, /^\d+n$/);
    assert.match(n.body.usage.memory, /^\d+(Ki)?$/);
    assert.match(n.body.window, /^\d+(\.\d+)?s$/);
    assert.match(n.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // 1100m of requests ± 20 % plus 100m for the node's system
    const nano = Number(n.body.usage.cpu.slice(0, -1));
    assert.ok(nano > 0.9e9 && nano < 1.5e9, n.body.usage.cpu);
    const p = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1');
    assert.deepEqual(p.body.containers.map((c: any) => c.name), ['nginx', 'sidecar']);
    assert.equal(p.body.metadata.namespace, 'default');
    const missing = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'podmetrics.metrics.k8s.io "default/nope" not found');
    const sel = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Dcart');
    assert.deepEqual(sel.body.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`), ['shop/cart']);
    assert.deepEqual(sel.body.items[0].metadata.labels, { app: 'cart' });
    const bad = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=a%3D%3D%3Db');
    assert.equal(bad.status, 400);
    const table = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/nodes', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.deepEqual(table.body.columnDefinitions.map((c: any) => c.name), ['Name', 'CPU', 'Memory', 'Window']);
    assert.equal(table.body.rows.length, 3);
  });

  for (const v of ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33', 'stock']) {
    it(`kubectl ${v}: top node and top pod (--containers, -l, -A, --sort-by)`, async () => {
      const bin = v === 'stock' ? 'kubectl' : kubectlBinary(v);
      const k = async (...args: string[]) => (await run(bin, ['--kubeconfig', kubeconfig, ...args])).stdout;
      const nodes = (await k('top', 'node', '--no-headers')).trim().split('\n').map((l) => l.trim().split(/\s+/));
      assert.deepEqual(nodes.map((r) => r[0]).sort(), ['top-0', 'top-1', 'top-2']);
      for (const r of nodes) {
        assert.match(r[1], /^\d+m$/);
        assert.match(r[2], /^\d+%$/);
        assert.match(r[3], /^\d+Mi$/);
      }
      // the idle node: 100m ± 20 % and 256Mi for its system
      const idle = nodes.find((r) => r[0] === 'top-2')!;
      assert.ok(cores(idle[1]) > 0.07 && cores(idle[1]) < 0.13, idle.join(' '));
      assert.equal(mib(idle[3]), 256);
      const byCpu = (await k('top', 'node', '--no-headers', '--sort-by', 'cpu')).trim().split('\n').map((l) => l.trim().split(/\s+/)[0]);
      assert.equal(byCpu[0], 'top-1', 'top-1 carries 2.25 cores of requests');
      assert.equal(byCpu[2], 'top-2');

      const pods = (await k('top', 'pod', '--no-headers')).trim().split('\n').map((l) => l.trim().split(/\s+/));
      assert.deepEqual(pods.map((r) => r[0]).sort(), ['web-1', 'web-2']);
      const web2 = pods.find((r) => r[0] === 'web-2')!;
      assert.ok(cores(web2[1]) >= 0.19 && cores(web2[1]) <= 0.31, web2.join(' '));
      assert.ok(mib(web2[2]) >= 102 && mib(web2[2]) <= 128, web2.join(' '));

      const all = (await k('top', 'pod', '-A', '--no-headers', '--sort-by', 'memory')).trim().split('\n').map((l) => l.trim().split(/\s+/));
      assert.deepEqual(all.map((r) => `${r[0]}/${r[1]}`), ['shop/cart', 'default/web-1', 'default/web-2']);

      const containers = (await k('top', 'pod', 'web-1', '--containers', '--no-headers')).trim().split('\n').map((l) => l.trim().split(/\s+/));
      assert.deepEqual(containers.map((r) => `${r[0]}/${r[1]}`), ['web-1/nginx', 'web-1/sidecar']);

      const labelled = (await k('top', 'pod', '-A', '-l', 'app=cart', '--no-headers')).trim().split('\n').map((l) => l.trim().split(/\s+/));
      assert.deepEqual(labelled.map((r) => r[1]), ['cart']);
      const nodeSel = (await k('top', 'node', '-l', 'kubernetes.io/hostname=top-1', '--no-headers')).trim().split('\n');
      assert.equal(nodeSel.length, 1);
      assert.match(nodeSel[0], /^top-1\s/);
    });
  }

  it('drops a deleted pod at the next scrape', async () => {
    await client.delete({ ...Resources.pods, namespace: 'default', name: 'web-2' }, { gracePeriodSeconds: 0 });
    await waitFor('web-2 gone from PodMetrics', async () => {
      const r = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
      return r.body.items.every((i: any) => i.metadata.name !== 'web-2') || undefined;
    });
  });

  it('answers 503 ServiceUnavailable through the apiserver once the metrics service is gone', async () => {
    await metrics.stop();
    const condition = await waitFor('APIService Available=False', async () => {
      const a = await client.get<any>({ group: 'apiregistration.k8s.io', version: 'v1', resource: 'apiservices', name: 'v1beta1.metrics.k8s.io' });
      const c = a.status.conditions.find((x: any) => x.type === 'Available');
      return c.status === 'False' ? c : undefined;
    });
    assert.equal(condition.reason, 'FailedDiscoveryCheck');
    const r = await call(api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/nodes');
    assert.equal(r.status, 503);
    assert.equal(r.body.reason, 'ServiceUnavailable');
    const { stderr } = await run('kubectl', ['--kubeconfig', kubeconfig, 'top', 'node']).catch((e) => e);
    assert.match(String(stderr), /ServiceUnavailable|the server is currently unable to handle the request|Metrics API not available/);
  });
});
