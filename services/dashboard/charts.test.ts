/**
 * The dashboard's live charts in Debian's Chromium against a real cluster (`flotilla up`,
 * hollow nodes, Prometheus scraping every second): the overview's scheduler chart gets a
 * non-zero throughput point after pods are scheduled, the node bars show the requests of
 * the pods bound there as kubectl lists them, and a pod's page charts its containers' use
 * (the hollow kubelet's readings). Then a second dashboard without Prometheus reads the
 * components themselves. Screenshots go to artifacts/dashboard/charts-*.png.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { kubectl } from '../../test/cluster.js';
import { screenshot, startDashboardCluster, type DashboardCluster } from '../../test/browser.js';
import { waitFor } from '../../test/wait.js';
import { startDashboard, type RunningDashboard } from './server.js';

const WORKLOAD = `
apiVersion: v1
kind: Namespace
metadata: {name: charts}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: charts}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: busybox, resources: {requests: {cpu: 200m, memory: 64Mi}, limits: {memory: 128Mi}}}
      - {name: side, image: busybox, resources: {requests: {cpu: 50m, memory: 16Mi}}}
`;

/** What a chart's uPlot holds once it drew on its canvas: its data columns (x first). */
const plotData = (page: Page, testid: string): Promise<Array<Array<number | null>> | undefined> =>
  page.evaluate(`(() => {
    const el = document.querySelector('[data-testid="${testid}"] .plot');
    const canvas = el && el.querySelector('canvas');
    return el && el.uplot && canvas && canvas.width > 0 ? el.uplot.data.map((c) => Array.from(c)) : undefined;
  })()`);

