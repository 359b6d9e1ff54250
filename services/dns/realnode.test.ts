/**
 * Cluster DNS on a real node (root; one containerd for the file, test/realnode.ts):
 * each pod's /etc/resolv.conf follows its dnsPolicy (the kubelet's --cluster-dns,
 * --cluster-domain, --resolv-conf); a pod resolves a Service through the DNS server at
 * the node address the kube-dns EndpointSlice names; and with the proxy (a table of the
 * suite's own, a /24 of the Service range no other suite picks) `wget http://web` from a
 * pod goes through the kube-dns Service's address and the web Service's.
 *
 *   flock /tmp/flt-containerd.lock node bin/ensure.js test dist/services/dns/realnode.test.js
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ENDPOINT_SLICES, Resources } from '../../lib/client/mod.js';
import { hostInternalIP } from '../../lib/net/mod.js';
import { execInPod, startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';
import { cleanupProxy, startProxy, type RunningProxy } from '../proxy/server.js';
import { startDnsServer, type DnsServer } from './server.js';

const SLEEP = [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }];
const HTTPD = [{ name: 'web', image: 'busybox', command: ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'] }];

describe('cluster DNS on a real node', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;
  let dns: DnsServer | undefined;
  let proxy: RunningProxy | undefined;
  // the suite's own Service addresses: its kube-dns and web
  const ip3 = randomInt(0, 250);
  const dnsIP = `10.109.${ip3}.10`;
  const webIP = `10.109.${ip3}.20`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flt-dns-'));
  const resolvConf = path.join(dir, 'resolv.conf');
  const nodeIP = hostInternalIP();

  before(async () => {
    // the host's resolver as the kubelet reads it (--resolv-conf): names no real server, so nothing is ever sent there
    writeFileSync(resolvConf, 'nameserver 192.0.2.253\nsearch corp.example\noptions timeout:1\n');
    rn = await startRealNode('dns', {
      prefix: 'dns',
      kubelet: (o) => ({ ...o, cri: { ...o.cri!, dns: { clusterDNS: [dnsIP], clusterDomain: 'cluster.local', resolvConf } } }),
    });
    dns = await startDnsServer({ natsUrl: rn.api.natsUrl, port: 0, bindAddresses: [nodeIP], advertiseAddress: nodeIP, clusterIP: dnsIP, metricsPort: 0, log: () => {} });
    proxy = await startProxy({ natsUrl: rn.api.natsUrl, nodeName: rn.nodeName, table: `flt-dns-t-${rn.host.suffix}`, clusterCIDR: rn.host.subnet, serviceCIDR: `10.109.${ip3}.0/24`, metricsPort: 0, minSyncPeriodMs: 100, cleanupOnStop: true, log: () => {} });
    await rn.client.create<Service>({ ...Resources.services, namespace: 'default' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: webIP, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  });

  after(async () => {
    await proxy?.stop().catch(() => undefined);
    // the table goes even when a test failed
    if (rn) await cleanupProxy(`flt-dns-t-${rn.host.suffix}`).catch(() => undefined);
    await dns?.stop();
    await rn?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes each pod's resolv.conf by its dnsPolicy, and a pod resolves a Service at the DNS server's node address", async () => {
    const node = rn!;
    const specs: Array<[string, Partial<NonNullable<Pod['spec']>>]> = [
      ['cluster-first', { containers: SLEEP }],
      ['host-net', { containers: SLEEP, hostNetwork: true }],
      ['host-net-cluster', { containers: SLEEP, hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }],
      ['default', { containers: SLEEP, dnsPolicy: 'Default' }],
      ['none', { containers: SLEEP, dnsPolicy: 'None', dnsConfig: { nameservers: [nodeIP], searches: ['default.svc.cluster.local'], options: [{ name: 'ndots', value: '2' }] } }],
      ['web', { containers: HTTPD }],
    ];
    const pods = await Promise.all(specs.map(([name, spec]) => node.createPod(spec, { name: `dns-${name}` })));
    const running = await Promise.all(pods.map((p) => node.podIn(p.metadata!.name!, 'Running', 90_000)));
    const resolv = async (i: number) => {
      const r = await execInPod(node.cri, running[i], ['cat', '/etc/resolv.conf']);
      const lines = r.out.split('\n').map((l) => l.trim()).filter(Boolean);
      const field = (k: string) => lines.filter((l) => l.startsWith(`${k} `)).map((l) => l.slice(k.length + 1)).join(' ');
      return { nameservers: field('nameserver'), search: field('search'), options: field('options') };
    };
    const clusterFirst = { nameservers: dnsIP, search: 'default.svc.cluster.local svc.cluster.local cluster.local corp.example', options: 'ndots:5' };
    const hostResolv = { nameservers: '192.0.2.253', search: 'corp.example', options: 'timeout:1' };
    assert.deepEqual(await resolv(0), clusterFirst);
    assert.deepEqual(await resolv(1), hostResolv);
    assert.deepEqual(await resolv(2), clusterFirst);
    assert.deepEqual(await resolv(3), hostResolv);
    assert.deepEqual(await resolv(4), { nameservers: nodeIP, search: 'default.svc.cluster.local', options: 'ndots:2' });

    // from the pod's network namespace to the server on the node's address (where the proxy DNATs 10.96.0.10:53)
    const look = await execInPod(node.cri, running[4], ['nslookup', 'web.default.svc.cluster.local', `${nodeIP}:${dns!.port}`]);
    assert.match(look.out, new RegExp(`Address:\\s+${webIP.replace(/\./g, '\\.')}`), `${look.out}${look.err}`);
    const srv = await execInPod(node.cri, running[0], ['nslookup', '-type=srv', '_http._tcp.web.default.svc.cluster.local', `${nodeIP}:${dns!.port}`]);
    assert.match(srv.out, /service = 0 100 80 web\.default\.svc\.cluster\.local/, `${srv.out}${srv.err}`);

    // from a ClusterFirst pod through its resolv.conf: the kube-dns Service's address, DNATed by the proxy to the server
    const viaService = await waitFor('a lookup through the kube-dns Service address', async () => {
      const r = await execInPod(node.cri, running[0], ['nslookup', 'web.default.svc.cluster.local']);
      return r.code === 0 && r.out;
    }, 20_000);
    assert.match(viaService, new RegExp(`Server:\\s+${dnsIP.replace(/\./g, '\\.')}`));
    assert.match(viaService, new RegExp(`Address:\\s+${webIP.replace(/\./g, '\\.')}`));

    // the web Service's endpoint is the httpd pod (the suite runs no EndpointSlice controller: the slice is written
    // as that controller would); `wget http://web` from a ClusterFirst pod needs the search path, the kube-dns
    // Service's DNAT to the server, and the web Service's DNAT to the pod, as `kubectl run ... wget http://web` does
    const web = running[5]!;
    await node.client.create<EndpointSlice>({ ...ENDPOINT_SLICES, namespace: 'default' }, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-a', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: [web.status!.podIP!], conditions: { ready: true, serving: true, terminating: false }, nodeName: node.nodeName }],
    });
    let last = '';
    const page = await waitFor('wget http://web from a ClusterFirst pod', async () => {
      // not `wget -T`: this busybox's wget crashes (SIGSEGV, exit 139) with a timeout set
      const r = await execInPod(node.cri, running[0], ['wget', '-q', '-O', '-', 'http://web/']);
      last = `exit ${r.code}: ${r.out}${r.err}`;
      return r.code === 0 && r.out;
    }, 20_000).catch((e: Error) => Promise.reject(new Error(`${e.message}; the last try: ${last}`)));
    assert.equal(page.trim(), `hello from ${web.metadata!.name}`);
  });
});
