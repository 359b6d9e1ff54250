import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { Resources } from '../../lib/client/mod.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { waitFor } from '../../test/wait.js';
import { startDnsServer, type DnsServer } from './server.js';

const run = promisify(execFile);

describe('dns server (dig against a real apiserver)', function () {
  this.timeout(60_000);
  let api: ConnectedApiServer;
  let dns: DnsServer;
  let upstream: dgram.Socket;
  let upstreamPort = 0;

  /** dig's answer lines (+short) or the whole status, for the query given as arguments */
  const dig = async (...args: string[]) => (await run('dig', ['@127.0.0.1', '-p', String(dns.port), '+time=2', '+tries=1', ...args])).stdout;
  const short = async (...args: string[]) => (await dig('+short', ...args)).trim().split('\n').filter(Boolean).sort();

  before(async () => {
    api = await connectedApiServer('dns-test');
    const c = api.client;
    await c.create<Service>({ ...Resources.services, namespace: 'default' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.5.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    await c.create<Service>({ ...Resources.services, namespace: 'default' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }] } });
    await c.create<EndpointSlice>({ ...Resources.endpointslices, namespace: 'default' }, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'db-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.244.0.7'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.0.8'], hostname: 'db-1', conditions: { ready: true } },
        { addresses: ['10.244.0.9'], hostname: 'db-2', conditions: { ready: false } },
      ],
      ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }],
    });
    await c.create<Service>({ ...Resources.services, namespace: 'default' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } });
    // a stand-in upstream resolver on loopback, so forwarding is proven without leaving the machine
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      const out = Buffer.from(msg);
      out.writeUInt16BE(0x8180 | 3, 2); // response, RD RA, NXDOMAIN
      upstream.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    upstreamPort = upstream.address().port;
    dns = await startDnsServer({ natsUrl: api.server.natsUrl, port: 0, bindAddresses: ['127.0.0.1'], advertiseAddress: '127.0.0.1', metricsPort: 0, log: () => {} });
    await dns.synced();
  });

  after(async () => {
    await dns?.stop();
    upstream?.close();
    await api?.stop();
  });

  it('answers A for a ClusterIP Service, over UDP and TCP', async () => {
    assert.deepEqual(await short('web.default.svc.cluster.local', 'A'), ['10.96.5.5']);
    assert.deepEqual(await short('+tcp', 'web.default.svc.cluster.local', 'A'), ['10.96.5.5']);
    const full = await dig('web.default.svc.cluster.local', 'A');
    assert.match(full, /status: NOERROR/);
    assert.match(full, /flags: qr aa rd;/);
    assert.match(full, /web\.default\.svc\.cluster\.local\.\s+5\s+IN\s+A\s+10\.96\.5\.5/);
  });

  it('answers a headless Service with its ready endpoints, and SRV per endpoint', async () => {
    assert.deepEqual(await short('db.default.svc.cluster.local'), ['10.244.0.7', '10.244.0.8']);
    assert.deepEqual(await short('db-1.db.default.svc.cluster.local'), ['10.244.0.8']);
    assert.deepEqual(await short('_sql._tcp.db.default.svc.cluster.local', 'SRV'), ['0 50 5432 db-0.db.default.svc.cluster.local.', '0 50 5432 db-1.db.default.svc.cluster.local.']);
    assert.deepEqual(await short('_http._tcp.web.default.svc.cluster.local', 'SRV'), ['0 100 80 web.default.svc.cluster.local.']);
  });

  it('answers PTR, CNAME, and NXDOMAIN with the SOA', async () => {
    assert.deepEqual(await short('-x', '10.96.5.5'), ['web.default.svc.cluster.local.']);
    assert.deepEqual(await short('-x', '10.244.0.7'), ['db-0.db.default.svc.cluster.local.']);
    assert.deepEqual(await short('ext.default.svc.cluster.local', 'CNAME'), ['db.example.com.']);
    const nx = await dig('nope.default.svc.cluster.local', 'A');
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /AUTHORITY SECTION:\ncluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5/);
  });

  it('refuses names outside the zone, and forwards them only to a given upstream', async () => {
    assert.match(await dig('example.com', 'A'), /status: REFUSED/);
    const fwd = await startDnsServer({ natsUrl: api.server.natsUrl, port: 0, bindAddresses: ['127.0.0.1'], advertiseAddress: '127.0.0.1', metricsPort: 0, register: false, upstream: { host: '127.0.0.1', port: upstreamPort }, log: () => {} });
    try {
      const out = (await run('dig', ['@127.0.0.1', '-p', String(fwd.port), '+time=2', '+tries=1', 'example.com', 'A'])).stdout;
      assert.match(out, /status: NXDOMAIN/);
      assert.match(out, /flags: qr rd ra;/);
    } finally {
      await fwd.stop();
    }
  });

  it('follows the informers: a new Service answers, a deleted one is NXDOMAIN', async () => {
    await api.client.create<Service>({ ...Resources.services, namespace: 'default' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'default' }, spec: { clusterIP: '10.96.7.7', ports: [{ port: 80 }] } });
    await waitFor('late to answer', async () => (await short('late.default.svc.cluster.local')).join() === '10.96.7.7', 10_000);
    await api.client.delete({ ...Resources.services, namespace: 'default', name: 'late' });
    await waitFor('late to be NXDOMAIN', async () => /NXDOMAIN/.test(await dig('late.default.svc.cluster.local')), 10_000);
  });

  it('registers kube-system/kube-dns at 10.96.0.10 with an EndpointSlice of where it listens, and counts queries', async () => {
    await waitFor('kube-dns registered', async () => (await api.client.get<Service>({ ...Resources.services, namespace: 'kube-system', name: 'kube-dns' }).catch(() => undefined)) !== undefined, 10_000);
    const svc = await api.client.get<Service>({ ...Resources.services, namespace: 'kube-system', name: 'kube-dns' });
    assert.equal(svc.spec?.clusterIP, '10.96.0.10');
    assert.deepEqual(svc.spec?.ports?.map((p) => `${p.name}/${p.port}/${p.protocol}`), ['dns/53/UDP', 'dns-tcp/53/TCP', 'metrics/9153/TCP']);
    assert.equal(svc.metadata?.labels?.['k8s-app'], 'kube-dns');
    const es = await api.client.get<EndpointSlice>({ ...Resources.endpointslices, namespace: 'kube-system', name: 'kube-dns' });
    assert.deepEqual(es.endpoints.map((e) => e.addresses[0]), ['127.0.0.1']);
    assert.equal(es.ports?.find((p) => p.name === 'dns')?.port, dns.port);
    // the server's own Service answers too
    assert.deepEqual(await short('kube-dns.kube-system.svc.cluster.local'), ['10.96.0.10']);
    const metrics = await (await fetch(dns.metricsUrl)).text();
    assert.match(metrics, /coredns_dns_requests_total\{server="dns:\/\/:\d+",zone="\.",view="",proto="udp",family="1",type="A"\} \d+/);
    assert.match(metrics, /coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"[^}]*\} \d+/);
    assert.match(metrics, /coredns_dns_request_duration_seconds_bucket\{server="dns:\/\/:\d+",zone="\.",view="",type="A",le="\+Inf"\} [1-9]\d*/);
  });

  it('answers pod A records', async () => {
    assert.deepEqual(await short('10-244-1-2.default.pod.cluster.local'), ['10.244.1.2']);
  });
});
