/**
 * The proxy on a real node (root; test/realnode.ts: a containerd, subnet and bridge of the
 * suite's own): busybox httpd pods behind Services with explicit ClusterIPs, the
 * EndpointSlice controller in-process, and the proxy programming a table named for this
 * suite. curl from the host and wget from inside pods reach the Services as upstream's
 * kube-proxy makes them. Every request goes out only once the table is installed (its
 * rules drop anything else for the Service range), so nothing leaves the machine.
 *
 *   flock /tmp/flt-containerd.lock node bin/ensure.js test dist/services/proxy/proxy.test.js
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ENDPOINT_SLICES, Resources } from '../../lib/client/mod.js';
import { EndpointSliceController } from '../controller-manager/controllers/endpoints/endpointslice.js';
import { runTestController, type RunningTestController } from '../controller-manager/testing/controllers.js';
import { curlFromHost, execInPod, startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';
import { deleteTableTransaction, nftApply } from './nftables.js';
import { startProxy, type RunningProxy } from './server.js';

const SERVICES = { ...Resources.services, namespace: 'default' };

function nodeAddress(): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (name === 'lo' || name.startsWith('flt')) continue;
    const a = (addrs ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  throw new Error('this machine has no non-loopback IPv4 address');
}

const listTable = (table: string) => spawnSync('nft', ['list', 'table', 'ip', table], { encoding: 'utf8' });
/** a Service chain's DNAT over N endpoints in a slot of a named endpoints map (nft lists no `offset 0`) */
const dnatOver = (n: number) => new RegExp(`dnat ip to numgen random mod ${n} (offset \\d+ )?map @endpoints-\\d+`);

