/**
 * The dashboard in Debian's Chromium (playwright-core) against a real cluster that
 * `flotilla up` starts (hollow nodes, the dashboard addon only): every view shows the
 * cluster's data, kubectl's changes arrive without a reload, the keyboard reaches rows,
 * and nothing is loaded from anywhere but the dashboard. One cluster and one browser for
 * the file; each test saves a screenshot into artifacts/dashboard/.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { kubectl } from '../../test/cluster.js';
import { controlsTabMisses, screenshot, startDashboardCluster, unlabelledControls, type DashboardCluster } from '../../test/browser.js';
import { waitFor } from '../../test/wait.js';

const WORKLOAD = `
apiVersion: v1
kind: Namespace
metadata: {name: dash}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: dash}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox, resources: {requests: {cpu: 10m, memory: 8Mi}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: dash, labels: {tier: frontend}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: dash, labels: {tier: frontend}}
data: {greeting: hello from the config}
---
apiVersion: v1
kind: Pod
metadata: {name: too-big, namespace: dash}
spec:
  containers: [{name: app, image: busybox, resources: {requests: {cpu: "1000"}}}]
`;

const DAEMONSET = `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: dash}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "busybox:1.36", resources: {requests: {cpu: 1m, memory: 1Mi}}}]
`;

const MORE_KINDS = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: dash}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: busybox, resources: {requests: {cpu: 1m, memory: 1Mi}}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: dash}
spec:
  completions: 2
  parallelism: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: busybox, resources: {requests: {cpu: 1m, memory: 1Mi}}}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: dash}
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: nightly, image: busybox}]
`;

describe('dashboard in Chromium on a live cluster', function () {
  this.timeout(180_000);
  let cluster: DashboardCluster;
  let url: string;
  let kc: string;
  let page: Page;
  let foreign: string[];
  let pageErrors: string[];

  before(async () => {
    cluster = await startDashboardCluster({ name: 'dashboard', upArgs: ['--no-real-node', '--hollow-nodes', '2', '--addons', 'dashboard'], manifest: WORKLOAD });
    ({ url, kubeconfig: kc } = cluster);
    ({ page, foreign, pageErrors } = cluster.view!);
  });

  afterEach(async function () {
    // a failed test's page as it was, beside the others' screenshots
    if (this.currentTest?.state === 'failed' && page) await screenshot(page, `failed-${this.currentTest.title.replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  after(async () => {
    await cluster?.stop();
  });

  const runningWebPods = async () => {
    const out = await kubectl(kc, 'get', 'pods', '-n', 'dash', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}');
    const names = out.split(' ').filter(Boolean).sort();
    return names.length === 3 ? names : undefined;
  };

  it('overview: nodes Ready and NotReady, pods by phase and warning events, as kubectl sees them', async () => {
    await runningWebPods().then((n) => n ?? waitFor('3 running web pods', runningWebPods, 60_000));
    await page.goto(url);
    await page.getByRole('link', { name: 'Ready: 2' }).waitFor({ timeout: 20_000 });
    await page.getByRole('link', { name: 'NotReady: 0' }).waitFor();
    // kubectl's count and the page's are read at different moments: a system pod may change phase
    // between them, so both are read again until they agree
    await waitFor('the Running count kubectl sees, on the page', async () => {
      const running = (await kubectl(kc, 'get', 'pods', '-A', '--field-selector=status.phase=Running', '-o', 'name')).split('\n').filter(Boolean).length;
      return (await page.getByRole('link', { name: `Running: ${running}`, exact: true }).count()) === 1 ? true : undefined;
    });
    await page.getByRole('link', { name: 'Pending: 1' }).waitFor({ timeout: 10_000 }); // too-big
    const warnings = page.getByRole('grid', { name: 'warning events' });
    await warnings.getByText('FailedScheduling').first().waitFor({ timeout: 20_000 });
    await warnings.getByText('pod/too-big').first().waitFor();
    await screenshot(page, 'overview');
  });

  it('pods: server-side filter and sort, and kubectl changes arrive without a reload', async () => {
    await page.goto(`${url}#/pods`);
    await page.evaluate('window.__sameDocument = true');
    const grid = page.getByRole('grid', { name: 'pods' });
    await page.getByLabel('filter by name').fill('web-');
    const web = (await runningWebPods())!;
    await waitFor('the three web pods and nothing else', async () => (JSON.stringify(await grid.locator('[role=row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))) === JSON.stringify(web.map((n) => `dash/${n}`)) ? true : undefined));
    for (const n of web) await grid.locator(`[data-key="dash/${n}"]`).getByText('Running').waitFor();
    // sort by name, descending: the server sends the rows in that order
    await page.getByRole('button', { name: 'sort by Name', exact: true }).click();
    await waitFor('the web pods in descending order', async () => (JSON.stringify(await grid.locator('[role=row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))) === JSON.stringify([...web].reverse().map((n) => `dash/${n}`)) ? true : undefined));
    await page.getByLabel('filter by name').fill('');
    await page.getByLabel('label selector').fill('app=web');
    await page.getByLabel('label selector').press('Enter');
    await page.getByRole('status').filter({ hasText: '3 pods' }).waitFor();
    await page.getByLabel('label selector').fill('app in (web');
    await page.getByLabel('label selector').press('Enter');
    await page.getByText(/label selector:/).waitFor();
    await page.getByLabel('label selector').fill('');
    await page.getByLabel('label selector').press('Enter');

    await page.getByRole('combobox', { name: 'namespace' }).selectOption('dash');
    await kubectl(kc, 'run', 'extra', '-n', 'dash', '--image=busybox', '--labels=app=extra');
    await grid.locator('[data-key="dash/extra"]').waitFor({ timeout: 15_000 });
    await kubectl(kc, 'label', 'pod', 'extra', '-n', 'dash', 'tier=cache');
    await kubectl(kc, 'delete', 'pod', 'extra', '-n', 'dash', '--wait=false');
    await grid.locator('[data-key="dash/extra"]').waitFor({ state: 'detached', timeout: 15_000 });
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was not reloaded');
    await screenshot(page, 'pods');
    // the header's namespace is kept for the tab: every namespace again for the next tests
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('');
  });

  it('pods: the keyboard opens a pod; its details show containers, conditions and events', async () => {
    await page.goto(`${url}#/pods`);
    await page.getByLabel('filter by name').fill('web-');
    const web = (await runningWebPods())!;
    const grid = page.getByRole('grid', { name: 'pods' });
    await grid.locator(`[data-key="dash/${web[1]}"]`).waitFor();
    await grid.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${url}#/pods/dash/${web[1]}`);
    await page.getByRole('heading', { name: `Pod ${web[1]}` }).waitFor();
    assert.equal(await page.getByTestId('pod-phase').textContent(), 'Running');
    await page.getByRole('table', { name: 'containers' }).getByText('busybox').waitFor();
    await page.getByRole('table', { name: 'conditions' }).getByText('Ready').first().waitFor();
    await screenshot(page, 'pod');
    const events = page.getByRole('grid', { name: 'events of this pod' });
    await events.getByText('Scheduled', { exact: true }).first().waitFor();
    // Opened from this pod's page, the too-big pod's page shows nothing of this one, not even
    // in its first render (before the effects that subscribe to the new pod have run): what
    // the page holds when its heading first names too-big, seen by a MutationObserver.
    const first = (await page.evaluate(`new Promise((resolve) => {
      const look = () => {
        if (![...document.querySelectorAll('main h1')].some((h) => h.textContent === 'Pod too-big')) return false;
        const grid = document.querySelector('[role="grid"][aria-label="events of this pod"]');
        resolve({
          phase: document.querySelector('[data-testid="pod-phase"]')?.textContent ?? null,
          cells: grid ? [...grid.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent ?? '') : [],
        });
        return true;
      };
      const mo = new MutationObserver(() => void (look() && mo.disconnect()));
      mo.observe(document.body, { subtree: true, childList: true, characterData: true });
      location.hash = '#/pods/dash/too-big';
    })`)) as { phase: string | null; cells: string[] };
    assert.equal(first.phase, 'Pending', 'the phase shown under the new name is the new pod\'s');
    assert.ok(!first.cells.includes('Scheduled'), `the other pod's events shown under the new name: ${first.cells.join(' | ')}`);
    // the too-big pod's details carry its own warning, and only its own events
    await events.getByText('FailedScheduling').first().waitFor({ timeout: 15_000 });
    assert.equal(await events.getByText('Scheduled', { exact: true }).count(), 0);
  });

  it('nodes: the list and a node\'s details follow a cordon made with kubectl', async () => {
    const nodes = (await kubectl(kc, 'get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').filter(Boolean).sort();
    assert.equal(nodes.length, 2);
    await page.goto(`${url}#/nodes`);
    const grid = page.getByRole('grid', { name: 'nodes' });
    for (const n of nodes) await grid.locator(`[data-key="${n}"]`).getByText('Ready', { exact: true }).waitFor({ timeout: 15_000 });
    await kubectl(kc, 'cordon', nodes[0]!);
    await grid.locator(`[data-key="${nodes[0]}"]`).getByText('Ready,SchedulingDisabled').waitFor({ timeout: 15_000 });
    await screenshot(page, 'nodes');
    await grid.locator(`[data-key="${nodes[0]}"]`).click();
    await page.getByRole('heading', { name: `Node ${nodes[0]}` }).waitFor();
    assert.equal(await page.getByTestId('schedulable').textContent(), 'no (cordoned)');
    // a taint kubectl adds is listed, live
    await kubectl(kc, 'taint', 'node', nodes[0]!, 'dash=yes:NoSchedule');
    await page.getByRole('list', { name: 'taints' }).getByText('dash=yes:NoSchedule', { exact: true }).waitFor({ timeout: 15_000 });
    await kubectl(kc, 'taint', 'node', nodes[0]!, 'dash=yes:NoSchedule-');
    await kubectl(kc, 'uncordon', nodes[0]!);
    await page.getByTestId('schedulable').filter({ hasText: 'yes' }).waitFor({ timeout: 15_000 });
    await page.getByRole('table', { name: 'conditions' }).getByRole('cell', { name: 'Ready', exact: true }).waitFor();
    const onNode = (await kubectl(kc, 'get', 'pods', '-A', '--field-selector', `spec.nodeName=${nodes[0]}`, '-o', 'name')).split('\n').filter(Boolean).length;
    await page.getByRole('grid', { name: 'pods on this node' }).locator('xpath=..').getByRole('status').filter({ hasText: `${onNode} pods on this node` }).waitFor({ timeout: 10_000 });
    await screenshot(page, 'node');
  });

  it('workloads: scale, restart and delete from the page, as kubectl then sees them', async () => {
    await page.goto(`${url}#/workloads/deployments`);
    const grid = page.getByRole('grid', { name: 'deployments' });
    await grid.locator('[data-key="dash/web"]').getByText('3/3').waitFor({ timeout: 15_000 });
    await grid.locator('[data-key="dash/web"]').click();
    await page.getByRole('heading', { name: 'Deployment web' }).waitFor();
    await page.getByLabel('replicas', { exact: true }).fill('4');
    await page.getByRole('button', { name: 'Scale', exact: true }).click();
    await waitFor('spec.replicas 4', async () => (await kubectl(kc, 'get', 'deploy', 'web', '-n', 'dash', '-o', 'jsonpath={.spec.replicas}')) === '4' || undefined);
    await page.getByTestId('replicas').filter({ hasText: '4 ready / 4 desired' }).waitFor({ timeout: 20_000 });
    // what the button said stays once the Deployment changed under it, and the field shows the new count
    await page.getByRole('status').filter({ hasText: 'scaled to 4' }).waitFor();
    assert.equal(await page.getByLabel('replicas', { exact: true }).inputValue(), '4');
    await page.getByRole('status').filter({ hasText: '4 pods of this workload' }).waitFor();
    await page.getByRole('button', { name: 'Restart', exact: true }).click();
    await waitFor('the restartedAt annotation', async () => (await kubectl(kc, 'get', 'deploy', 'web', '-n', 'dash', '-o', "jsonpath={.spec.template.metadata.annotations['kubectl\\.kubernetes\\.io/restartedAt']}")) || undefined);
    await screenshot(page, 'deployment');

    await kubectl(kc, 'create', 'deployment', 'tmp', '-n', 'dash', '--image=busybox');
    await page.goto(`${url}#/workloads/deployments/dash/tmp`);
    await page.getByRole('heading', { name: 'Deployment tmp' }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not exist' }).waitFor({ timeout: 15_000 });
    await assert.rejects(kubectl(kc, 'get', 'deploy', 'tmp', '-n', 'dash'), /NotFound|not found/);
  });

  it('YAML: an edit the apiserver refuses shows the error at its line, then a good edit saves', async () => {
    await page.goto(`${url}#/yaml/apps/v1/deployments/dash/web`);
    const editor = page.getByRole('textbox', { name: 'YAML' });
    await editor.waitFor();
    const text = await editor.inputValue();
    assert.match(text, /^kind: Deployment$/m);
    assert.doesNotMatch(text, /managedFields/);
    const bad = text.replace(/^  replicas: \d+$/m, '  replicas: -1');
    assert.notEqual(bad, text);
    const line = bad.split('\n').findIndex((l) => l === '  replicas: -1') + 1;
    await editor.fill(bad);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const errors = page.getByRole('alert', { name: 'errors' });
    await errors.getByText('spec.replicas', { exact: true }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.locator('.gutter .bad-line').evaluateAll((els) => els.map((e) => e.getAttribute('data-line'))), [String(line)]);
    assert.match(await page.locator(`.notes [data-line="${line}"]`).innerText(), /greater than or equal to 0|must be/);
    await screenshot(page, 'yaml-error');
    await editor.fill(bad.replace('  replicas: -1', '  replicas: 2'));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'saved' }).waitFor({ timeout: 10_000 });
    assert.equal(await kubectl(kc, 'get', 'deploy', 'web', '-n', 'dash', '-o', 'jsonpath={.spec.replicas}'), '2');
    assert.equal(await page.locator('.gutter .bad-line').count(), 0);
  });

  it('nodes: cordon, uncordon and drain from the page', async () => {
    const nodes = (await kubectl(kc, 'get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').filter(Boolean).sort();
    const node = nodes[1]!;
    const unschedulable = () => kubectl(kc, 'get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}');
    await page.goto(`${url}#/nodes/${node}`);
    await page.getByRole('button', { name: 'Cordon', exact: true }).click();
    await waitFor('the node cordoned', async () => (await unschedulable()) === 'true' || undefined);
    await page.getByRole('button', { name: 'Uncordon', exact: true }).click();
    await waitFor('the node uncordoned', async () => (await unschedulable()) === '' || undefined);
    const onNode = () => kubectl(kc, 'get', 'pods', '-n', 'dash', '--field-selector', `spec.nodeName=${node}`, '-o', 'name');
    // a workload pinned to the node: the scheduler need not have put anything else there
    await kubectl(kc, 'create', 'deployment', 'pinned', '-n', 'dash', '--image=busybox');
    await kubectl(kc, 'patch', 'deployment', 'pinned', '-n', 'dash', '--type=merge', '-p', JSON.stringify({ spec: { template: { spec: { nodeSelector: { 'kubernetes.io/hostname': node } } } } }));
    await waitFor('a pod on the node to drain', async () => (await onNode()).trim() || undefined, 30_000);
    await page.getByRole('button', { name: 'Drain', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm drain' }).click();
    await page.getByRole('status').filter({ hasText: /drained: [1-9]\d* pods evicted/ }).waitFor({ timeout: 15_000 });
    assert.equal(await unschedulable(), 'true');
    await waitFor('no dash pod left on the drained node', async () => (await onNode()).trim() === '' || undefined, 20_000);
    await screenshot(page, 'node-drained');
    await kubectl(kc, 'uncordon', node);
    await kubectl(kc, 'delete', 'deployment', 'pinned', '-n', 'dash');
  });

  it('resources: discovery lists every listable kind; a less common one opens as a live list with its printer columns', async () => {
    await page.goto(`${url}#/resources`);
    const table = page.getByRole('table', { name: 'resources' });
    for (const r of ['pods.core/v1', 'priorityclasses.scheduling.k8s.io/v1', 'leases.coordination.k8s.io/v1', 'controllerrevisions.apps/v1', 'apiservices.apiregistration.k8s.io/v1']) {
      await table.locator(`[data-resource="${r}"]`).waitFor({ timeout: 10_000 });
    }
    assert.equal(await table.locator('[data-resource^="pods/"]').count(), 0, 'subresources are not listed');
    await page.getByLabel('filter resources').fill('priorityclass');
    await table.getByRole('link', { name: 'priorityclasses' }).click();
    await page.waitForURL(`${url}#/r/scheduling.k8s.io/v1/priorityclasses`);
    const grid = page.getByRole('grid', { name: 'priorityclasses' });
    await kubectl(kc, 'create', 'priorityclass', 'dash-high', '--value=4242', '--description=dashboard test');
    // kubectl get priorityclass's columns (the apiserver's Table printer columns), live
    await grid.locator('[data-key="dash-high"]').getByText('4242', { exact: true }).waitFor({ timeout: 15_000 });
    assert.deepEqual(await page.locator('.vtable-head .th').allInnerTexts(), ['Name ▲', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy']);
    await screenshot(page, 'resource-list');
    await grid.locator('[data-key="dash-high"]').click();
    await page.waitForURL(`${url}#/yaml/scheduling.k8s.io/v1/priorityclasses/_/dash-high`);
    assert.match(await page.getByRole('textbox', { name: 'YAML' }).inputValue(), /^kind: PriorityClass$/m);
    await kubectl(kc, 'delete', 'priorityclass', 'dash-high');
  });

  it('services: the namespace in the header narrows the list; a Service lists its endpoints and pods', async () => {
    await page.goto(`${url}#/services`);
    const grid = page.getByRole('grid', { name: 'services' });
    await grid.locator('[data-key="default/kubernetes"]').waitFor({ timeout: 10_000 });
    await grid.locator('[data-key="dash/web"]').getByText('ClusterIP').waitFor();
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('dash');
    await grid.locator('[data-key="default/kubernetes"]').waitFor({ state: 'detached', timeout: 10_000 });
    await page.getByRole('status').filter({ hasText: '1 services' }).waitFor();
    await grid.locator('[data-key="dash/web"]').click();
    await page.getByRole('heading', { name: 'Service web' }).waitFor();
    const clusterIP = await kubectl(kc, 'get', 'svc', 'web', '-n', 'dash', '-o', 'jsonpath={.spec.clusterIP}');
    assert.equal(await page.getByTestId('cluster-ip').textContent(), clusterIP);
    const endpoints = page.getByRole('table', { name: 'endpoints of this service' });
    // every running web pod's IP, as the EndpointSlice controller wrote it, on the page
    await waitFor("the web pods' IPs among the endpoints", async () => {
      const ips = (await kubectl(kc, 'get', 'pods', '-n', 'dash', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].status.podIP}')).split(' ').filter(Boolean);
      const text = await endpoints.innerText();
      return ips.length && ips.every((ip) => text.includes(`${ip} (ready) pod/web-`)) ? true : undefined;
    }, 20_000);
    await page.getByRole('grid', { name: 'pods of this service' }).locator('[role=row]').first().waitFor();
    await screenshot(page, 'service');
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('');
  });

  it("config: a ConfigMap's data; a Secret's value stays masked, and off the page, until shown", async () => {
    await kubectl(kc, 'create', 'secret', 'generic', 'dash-secret', '-n', 'dash', '--from-literal=password=s3cr3t-value', '--from-literal=user=admin');
    await page.goto(`${url}#/config/configmaps`);
    await page.getByRole('grid', { name: 'configmaps' }).locator('[data-key="dash/web-config"]').click();
    await page.getByRole('table', { name: 'data' }).getByText('hello from the config').waitFor();
    await page.goto(`${url}#/config/secrets`);
    const secrets = page.getByRole('grid', { name: 'secrets' });
    await secrets.locator('[data-key="dash/dash-secret"]').getByText('Opaque').waitFor({ timeout: 10_000 });
    // every message the page's (new) socket gets from here on
    const frames: string[] = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => void frames.push(String(f.payload))));
    await page.reload();
    await secrets.locator('[data-key="dash/dash-secret"]').click();
    const data = page.getByRole('table', { name: 'secret data' });
    await data.locator('[data-key="password"]').getByLabel('masked').waitFor();
    assert.equal(await data.locator('[data-key="password"] td').nth(1).textContent(), '12 bytes');
    const b64 = Buffer.from('s3cr3t-value').toString('base64');
    const before = await page.content();
    assert.ok(!before.includes('s3cr3t-value') && !before.includes(b64), 'the value is not on the page');
    await page.getByRole('button', { name: 'show value of password' }).click();
    await page.getByTestId('value-password').getByText('s3cr3t-value').waitFor();
    await data.locator('[data-key="user"]').getByLabel('masked').waitFor();
    await screenshot(page, 'secret');
    await page.getByRole('button', { name: 'hide value of password' }).click();
    await data.locator('[data-key="password"]').getByLabel('masked').waitFor();
    assert.ok(frames.length && frames.every((f) => !f.includes(b64)), 'no message carried the value base64-encoded');
  });

  it("search: by label and by name across kinds, narrowed by the header's namespace", async () => {
    await page.goto(`${url}#/overview`);
    const box = page.getByLabel('search every kind');
    await box.fill('tier=frontend');
    await box.press('Enter');
    await page.waitForURL(`${url}#/search/tier%3Dfrontend`);
    const results = page.getByRole('table', { name: 'search results' });
    await results.locator('[data-key="Service/dash/web"]').waitFor({ timeout: 15_000 });
    await results.locator('[data-key="ConfigMap/dash/web-config"]').waitFor();
    await page.getByRole('status').filter({ hasText: /^\d+ found in \d+ kinds$/ }).waitFor();
    // the Service's labels are copied to its Endpoints and EndpointSlice: those match too, and nothing else
    const labels = await results.locator('tbody tr td:nth-child(4)').allInnerTexts();
    assert.ok(labels.length >= 2 && labels.every((l) => l.includes('tier=frontend')), labels.join(' | '));
    await screenshot(page, 'search');
    await box.fill('web-con');
    await box.press('Enter');
    await results.locator('[data-key="ConfigMap/dash/web-config"]').waitFor({ timeout: 15_000 });
    await page.getByRole('status').filter({ hasText: /^1 found/ }).waitFor();
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('default');
    await page.getByRole('status').filter({ hasText: /^0 found/ }).waitFor({ timeout: 15_000 });
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('');
    await results.getByRole('link', { name: 'web-config' }).click();
    await page.waitForURL(`${url}#/config/configmaps/dash/web-config`);
  });

  it('events: the live stream, newest first, filtered by type and involved object', async () => {
    await page.goto(`${url}#/events`);
    const grid = page.getByRole('grid', { name: 'events' });
    const column = (n: number) => grid.locator(`[role=row] [role=gridcell]:nth-child(${n})`).allInnerTexts();
    const only = (n: number, text: string) => async () => {
      const cells = await column(n);
      return cells.length && cells.every((c) => c === text) ? true : undefined;
    };
    await grid.locator('[role=row]').nth(5).waitFor({ timeout: 10_000 });
    await page.getByLabel('involved object').fill('too-big');
    await waitFor('only the events of pod/too-big', only(4, 'pod/too-big'));
    await page.getByRole('combobox', { name: 'event type' }).selectOption('Warning');
    await waitFor('only warnings', only(2, 'Warning'));
    await grid.getByText('FailedScheduling').first().waitFor();
    // a new event arrives at the top without a reload
    await page.getByLabel('involved object').fill('');
    await page.getByRole('combobox', { name: 'event type' }).selectOption('');
    await kubectl(kc, 'run', 'evt', '-n', 'dash', '--image=busybox', '--overrides={"spec":{"nodeSelector":{"nowhere":"x"}}}');
    await grid.locator('[role=row]').first().getByText('pod/evt').waitFor({ timeout: 15_000 });
    await screenshot(page, 'events');
    await kubectl(kc, 'delete', 'pod', 'evt', '-n', 'dash', '--wait=false');
  });

  it('rollout: the history by revision, and undo returns a Deployment to the previous template', async () => {
    await kubectl(kc, 'create', 'deployment', 'roll', '-n', 'dash', '--image=busybox:1.36');
    const get = (path: string) => kubectl(kc, 'get', 'deploy', 'roll', '-n', 'dash', '-o', `jsonpath={${path}}`);
    const revision = () => get(".metadata.annotations['deployment\\.kubernetes\\.io/revision']");
    await waitFor('revision 1', async () => (await revision()) === '1' || undefined);
    await kubectl(kc, 'annotate', 'deployment', 'roll', '-n', 'dash', 'kubernetes.io/change-cause=image 1.37');
    await kubectl(kc, 'set', 'image', 'deployment/roll', '-n', 'dash', 'busybox=busybox:1.37');
    await page.goto(`${url}#/workloads/deployments/dash/roll`);
    const history = page.getByRole('table', { name: 'rollout history' });
    await history.locator('[data-revision="2"]').getByText('(current)').waitFor({ timeout: 15_000 });
    await history.locator('[data-revision="2"]').getByText('image 1.37').waitFor();
    await history.locator('[data-revision="1"]').getByText('busybox:1.36').waitFor();
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm undo' }).click();
    await page.getByRole('status').filter({ hasText: 'rolled back to revision 1' }).waitFor({ timeout: 10_000 });
    assert.equal(await get('.spec.template.spec.containers[0].image'), 'busybox:1.36');
    // revision 1's ReplicaSet is the new one again, as revision 3
    await history.locator('[data-revision="3"]').getByText('(current)').waitFor({ timeout: 15_000 });
    await history.locator('[data-revision="3"]').getByText('busybox:1.36').waitFor();
    assert.equal(await history.locator('[data-revision="1"]').count(), 0);
    await screenshot(page, 'rollout');

    // a DaemonSet's revisions are ControllerRevisions; undo applies the older one's data
    await cluster.apply(DAEMONSET);
    await kubectl(kc, 'set', 'image', 'daemonset/agent', '-n', 'dash', 'agent=busybox:1.37');
    await page.goto(`${url}#/workloads/daemonsets/dash/agent`);
    await history.locator('[data-revision="2"]').getByText('(current)').waitFor({ timeout: 15_000 });
    await history.locator('[data-revision="1"]').getByText('busybox:1.36').waitFor();
    // no change cause: kubectl's <none>, as text
    await history.locator('[data-revision="1"]').getByText('<none>', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Undo', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm undo' }).click();
    await page.getByRole('status').filter({ hasText: 'rolled back to revision 1' }).waitFor({ timeout: 10_000 });
    assert.equal(await kubectl(kc, 'get', 'ds', 'agent', '-n', 'dash', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'), 'busybox:1.36');
    await history.locator('tr.current').getByText('busybox:1.36').waitFor({ timeout: 15_000 });
  });

  it('namespaces: the list, and a namespace made the header\'s from its page', async () => {
    await page.goto(`${url}#/namespaces`);
    const grid = page.getByRole('grid', { name: 'namespaces' });
    await grid.locator('[data-key="dash"]').getByText('Active').waitFor({ timeout: 10_000 });
    await grid.locator('[data-key="kube-system"]').waitFor();
    await grid.locator('[data-key="dash"]').click();
    await page.getByRole('heading', { name: 'Namespace dash' }).waitFor();
    await page.getByRole('button', { name: 'Show only this namespace' }).click();
    assert.equal(await page.getByRole('combobox', { name: 'namespace' }).inputValue(), 'dash');
    await page.goto(`${url}#/pods`);
    await page.getByRole('status').filter({ hasText: /^\d+ pods$/ }).waitFor();
    const keys = await page.getByRole('grid', { name: 'pods' }).locator('[role=row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
    assert.ok(keys.length && keys.every((k) => k?.startsWith('dash/')), keys.join(' '));
    await screenshot(page, 'namespace-pods');
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('');
  });

  it('workloads: StatefulSets, ReplicaSets, Jobs and CronJobs list what kubectl made, each opening its page', async () => {
    await cluster.apply(MORE_KINDS);
    const rs = (await kubectl(kc, 'get', 'rs', '-n', 'dash', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    const kinds: Array<[string, string, string | RegExp, string]> = [
      ['statefulsets', 'db', '1/1', 'StatefulSet db'],
      ['replicasets', rs, rs, `ReplicaSet ${rs}`],
      ['jobs', 'once', /^[0-2]\/2$/, 'Job once'],
      ['cronjobs', 'nightly', '0 3 * * *', 'CronJob nightly'],
    ];
    await page.goto(`${url}#/workloads/deployments`);
    for (const [resource, name, cell, heading] of kinds) {
      await page.getByRole('navigation', { name: 'workload kinds' }).getByRole('link', { name: `${heading.split(' ')[0]}s`, exact: true }).click();
      await page.waitForURL(`${url}#/workloads/${resource}`);
      const row = page.getByRole('grid', { name: resource }).locator(`[data-key="dash/${name}"]`);
      await row.getByText(cell, { exact: true }).first().waitFor({ timeout: 30_000 });
      await row.click();
      await page.getByRole('heading', { name: heading }).waitFor();
      await page.goBack();
    }
    await page.goto(`${url}#/workloads/cronjobs`);
    assert.equal(await page.getByRole('grid', { name: 'cronjobs' }).locator('[data-key="dash/nightly"] [role=gridcell]').nth(3).innerText(), 'true', 'the CronJob is suspended');
    await screenshot(page, 'cronjobs');
  });

  it('every view: each control has a label, and Tab reaches each one', async () => {
    const pod = (await kubectl(kc, 'get', 'pods', '-n', 'dash', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    const node = (await kubectl(kc, 'get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
    const views = [
      '#/overview', '#/nodes', `#/nodes/${node}`, '#/workloads/deployments', '#/workloads/deployments/dash/web',
      '#/workloads/deployments/dash/web/logs', '#/workloads/daemonsets/dash/agent', '#/workloads/statefulsets/dash/db',
      '#/workloads/jobs', '#/workloads/jobs/dash/once', '#/workloads/cronjobs/dash/nightly', '#/pods', `#/pods/dash/${pod}`, `#/pods/dash/${pod}/logs`,
      '#/services', '#/services/dash/web', '#/config/configmaps', '#/config/configmaps/dash/web-config', '#/config/secrets',
      '#/config/secrets/dash/dash-secret', '#/events', '#/namespaces', '#/namespaces/dash', '#/resources',
      '#/r/scheduling.k8s.io/v1/priorityclasses', '#/yaml/apps/v1/deployments/dash/web', '#/search/tier%3Dfrontend',
    ];
    const problems: string[] = [];
    for (const view of views) {
      await page.goto(`${url}${view}`);
      await page.locator('main h1').first().waitFor();
      // every table has its rows, and every object its page
      await waitFor(`${view} loaded`, async () => ((await page.getByText(/^(loading…|Loading)/).count()) === 0 || undefined), 15_000);
      for (const c of await unlabelledControls(page)) problems.push(`${view}: no label: ${c}`);
      for (const c of await controlsTabMisses(page)) problems.push(`${view}: Tab never reaches ${c}`);
    }
    await screenshot(page, 'keyboard');
    assert.deepEqual(problems, []);
  });

  it('loads nothing from anywhere else, and refuses other sites\' pages and host names', async () => {
    await page.goto(url);
    await page.getByRole('status', { name: 'connection' }).filter({ hasText: 'live' }).waitFor();
    await screenshot(page, 'live');
    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}ws`, { headers: { Origin: 'http://example.org' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('a WebSocket from another origin was accepted')));
      ws.on('error', reject);
    });
    assert.equal(refused, 403);
    const rebound = await new Promise<number>((resolve, reject) => {
      const u = new URL(url);
      http.get({ host: u.hostname, port: u.port, path: '/', headers: { host: `attacker.example:${u.port}` } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
    });
    assert.equal(rebound, 403);
  });
});
