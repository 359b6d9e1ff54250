import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseResolvConf, podDnsConfig, type ClusterDnsSettings } from './dnsconfig.js';

const host = parseResolvConf('# host\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example. lab.example\noptions timeout:2 rotate\n');
const settings: ClusterDnsSettings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host };
const pod = (spec: Partial<NonNullable<Pod['spec']>>, ns = 'shop'): Pod => ({ metadata: { name: 'p', namespace: ns }, spec: { containers: [], ...spec } });

describe('pod resolv.conf by dnsPolicy (dnsconfig.ts)', () => {
  it('parses a resolv.conf', () => {
    assert.deepEqual(host, { servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['timeout:2', 'rotate'] });
  });

  it('ClusterFirst: the cluster DNS, the namespace search path before the host\'s, ndots:5', () => {
    assert.deepEqual(podDnsConfig(pod({}), settings), {
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'],
      options: ['ndots:5'],
    });
  });

  it('host network: ClusterFirst falls back to Default, ClusterFirstWithHostNet keeps the cluster DNS', () => {
    assert.deepEqual(podDnsConfig(pod({ hostNetwork: true }), settings), host);
    assert.deepEqual(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings).servers, ['10.96.0.10']);
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), settings), host);
  });

  it('None takes only the pod\'s dnsConfig; dnsConfig merges into the others', () => {
    const dnsConfig = { nameservers: ['192.0.2.99'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig }), settings), { servers: ['192.0.2.99'], searches: ['a.example'], options: ['ndots:2', 'edns0'] });
    const merged = podDnsConfig(pod({ dnsConfig }), settings);
    assert.deepEqual(merged.servers, ['10.96.0.10', '192.0.2.99']);
    assert.equal(merged.searches.at(-1), 'a.example');
    assert.deepEqual(merged.options, ['ndots:2', 'edns0']);
  });

  it('without --cluster-dns: Default and a MissingClusterDNS warning; limits as upstream', () => {
    const warnings: string[] = [];
    assert.deepEqual(podDnsConfig(pod({}), { ...settings, clusterDNS: [] }, (r) => warnings.push(r)), host);
    assert.deepEqual(warnings, ['MissingClusterDNS']);
    const many = podDnsConfig(pod({ dnsConfig: { nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3'], searches: Array.from({ length: 40 }, (_, i) => `s${i}.example`) } }), settings, (r) => warnings.push(r));
    assert.equal(many.servers.length, 3);
    assert.equal(many.searches.length, 32);
    assert.deepEqual(warnings, ['MissingClusterDNS', 'DNSConfigForming', 'DNSConfigForming']);
  });
});