describe('dashboard charts in Chromium on a live cluster', function () {
  this.timeout(180_000);
  let cluster: DashboardCluster;
  let url: string;
  let kc: string;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    cluster = await startDashboardCluster({
      name: 'charts',
      upArgs: ['--no-real-node', '--hollow-nodes', '2', '--addons', 'dashboard,prometheus', '--prometheus-port', '0', '--scrape-interval', '1s'],
      manifest: WORKLOAD,
    });
    ({ url, kubeconfig: kc } = cluster);
    ({ page, pageErrors } = cluster.view!);
  });

  after(async () => {
    await cluster?.stop();
  });

  /** Bound, unfinished pods' CPU requests per node (cores), as kubectl lists them. */
  const requestsPerNode = async () => {
    const pods = JSON.parse(await kubectl(kc, 'get', 'pods', '-A', '-o', 'json')).items as Array<{ spec: { nodeName?: string; containers: Array<{ resources?: { requests?: { cpu?: string } } }> }; status?: { phase?: string } }>;
    const out = new Map<string, number>();
    for (const p of pods) {
      if (!p.spec.nodeName || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      const cpu = p.spec.containers.reduce((a, c) => a + (c.resources?.requests?.cpu ? parseInt(c.resources.requests.cpu, 10) / (c.resources.requests.cpu.endsWith('m') ? 1000 : 1) : 0), 0);
      out.set(p.spec.nodeName, (out.get(p.spec.nodeName) ?? 0) + cpu);
    }
    return out;
  };

  it('overview: the scheduler chart moves when pods are scheduled; CPU and memory against requests and allocatable', async () => {
    await page.goto(url);
    await page.getByTestId('metrics-source').and(page.locator('[data-source="prometheus"]')).waitFor({ timeout: 20_000 });
    // pods scheduled after the chart is on screen: a point after this moment is above zero
    const since = Date.now() / 1000;
    await kubectl(kc, 'create', 'deployment', 'burst', '-n', 'charts', '--image=busybox', '--replicas=5');
    let seen: unknown;
    // more pods every 5 s while waiting: a burst that lands before Prometheus' first scrape of the scheduler
    // is only the series' first value, which rate() cannot see as an increase
    let replicas = 5;
    let lastScale = Date.now();
    await waitFor('a non-zero throughput point after the pods were created', async () => {
      if (Date.now() - lastScale > 5000) {
        lastScale = Date.now();
        replicas += 3;
        await kubectl(kc, 'scale', 'deployment', 'burst', '-n', 'charts', `--replicas=${replicas}`);
      }
      const d = await plotData(page, 'chart-scheduler');
      seen = d && { t: d[0]!.slice(-8), scheduled: d[1]!.slice(-8), note: await page.locator('.source').first().textContent() };
      return d && d[0]!.some((t, i) => t! >= since && (d[1]![i] ?? 0) > 0) ? true : undefined;
    }, 45_000).catch((e: Error) => assert.fail(`${e.message}; since ${since}, the chart's last points: ${JSON.stringify(seen)}`));
    // read again each round: pods of the last scale-up may still be binding
    let expected = 0;
    await waitFor("the CPU chart's requested line at the requests kubectl lists, used above zero, allocatable 8", async () => {
      expected = [...(await requestsPerNode()).values()].reduce((a, b) => a + b, 0);
      const d = await plotData(page, 'chart-cpu');
      const last = (i: number) => d?.[i]?.at(-1);
      return d && Math.abs((last(2) ?? -1) - expected) < 1e-9 && (last(1) ?? 0) > 0 && last(3) === 8 ? true : undefined;
    }, 20_000);
    const api = await plotData(page, 'chart-apiserver');
    assert.ok(api![1]!.some((v) => (v ?? 0) > 0), 'the apiserver chart has a request rate');
    const mem = await plotData(page, 'chart-memory');
    assert.ok((mem![1]!.at(-1) ?? 0) > 0, 'memory used is charted');
    await screenshot(page, 'charts-overview');
    await kubectl(kc, 'delete', 'deployment', 'burst', '-n', 'charts');
  });

  it('nodes: bars per node show the requests of the pods scheduled there', async () => {
    await page.goto(`${url}#/nodes`);
    let want = new Map<string, number>();
    await waitFor('the CPU bars at each node\'s requests', async () => {
      want = await requestsPerNode();
      const d = await plotData(page, 'bars-cpu');
      const names = await page.getByRole('grid', { name: 'nodes' }).locator('[role=row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
      if (!d || d[0]!.length !== names.length || names.length !== 2) return undefined;
      // bars are by node name, as the list sorts them
      const ok = (n: string, i: number) => Math.abs((d[3]![i] ?? -1) - (want.get(n) ?? 0)) < 1e-9 && d[1]![i] === 4 && (!want.get(n) || (d[4]![i] ?? 0) > 0);
      return names.every((n, i) => ok(n!, i)) ? true : undefined;
    }, 30_000);
    assert.ok([...want.values()].some((v) => v > 0), `pods with requests are bound: ${JSON.stringify([...want])}`);
    await screenshot(page, 'charts-nodes');
    const [node, cpu] = [...want].find(([, v]) => v > 0)!;
    await page.goto(`${url}#/nodes/${node}`);
    await waitFor(`node ${node}'s bar at ${cpu} cores requested`, async () => {
      const d = await plotData(page, 'bars-cpu');
      return d && d[0]!.length === 1 && Math.abs((d[3]![0] ?? -1) - cpu) < 1e-9 ? true : undefined;
    }, 20_000);
  });

  it('pod: each container\'s CPU and memory, with its requests and limits', async () => {
    const pod = (await kubectl(kc, 'get', 'pods', '-n', 'charts', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    await page.goto(`${url}#/pods/charts/${pod}`);
    await page.getByRole('heading', { name: `Pod ${pod}` }).waitFor();
    await waitFor('CPU and memory points of both containers', async () => {
      const cpu = await plotData(page, 'pod-cpu');
      const mem = await plotData(page, 'pod-memory');
      // series: app, app request, side, side request (CPU); app, app request, app limit, side, side request (memory)
      return cpu?.length === 5 && mem?.length === 6 && [cpu[1], cpu[3], mem[1], mem[4]].every((s) => s!.some((v) => (v ?? 0) > 0)) ? true : undefined;
    }, 30_000);
    assert.match(await page.getByTestId('pod-cpu-latest').innerText(), /app request 200m/);
    assert.match(await page.getByTestId('pod-memory-latest').innerText(), /app limit 128 MiB/);
    await screenshot(page, 'charts-pod');
    assert.deepEqual(pageErrors, []);
  });

  it('without Prometheus: the same charts from the components\' own metrics and the kubelets\' readings', async () => {
    const natsUrl = JSON.parse(readFileSync(path.join(cluster.dataDir, 'cluster.json'), 'utf8')).natsUrl as string;
    let direct: RunningDashboard | undefined;
    let ws: WebSocket | undefined;
    try {
      direct = await startDashboard({ natsUrl, port: 0, prometheusUrl: false, metricsIntervalMs: 1000 });
      const pod = (await kubectl(kc, 'get', 'pods', '-n', 'charts', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
      const got = new Map<string, any>();
      ws = new WebSocket(`${direct.url.replace('http', 'ws')}ws`, { headers: { Origin: direct.url.replace(/\/$/, '') } });
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        got.set(m.id, m);
      });
      await new Promise((resolve, reject) => ws!.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ id: 'o', op: 'metrics', scope: 'overview' }));
      ws.send(JSON.stringify({ id: 'p', op: 'metrics', scope: 'pod', namespace: 'charts', name: pod }));
      await waitFor('two readings of the components', async () => (got.get('o')?.t.length >= 2 ? true : undefined), 20_000);
      await kubectl(kc, 'create', 'deployment', 'burst2', '-n', 'charts', '--image=busybox', '--replicas=3');
      await waitFor('a non-zero throughput read from the scheduler\'s /metrics', async () => (got.get('o')?.series.scheduled.some((v: number | null) => (v ?? 0) > 0) ? true : undefined), 20_000);
      const o = got.get('o');
      assert.equal(o.source, 'components');
      assert.ok(o.series.apiRate.some((v: number | null) => (v ?? 0) > 0), 'the apiserver\'s request rate');
      assert.ok(o.series.cpuUsage.some((v: number | null) => (v ?? 0) > 0), 'the kubelets\' CPU readings');
      await waitFor('the pod\'s containers\' CPU from the kubelet', async () => {
        const p = got.get('p');
        return p?.containers.length === 2 && p.containers.every((c: { cpu: Array<number | null> }) => c.cpu.some((v) => (v ?? 0) > 0)) ? true : undefined;
      }, 20_000);
      assert.deepEqual(got.get('p').containers.map((c: { name: string }) => c.name), ['app', 'side']);
      // and in the browser: the overview drawn from the components
      await page.goto(direct.url);
      await page.getByTestId('metrics-source').and(page.locator('[data-source="components"]')).waitFor({ timeout: 20_000 });
      await waitFor("the API server chart's rate from the apiserver's /metrics", async () => ((await plotData(page, 'chart-apiserver'))?.[1]?.some((v) => (v ?? 0) > 0) ? true : undefined), 20_000);
      await screenshot(page, 'charts-components');
    } finally {
      ws?.close();
      await direct?.stop();
      await kubectl(kc, 'delete', 'deployment', 'burst2', '-n', 'charts', '--ignore-not-found');
    }
  });
});
