/**
 * Two real nodes on one machine (root; what `flotilla up --nodes 2` runs): node 1 on this
 * machine's network (test/realnode.ts), node 2 with its containerd and pods in a network
 * namespace of the suite's own behind a veth (startNetnsNode), its kubelet announcing it
 * as a `netns` machine of the local cloud. The cloud-controller-manager's route controller
 * routes node 2's podCIDR through the veth; then pods on the two nodes reach each other by
 * pod IP, a ClusterIP Service with an endpoint on each node answers from both (node 2's
 * proxy programs its table inside the namespace), and a pod on node 2 resolves the Service
 * through the cluster DNS. Everything is removed in `after`, even when a test failed.
 *
 *   flock /tmp/flt-containerd.lock node bin/ensure.js test dist/services/cloud-controller-manager/multinode.realnode.test.js
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Resources } from '../../lib/client/mod.js';
import { hostInternalIP } from '../../lib/net/mod.js';
import { unusedLink, unusedSubnet } from '../../test/node.js';
import { curlFromHost, execInPod, startNetnsNode, startRealNode, type NetnsNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';
import { startDnsServer, type DnsServer } from '../dns/server.js';
import { cleanupProxy, startProxy, type RunningProxy } from '../proxy/server.js';
import { startCloudControllerManager, type RunningCloudControllerManager } from './server.js';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

const HTTPD = (page: string) => [{ name: 'web', image: 'busybox', command: ['sh', '-c', `mkdir -p /www && echo ${page} > /www/index.html && exec httpd -f -p 8080 -h /www`] }];
const SLEEP = [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }];

describe('two real nodes, the second in a network namespace of its own (root)', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;
  let n2: NetnsNode | undefined;
  let ccm: RunningCloudControllerManager | undefined;
  let dns: DnsServer | undefined;
  const proxies: RunningProxy[] = [];
  const ip3 = randomInt(0, 250);
  const serviceCIDR = `10.108.${ip3}.0/24`;
  const dnsIP = `10.108.${ip3}.10`;
  const webIP = `10.108.${ip3}.20`;
  const hostIP = hostInternalIP();
  let podCIDR2 = '';
  let table = '';
  const pods: Record<string, Pod> = {};

  before(async () => {
    const dnsConfig = { clusterDNS: [dnsIP], clusterDomain: 'cluster.local', resolvConf: '' };
    rn = await startRealNode('two real nodes', { prefix: 'mn', kubelet: (o) => ({ ...o, cri: { ...o.cri!, dns: dnsConfig } }) });
    podCIDR2 = unusedSubnet();
    n2 = await startNetnsNode(rn, { linkCIDR: unusedLink(), podCIDR: podCIDR2, kubelet: (o) => ({ ...o, cri: { ...o.cri!, dns: dnsConfig } }) });
    table = `flt-mn-${rn.host.suffix}`;
    ccm = await startCloudControllerManager({
      natsUrl: rn.api.natsUrl,
      port: 0,
      leaderElect: false,
      controllers: ['cloud-node-controller', 'node-route-controller'],
      allocateNodeCIDRs: true,
      clusterCIDR: podCIDR2,
      routeReconciliationPeriodMs: 500,
      loadBalancerInterface: '',
      log: () => {},
    });
    const common = { natsUrl: rn.api.natsUrl, table, serviceCIDR, metricsPort: 0, minSyncPeriodMs: 100, cleanupOnStop: true, log: () => {} };
    proxies.push(await startProxy({ ...common, nodeName: rn.nodeName, clusterCIDR: rn.host.subnet }));
    proxies.push(await startProxy({ ...common, nodeName: n2.nodeName, clusterCIDR: podCIDR2, netns: n2.host.netns.name }));
    dns = await startDnsServer({ natsUrl: rn.api.natsUrl, port: 0, bindAddresses: [hostIP], advertiseAddress: hostIP, clusterIP: dnsIP, metricsPort: 0, log: () => {} });
  });

  after(async () => {
    for (const p of proxies) await p.stop().catch(() => undefined);
    if (rn) await cleanupProxy(table).catch(() => undefined);
    await dns?.stop().catch(() => undefined);
    await ccm?.stop().catch(() => undefined);
    await n2?.stop().catch((e: Error) => console.error(`removing node 2: ${e.message}`));
    await rn?.stop();
  });

  it("routes node 2's podCIDR through its veth once the cloud initialized its Node, and pods on the two nodes reach each other by pod IP", async () => {
    const node2 = n2!;
    const { nodeIP } = node2.host.netns;
    const initialized = await waitFor('node 2 initialized by the cloud', async () => {
      const n = await rn!.client.get<Node>({ ...Resources.nodes, name: node2.nodeName });
      return n.spec?.providerID === `local://${node2.nodeName}` && !n.spec.taints?.length && n;
    });
    assert.deepEqual(initialized.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, nodeIP);
    const route = await waitFor('the route to node 2\'s podCIDR', () => {
      const r = ip('-4', 'route', 'show', podCIDR2).trim();
      return r.includes(`via ${nodeIP}`) && r;
    });
    assert.match(route, /proto 77/);

    const [web1, web2, client2] = await Promise.all([
      rn!.createPod({ containers: HTTPD('web-on-node-1') }, { name: 'web1', labels: { app: 'mnweb' } }),
      node2.createPod({ containers: HTTPD('web-on-node-2') }, { name: 'web2', labels: { app: 'mnweb' } }),
      node2.createPod({ containers: SLEEP }, { name: 'client2' }),
    ]);
    for (const p of [web1, web2, client2]) pods[p.metadata!.name!] = await rn!.podIn(p.metadata!.name!, 'Running', 60_000);
    const ip1 = pods.web1!.status!.podIP!;
    const ip2 = pods.web2!.status!.podIP!;
    assert.ok(pods.web2!.status?.hostIP === nodeIP, `node 2's pods report its address as hostIP: ${pods.web2!.status?.hostIP}`);
    assert.ok(ip2.startsWith(podCIDR2.replace(/0\/24$/, '')), `${ip2} in ${podCIDR2}`);
    // the pod's network hangs off node 2's namespace: its bridge is there, not here
    assert.ok(!existsSync(`/sys/class/net/${node2.host.bridge}`), 'no bridge of node 2 on this machine');
    assert.match(ip('-n', node2.host.netns.name, '-br', 'link', 'show', node2.host.bridge), new RegExp(node2.host.bridge));

    // this machine → a pod on node 2 (through the route); node 1's pod ↔ node 2's pod
    assert.equal((await waitFor('curl a pod on node 2 from the host', async () => (await curlFromHost(`http://${ip2}:8080/`)).body || false)), 'web-on-node-2');
    const wget = async (pod: Pod, url: string) => {
      const r = await execInPod(pod.spec?.nodeName === node2.nodeName ? node2.cri : rn!.cri, pod, ['wget', '-q', '-O', '-', url]);
      return r.code === 0 ? r.out.trim() : false;
    };
    assert.equal(await waitFor('node 1 pod → node 2 pod', () => wget(pods.web1!, `http://${ip2}:8080/`)), 'web-on-node-2');
    assert.equal(await waitFor('node 2 pod → node 1 pod', () => wget(pods.client2!, `http://${ip1}:8080/`)), 'web-on-node-1');
  });

  it('a ClusterIP Service with an endpoint on each node answers from both, from a pod on node 2 and from this machine', async () => {
    const node2 = n2!;
    await rn!.client.create<Service>({ ...Resources.services, namespace: 'default' }, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { clusterIP: webIP, selector: { app: 'mnweb' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    // the EndpointSlice controller's part, by hand (no controller-manager in this suite)
    await rn!.client.create<EndpointSlice>({ ...Resources.endpointslices, namespace: 'default' }, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-mn', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [
        { addresses: [pods.web1!.status!.podIP!], conditions: { ready: true }, nodeName: rn!.nodeName },
        { addresses: [pods.web2!.status!.podIP!], conditions: { ready: true }, nodeName: node2.nodeName },
      ],
    });
    // node 2's proxy programs its table inside the namespace, none of it here
    await waitFor('the ClusterIP in node 2\'s table', () => execFileSync('nsenter', [`--net=/run/netns/${node2.host.netns.name}`, 'nft', 'list', 'table', 'ip', table], { encoding: 'utf8' }).includes(`${webIP} . tcp . 80 : goto service-`));
    const seen = async (what: string, get: () => Promise<string | false>) => {
      const pages = new Set<string>();
      await waitFor(what, async () => {
        const page = await get();
        if (page) pages.add(page);
        return pages.size === 2;
      }, 30_000);
      return [...pages].sort();
    };
    const fromPod = async () => {
      const r = await execInPod(node2.cri, pods.client2!, ['wget', '-q', '-O', '-', `http://${webIP}/`]);
      return r.code === 0 && r.out.trim();
    };
    assert.deepEqual(await seen('both endpoints through the ClusterIP from a pod on node 2', fromPod), ['web-on-node-1', 'web-on-node-2']);
    assert.deepEqual(await seen('both endpoints through the ClusterIP from this machine', async () => (await curlFromHost(`http://${webIP}/`)).body || false), ['web-on-node-1', 'web-on-node-2']);
  });

  it('a pod on node 2 resolves the Service through the cluster DNS (its resolv.conf, the kube-dns Service address, the server on this machine)', async () => {
    const look = await waitFor('nslookup from node 2', async () => {
      const r = await execInPod(n2!.cri, pods.client2!, ['nslookup', 'web.default.svc.cluster.local']);
      return r.code === 0 && r.out;
    }, 20_000);
    assert.match(look, new RegExp(`Server:\\s+${dnsIP.replace(/\./g, '\\.')}`));
    assert.match(look, new RegExp(`Address:\\s+${webIP.replace(/\./g, '\\.')}`));
  });

  it('stopping node 2 removes its pods, containerd, veth and namespace, and with the veth the route', async () => {
    const node2 = n2!;
    n2 = undefined;
    await node2.stop();
    assert.ok(!existsSync(`/run/netns/${node2.host.netns.name}`), 'the namespace is gone');
    assert.ok(!existsSync(`/sys/class/net/${node2.host.netns.hostInterface}`), 'the veth is gone');
    assert.equal(ip('-4', 'route', 'show', podCIDR2).trim(), '');
    assert.ok(!existsSync(node2.host.dir), 'its folder is gone');
  });
});
