import assert from 'node:assert/strict';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { dashedAddress, reverseName, reverseNameToIP, Zone, type Resolution } from './records.js';

function svc(ns: string, name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}

function slice(ns: string, service: string, name: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = [], addressType = 'IPv4'): EndpointSlice {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': service } }, addressType, endpoints, ports };
}

const data = (r: Resolution) => r.answers.map((a) => (a as { data?: unknown }).data);

describe('dns zone (records.ts)', () => {
  const zone = new Zone({ nameServerIP: '10.96.0.10' });
  zone.setService(svc('default', 'web', { clusterIP: '10.96.5.5', clusterIPs: ['10.96.5.5', 'fd00::5'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
  zone.setService(svc('db', 'pg', { clusterIP: 'None', ports: [{ name: 'sql', port: 5432 }] }));
  zone.setEndpointSlice(slice('db', 'pg', 'pg-a', [
    { addresses: ['10.244.0.7'], hostname: 'pg-0', conditions: { ready: true } },
    { addresses: ['10.244.0.8'], conditions: { ready: true } },
    { addresses: ['10.244.0.9'], hostname: 'pg-2', conditions: { ready: false } },
  ], [{ name: 'sql', port: 5432, protocol: 'TCP' }]));
  zone.setService(svc('default', 'ext', { type: 'ExternalName', externalName: 'db.example.com' }));
  zone.setService(svc('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }));
  zone.setPod({ namespace: 'default', name: 'p1', ips: ['10.244.0.20'] });

  it('answers A and AAAA of a ClusterIP Service, NODATA for other types, with TTL 5', () => {
    const a = zone.resolve('web.default.svc.cluster.local.', 'A');
    assert.equal(a.rcode, 'NOERROR');
    assert.deepEqual(data(a), ['10.96.5.5']);
    assert.equal(a.answers[0].type === 'A' && a.answers[0].ttl, 5);
    assert.deepEqual(data(zone.resolve('WEB.Default.svc.cluster.local', 'AAAA')), ['fd00::5']);
    const txt = zone.resolve('web.default.svc.cluster.local', 'TXT');
    assert.equal(txt.rcode, 'NOERROR');
    assert.equal(txt.answers.length, 0);
    assert.equal(txt.authorities[0].type, 'SOA');
  });

  it('answers a headless Service with its ready endpoints, and endpoints by hostname or dashed address', () => {
    assert.deepEqual(data(zone.resolve('pg.db.svc.cluster.local', 'A')).sort(), ['10.244.0.7', '10.244.0.8']);
    assert.deepEqual(data(zone.resolve('pg-0.pg.db.svc.cluster.local', 'A')), ['10.244.0.7']);
    assert.deepEqual(data(zone.resolve('10-244-0-8.pg.db.svc.cluster.local', 'A')), ['10.244.0.8']);
    assert.equal(zone.resolve('pg-2.pg.db.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
  });

  it('answers SRV for named ports: the Service, or each ready endpoint of a headless one', () => {
    const s = zone.resolve('_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(s), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    assert.deepEqual(s.additionals.map((a) => (a as { data: unknown }).data), ['10.96.5.5', 'fd00::5']);
    assert.equal(zone.resolve('_dns._udp.web.default.svc.cluster.local', 'SRV').answers.length, 1);
    assert.equal(zone.resolve('_dns._tcp.web.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
    const h = zone.resolve('_sql._tcp.pg.db.svc.cluster.local', 'SRV');
    assert.deepEqual(
      data(h).map((d) => (d as { target: string }).target).sort(),
      ['10-244-0-8.pg.db.svc.cluster.local', 'pg-0.pg.db.svc.cluster.local'],
    );
  });

  it('answers CNAME for ExternalName, following a target inside the zone', () => {
    assert.deepEqual(data(zone.resolve('ext.default.svc.cluster.local', 'A')), ['db.example.com']);
    const alias = zone.resolve('alias.default.svc.cluster.local', 'A');
    assert.deepEqual(alias.answers.map((a) => a.type), ['CNAME', 'A']);
  });

  it('answers PTR for Service, endpoint and pod addresses', () => {
    assert.deepEqual(data(zone.resolve('5.5.96.10.in-addr.arpa', 'PTR')), ['web.default.svc.cluster.local']);
    assert.deepEqual(data(zone.resolve('7.0.244.10.in-addr.arpa', 'PTR')), ['pg-0.pg.db.svc.cluster.local']);
    assert.deepEqual(data(zone.resolve('20.0.244.10.in-addr.arpa', 'PTR')), ['10-244-0-20.default.pod.cluster.local']);
    assert.deepEqual(data(zone.resolve(reverseName('fd00::5'), 'PTR')), ['web.default.svc.cluster.local']);
    const unknown = zone.resolve('1.2.3.4.in-addr.arpa', 'PTR');
    assert.equal(unknown.rcode, 'NXDOMAIN');
    assert.equal(unknown.outOfZone, true);
  });

  it('answers pod A records by mode', () => {
    assert.deepEqual(data(zone.resolve('10-244-0-99.default.pod.cluster.local', 'A')), ['10.244.0.99']);
    const verified = new Zone({ pods: 'verified' });
    verified.setPod({ namespace: 'default', name: 'p1', ips: ['10.244.0.20'] });
    assert.deepEqual(data(verified.resolve('10-244-0-20.default.pod.cluster.local', 'A')), ['10.244.0.20']);
    assert.equal(verified.resolve('10-244-0-99.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
    assert.equal(verified.resolve('10-244-0-20.other.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  });

  it('is NXDOMAIN with the SOA for unknown names, refuses names outside the zone', () => {
    const nx = zone.resolve('nope.default.svc.cluster.local', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.equal(nx.authorities[0].type, 'SOA');
    assert.equal(nx.authorities[0].name, 'cluster.local');
    assert.deepEqual((nx.authorities[0] as { data: { mname: string } }).data.mname, 'ns.dns.cluster.local');
    assert.equal(zone.resolve('default.svc.cluster.local', 'A').rcode, 'NOERROR');
    assert.equal(zone.resolve('nons.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    const out = zone.resolve('example.com', 'A');
    assert.equal(out.rcode, 'REFUSED');
    assert.equal(out.outOfZone, true);
  });

  it('follows changes: a deleted Service is gone, its slices come back with it', () => {
    const z = new Zone({ clusterDomain: 'corp.example' });
    z.setEndpointSlice(slice('a', 'h', 'h-1', [{ addresses: ['10.1.0.1'] }]));
    assert.equal(z.resolve('h.a.svc.corp.example', 'A').rcode, 'NXDOMAIN');
    const g = z.generation;
    z.setService(svc('a', 'h', { clusterIP: 'None' }));
    assert.ok(z.generation > g);
    assert.deepEqual(data(z.resolve('h.a.svc.corp.example', 'A')), ['10.1.0.1']);
    z.deleteService('a', 'h');
    assert.equal(z.resolve('h.a.svc.corp.example', 'A').rcode, 'NXDOMAIN');
    z.setService(svc('a', 'h', { clusterIP: 'None' }));
    assert.deepEqual(data(z.resolve('h.a.svc.corp.example', 'A')), ['10.1.0.1']);
    z.deleteEndpointSlice(slice('a', 'h', 'h-1', []));
    assert.equal(z.resolve('h.a.svc.corp.example', 'A').answers.length, 0);
  });

  it('converts addresses and reverse names', () => {
    assert.equal(dashedAddress('10.244.0.5'), '10-244-0-5');
    assert.equal(reverseName('10.96.0.10'), '10.0.96.10.in-addr.arpa');
    assert.equal(reverseNameToIP('10.0.96.10.in-addr.arpa'), '10.96.0.10');
    assert.equal(reverseNameToIP('x.0.96.10.in-addr.arpa'), undefined);
    assert.equal(reverseNameToIP(reverseName('fd00::5')), 'fd00:0000:0000:0000:0000:0000:0000:0005');
  });
});
