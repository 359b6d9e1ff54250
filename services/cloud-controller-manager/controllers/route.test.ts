import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, Resources } from '../../../lib/client/mod.js';
import { announceInstances } from '../../../lib/localcloud/mod.js';
import { testApiServer } from '../../../test/apiserver.js';
import { freshNats } from '../../../test/harness.js';
import { waitFor } from '../../../test/wait.js';
import { startKubelet, type RunningKubelet } from '../../kubelet/server.js';
import { startCloudControllerManager, type RunningCloudControllerManager } from '../server.js';

/**
 * The route controller against a real apiserver (root): hollow nodes get booked routes,
 * and a node in a network namespace of the test's own (a veth to this machine, an httpd on
 * an address of its podCIDR inside) gets a real route to its podCIDR, through which the
 * host reaches it. Namespace, veth and route are removed in `after`, even on failure.
 */
describe('cloud-controller-manager: node-route-controller (local cloud, root)', function () {
  this.timeout(60_000);
  const suffix = Math.random().toString(16).slice(2, 6);
  const octet = 1 + Math.floor(Math.random() * 250);
  const ns = `flt-rt${suffix}`;
  const vethHost = `flt-rth${suffix}`;
  const hostIP = `10.251.${octet}.1`;
  const nodeIP = `10.251.${octet}.2`;
  const clusterCIDR = `10.252.${octet}.0/24`;
  const nsPodCIDR = `10.252.${octet}.32/28`;
  const podIP = `10.252.${octet}.33`;
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let client: ApiClient;
  let nc: Awaited<ReturnType<typeof connectNats>>;
  let ccm: RunningCloudControllerManager | undefined;
  let kubelet: RunningKubelet | undefined;
  let announced: { stop(): void } | undefined;
  let httpd: ChildProcess | undefined;
  let www: string | undefined;
  const sh = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

  before(async () => {
    const natsUrl = (await freshNats()).url;
    server = await testApiServer({ natsUrl });
    nc = await connectNats(natsUrl, { name: 'ccm-route-test' });
    client = new ApiClient(nc);
    // the "node": a network namespace behind a veth, an httpd on an address of its podCIDR
    sh('netns', 'add', ns);
    sh('link', 'add', vethHost, 'type', 'veth', 'peer', 'name', 'eth-node', 'netns', ns);
    sh('addr', 'add', `${hostIP}/30`, 'dev', vethHost);
    sh('link', 'set', vethHost, 'up');
    sh('-n', ns, 'addr', 'add', `${nodeIP}/30`, 'dev', 'eth-node');
    sh('-n', ns, 'link', 'set', 'eth-node', 'up');
    sh('-n', ns, 'link', 'set', 'lo', 'up');
    sh('-n', ns, 'addr', 'add', `${podIP}/32`, 'dev', 'lo');
    sh('-n', ns, 'route', 'add', 'default', 'via', hostIP);
    www = mkdtempSync(path.join(tmpdir(), 'flt-route-'));
    writeFileSync(path.join(www, 'index.html'), `pod network of ${ns}\n`);
    httpd = spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', `${podIP}:8080`, '-h', www], { stdio: 'ignore' });
    announced = announceInstances(nc, `route-test-${suffix}`, () => [{ name: 'ns-node', internalIP: nodeIP, instanceType: 'netns-1cpu-1gi', network: 'netns' }]);
    kubelet = await startKubelet({ natsUrl, runtime: 'hollow', nodes: 2, namePrefix: 'rt-', readOnlyPort: 0, cloudProvider: 'external', node: { statusReportIntervalMs: 300, statusUpdateIntervalMs: 300 }, log: () => {} });
    await client.create(Resources.nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'ns-node' },
      spec: { podCIDR: nsPodCIDR, podCIDRs: [nsPodCIDR], taints: [{ key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' }] },
    });
    // node IPAM's part, by hand
    for (const [i, cidr] of [`10.252.${octet}.0/28`, `10.252.${octet}.16/28`].entries()) {
      await client.patch({ ...Resources.nodes, name: `rt-${i}` }, 'merge', { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
    }
    ccm = await startCloudControllerManager({
      natsUrl,
      port: 0,
      leaderElect: false,
      controllers: ['cloud-node-controller', 'node-route-controller'],
      allocateNodeCIDRs: true,
      clusterCIDR,
      // longer than the suite: every route comes from a Node event (the providerID the cloud node controller sets)
      routeReconciliationPeriodMs: 600_000,
      loadBalancerInterface: '',
      log: () => {},
    });
  });

  after(async () => {
    announced?.stop();
    await kubelet?.stop();
    await ccm?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
    httpd?.kill();
    for (const args of [['route', 'del', nsPodCIDR], ['link', 'del', vethHost], ['netns', 'del', ns]]) {
      try {
        sh(...args);
      } catch {
        /* already gone */
      }
    }
    if (www) rmSync(www, { recursive: true, force: true });
  });

  const condition = async (name: string) => (await client.get<Node>({ ...Resources.nodes, name })).status?.conditions?.find((c) => c.type === 'NetworkUnavailable');

  it('routes the podCIDR of a node in its own network namespace through its address, and the host reaches a pod address there', async () => {
    const route = await waitFor('the route to the namespaced node\'s podCIDR', () => {
      const r = sh('-4', 'route', 'show', nsPodCIDR).trim();
      return r.includes(`via ${nodeIP}`) && r;
    });
    assert.match(route, /proto 77/);
    const page = await waitFor('the page served inside the namespace', async () => {
      const res = await fetch(`http://${podIP}:8080/`, { signal: AbortSignal.timeout(2000) });
      return res.ok && res.text();
    });
    assert.equal(page, `pod network of ${ns}\n`);
    const c = await waitFor('ns-node NetworkUnavailable', () => condition('ns-node'));
    assert.deepEqual([c.status, c.reason, c.message], ['False', 'RouteCreated', 'RouteController created a route']);
  });

  it('books routes of hollow nodes; their NetworkUnavailable=False survives the kubelet\'s status reports', async () => {
    for (const name of ['rt-0', 'rt-1']) {
      const c = await waitFor(`${name} NetworkUnavailable`, () => condition(name));
      assert.deepEqual([c.status, c.reason], ['False', 'RouteCreated']);
    }
    const reports = kubelet!.nodes.statusReports;
    await waitFor('a few status reports', () => kubelet!.nodes.statusReports >= reports + 4);
    assert.equal((await condition('rt-0'))?.status, 'False');
    const ready = (await client.get<Node>({ ...Resources.nodes, name: 'rt-0' })).status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    // a route of the cluster's range on this machine is not touched for hollow nodes
    assert.equal(sh('-4', 'route', 'show', `10.252.${octet}.0/28`).trim(), '');
  });

  it('deletes the route when its Node goes', async () => {
    await client.delete({ ...Resources.nodes, name: 'ns-node' });
    await waitFor('the route gone', () => sh('-4', 'route', 'show', nsPodCIDR).trim() === '');
  });
});