describe('proxy on a real node (root, nftables)', function () {
  this.timeout(120_000);
  let rn: RealNode;
  let eps: RunningTestController<EndpointSliceController> | undefined;
  let proxy: RunningProxy | undefined;
  let table = '';
  // Service addresses and ports no other suite picks; only this /24 is dropped when no Service takes it
  const ip3 = randomInt(0, 250);
  const cip = (n: number) => `10.111.${ip3}.${n}`;
  const nodePort = randomInt(30000, 32000);
  const lbIP = `10.240.0.${randomInt(2, 250)}`;
  const start = () =>
    startProxy({ natsUrl: rn.api.natsUrl, nodeName: rn.nodeName, table, clusterCIDR: rn.host.subnet, serviceCIDR: `10.111.${ip3}.0/24`, metricsPort: 0, minSyncPeriodMs: 100, log: (l) => process.env.PROXY_TEST_LOG && console.error(l) });

  before(async () => {
    rn = await startRealNode('the proxy suite', { prefix: 'px' });
    table = `flt-proxy-t-${rn.host.suffix}`;
    eps = await runTestController(rn.api.natsUrl, 'proxy-endpointslice', 1, (ctx) => new EndpointSliceController(ctx));
    proxy = await start();
    await proxy.synced();
    const web = ['sh', '-c', 'mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'];
    const pods = await Promise.all(
      [1, 2, 3].map((i) =>
        rn.createPod(
          {
            containers: [{ name: 'c', image: 'busybox', command: web, readinessProbe: { exec: { command: ['sh', '-c', 'test ! -f /tmp/unready'] }, periodSeconds: 1, failureThreshold: 1 } }],
            terminationGracePeriodSeconds: 0,
          },
          { name: `web${i}`, labels: { app: 'web', ...(i === 1 ? { self: 'yes' } : {}) } },
        ),
      ),
    );
    const svc = (name: string, n: number, spec: Service['spec']): Service => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { clusterIP: cip(n), selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
    });
    await rn.client.create(SERVICES, svc('web', 1, { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort, protocol: 'TCP' }] }));
    await rn.client.create(SERVICES, svc('self', 2, { selector: { self: 'yes' } }));
    await rn.client.create(SERVICES, svc('sticky', 3, { sessionAffinity: 'ClientIP' }));
    await rn.client.create(SERVICES, svc('nothing', 4, { selector: { app: 'none' } }));
    // the load balancer's address, as the cloud-controller-manager writes it
    const web1 = await rn.client.get<Service>({ ...SERVICES, name: 'web' });
    await rn.client.update({ ...SERVICES, name: 'web', subresource: 'status' }, { ...web1, status: { loadBalancer: { ingress: [{ ip: lbIP }] } } });
    await Promise.all(pods.map((p) => rn.podIn(p.metadata!.name!, 'Running', 60_000)));
    await waitFor('3 ready endpoints of web in the table', () => {
      const t = listTable(table).stdout;
      return t.includes(lbIP) && dnatOver(3).test(t);
    }, 60_000);
  });

  after(async () => {
    await proxy?.stop().catch(() => undefined);
    await eps?.stop().catch(() => undefined);
    // the table goes even when a test failed; then nothing of ours may be left
    if (table) await nftApply(deleteTableTransaction(table)).catch(() => undefined);
    await rn?.stop();
    if (table) assert.equal(listTable(table).status, 1, `table ip ${table} is still there`);
  });

  it('a ClusterIP answers curl from the host, spread across the pods; metrics under upstream names', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 3; i++) {
      const r = await curlFromHost(`http://${cip(1)}/`);
      assert.equal(r.code, 0, `curl ${cip(1)} failed (${r.code})`);
      seen.add(r.body);
    }
    assert.deepEqual([...seen].sort(), ['web1', 'web2', 'web3']);
    const metrics = await (await fetch(proxy!.metricsUrl)).text();
    assert.match(metrics, /^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/m);
    assert.match(metrics, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds [1-9]/m);
    assert.match(metrics, /^# TYPE kubeproxy_network_programming_duration_seconds histogram/m);
  });

  it('NodePort on 127.0.0.1 and on the node address, and the load-balancer IP', async () => {
    for (const url of [`http://127.0.0.1:${nodePort}/`, `http://${nodeAddress()}:${nodePort}/`, `http://${lbIP}/`]) {
      const r = await curlFromHost(url);
      assert.equal(r.code, 0, `curl ${url} failed (${r.code})`);
      assert.match(r.body, /^web[123]$/, url);
    }
  });

  it('from inside a pod, and a pod reaching itself through its own Service (hairpin)', async () => {
    const web2 = await rn.getPod('web2');
    const r = await execInPod(rn.cri, web2, ['wget', '-q', '-O', '-', `http://${cip(1)}/`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out.trim(), /^web[123]$/);
    const web1 = await rn.getPod('web1');
    const self = await execInPod(rn.cri, web1, ['wget', '-q', '-O', '-', `http://${cip(2)}/`]);
    assert.equal(self.code, 0, `hairpin: ${self.err}`);
    assert.equal(self.out.trim(), 'web1');
  });

  it('sessionAffinity ClientIP keeps a client on one pod', async () => {
    const bodies = new Set<string>();
    for (let i = 0; i < 8; i++) bodies.add((await curlFromHost(`http://${cip(3)}/`)).body);
    assert.equal(bodies.size, 1, [...bodies].join(','));
  });

  it('no endpoints: refused at once; a pod whose readiness fails leaves the rotation', async () => {
    const none = await curlFromHost(`http://${cip(4)}/`);
    // 7: connection refused (a dropped SYN would end in curl's timeout, 28)
    assert.equal(none.code, 7, 'curl: connection refused');
    await execInPod(rn.cri, await rn.getPod('web3'), ['touch', '/tmp/unready']);
    await waitFor('web3 not ready in the slice', async () => {
      const slices = (await rn.client.list<EndpointSlice>({ ...ENDPOINT_SLICES, namespace: 'default' }, { labelSelector: 'kubernetes.io/service-name=web' })).items;
      return slices.some((s) => s.endpoints?.some((e) => e.targetRef?.name === 'web3' && e.conditions?.ready === false));
    }, 20_000);
    // web's chain picks from two endpoints now (the proxy's informer may trail the list above)
    await waitFor('web with 2 endpoints in the table', () => {
      const t = listTable(table).stdout;
      return dnatOver(2).test(t) && !dnatOver(3).test(t);
    }, 10_000);
    for (let i = 0; i < 20; i++) assert.notEqual((await curlFromHost(`http://${cip(1)}/`)).body, 'web3');
    // scaled to 0: the Service selects nothing any more
    const self = await rn.client.get<Service>({ ...SERVICES, name: 'self' });
    await rn.client.update({ ...SERVICES, name: 'self' }, { ...self, spec: { ...self.spec, selector: { self: 'gone' } } });
    await waitFor('self refused', async () => (await curlFromHost(`http://${cip(2)}/`)).code === 7, 10_000);
  });

  it('a restarted proxy rebuilds its table: no stale rule survives', async () => {
    await proxy!.stop();
    proxy = undefined;
    await rn.client.delete({ ...SERVICES, name: 'sticky' });
    await nftApply(`add chain ip ${table} stale-chain\nadd rule ip ${table} stale-chain drop\n`);
    assert.match(listTable(table).stdout, /stale-chain/);
    proxy = await start();
    await proxy.synced();
    const t = listTable(table).stdout;
    assert.doesNotMatch(t, /stale-chain/);
    assert.doesNotMatch(t, /default\/sticky\//);
    assert.doesNotMatch(t, new RegExp(cip(3).replaceAll('.', '\\.')));
    assert.match((await curlFromHost(`http://${cip(1)}/`)).body, /^web[12]$/);
  });

  it('flotilla proxy --cleanup removes the table and route_localnet', async () => {
    await proxy!.stop();
    proxy = undefined;
    const cli = path.resolve('dist/cli/main.js');
    const r = spawnSync(process.execPath, [cli, 'proxy', '--cleanup', '--table', table, '--cluster-cidr', rn.host.subnet], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`removed table ip ${table}`));
    assert.equal(listTable(table).status, 1, 'the table is gone');
    assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${rn.host.bridge}/route_localnet`, 'utf8').trim(), '0');
  });
});
