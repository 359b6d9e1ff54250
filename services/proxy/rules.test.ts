import assert from 'node:assert/strict';
import { diffTransaction, fullTransaction } from './nftables.js';
import { buildRuleset, categorizeEndpoints, EndpointSlots, endpointsFor, shortHash, SLOT_SIZE, type ProxyEndpoint } from './rules.js';
import { canCheck, CFG, nftCheck, slice, svc } from './testing/fixtures.js';

/** the Service chain of that kind (service-, local-, external-): its name and rules */
const chainOf = (rs: ReturnType<typeof buildRuleset>, prefix: string) => [...rs.chains.entries()].find(([n]) => new RegExp(`^${prefix}[A-Z2-7]{8}-`).test(n));

describe('proxy rules', () => {
  it('picks ready endpoints, else serving-terminating ones, per node too (upstream CategorizeEndpoints)', () => {
    const e = (ip: string, ready: boolean, serving: boolean, terminating: boolean, nodeName = 'node-a'): ProxyEndpoint => ({ ip, port: 80, ready, serving, terminating, nodeName });
    const r = categorizeEndpoints([e('10.0.0.1', true, true, false), e('10.0.0.2', false, true, true), e('10.0.0.3', false, false, false), e('10.0.0.4', true, true, false, 'node-b')], 'node-a');
    assert.deepEqual(r.cluster.map((x) => x.ip), ['10.0.0.1', '10.0.0.4']);
    assert.deepEqual(r.local.map((x) => x.ip), ['10.0.0.1']);
    const t = categorizeEndpoints([e('10.0.0.2', false, true, true), e('10.0.0.3', false, false, false)], 'node-a');
    assert.deepEqual(t.cluster.map((x) => x.ip), ['10.0.0.2'], 'graceful termination: serving terminating endpoints when none is ready');
    assert.equal(categorizeEndpoints([e('10.0.0.3', false, false, false)], 'node-a').hasAny, false);
  });

  it('matches slice ports by name and protocol, one endpoint per address', () => {
    const s1 = slice('web', [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }]);
    const s2 = { ...slice('web', [{ ip: '10.244.0.5' }]), ports: [{ name: 'other', port: 9, protocol: 'TCP' as const }] };
    const eps = endpointsFor({ name: 'http', port: 80, protocol: 'TCP' }, [s1, s2, slice('web', [{ ip: '10.244.0.6' }])]);
    assert.deepEqual(eps.map((x) => `${x.ip}:${x.port}`), ['10.244.0.5:8080', '10.244.0.6:8080']);
    assert.deepEqual(endpointsFor({ name: 'http', port: 80, protocol: 'UDP' }, [s1]), []);
  });

  it('a ClusterIP spreads with numgen over its ready endpoints; masquerade from outside the cluster; hairpin pairs', () => {
    const rs = buildRuleset(CFG, [{ service: svc('web', { clusterIP: '10.96.5.5' }), slices: [slice('web', [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }, { ip: '10.244.0.7', ready: false, serving: false }])] }]);
    const [name, rules] = chainOf(rs, 'service-')!;
    assert.equal(name, `service-${shortHash('default/web/tcp/http')}-default/web/tcp/http`);
    assert.deepEqual(rules, [
      'ip daddr 10.96.5.5 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade',
      'meta l4proto tcp dnat ip addr . port to numgen random mod 2 offset 0 map @endpoints-0',
    ]);
    // the endpoints are elements of a named map (slot 0: keys 0 and 1), not an anonymous map in the rule
    assert.deepEqual([...rs.elements.get('endpoints-0')!], [['0', '10.244.0.5 . 8080'], ['1', '10.244.0.6 . 8080']]);
    assert.equal(rs.sets.get('endpoints-0'), 'typeof numgen random mod 1 : ip daddr . tcp dport;');
    assert.equal(rs.elements.get('service-ips')!.get('10.96.5.5 . tcp . 80'), `goto ${name}`);
    assert.deepEqual([...rs.elements.get('cluster-ips')!.keys()], ['10.96.5.5']);
    assert.ok(rs.elements.get('hairpin')!.has('10.244.0.5 . 10.244.0.5'));
    const remote = buildRuleset(CFG, [{ service: svc('web', { clusterIP: '10.96.5.5' }), slices: [slice('web', [{ ip: '10.244.1.5', node: 'node-b' }])] }]);
    assert.equal(remote.elements.get('hairpin')!.size, 0, 'no hairpin pair for a pod on another node');
    assert.equal(rs.elements.get('no-endpoint-services')!.size, 0);
  });

  it('no endpoints: reject at once; endpoints only elsewhere under a Local policy: drop', () => {
    const rs = buildRuleset(CFG, [
      { service: svc('empty', { clusterIP: '10.96.5.6', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] }), slices: [] },
      { service: svc('itp', { clusterIP: '10.96.5.7', internalTrafficPolicy: 'Local' }), slices: [slice('itp', [{ ip: '10.244.1.5', node: 'node-b' }])] },
    ]);
    assert.equal(rs.elements.get('no-endpoint-services')!.get('10.96.5.6 . tcp . 80'), 'goto reject-chain');
    assert.equal(rs.elements.get('no-endpoint-nodeports')!.get('tcp . 30080'), 'goto reject-chain');
    assert.equal(rs.elements.get('no-endpoint-services')!.get('10.96.5.7 . tcp . 80'), 'drop');
    assert.equal(rs.elements.get('service-ips')!.size, 0);
    assert.deepEqual(rs.chains.get('reject-chain'), ['meta l4proto tcp reject with tcp reset', 'reject']);
  });

  it('NodePort and load-balancer IPs go through the external chain; externalTrafficPolicy Local keeps the client to local endpoints', () => {
    const lb = svc('lb', { clusterIP: '10.96.5.8', type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30081, protocol: 'TCP' }] }, { loadBalancer: { ingress: [{ ip: '10.240.0.3' }] } });
    const rs = buildRuleset(CFG, [{ service: lb, slices: [slice('lb', [{ ip: '10.244.0.5' }, { ip: '10.244.1.5', node: 'node-b' }])] }]);
    const [ext, rules] = chainOf(rs, 'external-')!;
    const [cluster] = chainOf(rs, 'service-')!;
    const [local, localRules] = chainOf(rs, 'local-')!;
    assert.deepEqual(rules, [`ip saddr 10.244.0.0/16 goto ${cluster}`, 'fib saddr type local jump mark-for-masquerade', `fib saddr type local goto ${cluster}`, `goto ${local}`]);
    assert.deepEqual(localRules, ['meta l4proto tcp dnat ip to 10.244.0.5:8080']);
    assert.equal(rs.elements.get('service-nodeports')!.get('tcp . 30081'), `goto ${ext}`);
    assert.equal(rs.elements.get('service-ips')!.get('10.240.0.3 . tcp . 80'), `goto ${ext}`);
    const cl = buildRuleset(CFG, [{ service: { ...lb, spec: { ...lb.spec, externalTrafficPolicy: 'Cluster' } }, slices: [slice('lb', [{ ip: '10.244.0.5' }])] }]);
    assert.deepEqual(chainOf(cl, 'external-')![1], ['jump mark-for-masquerade', `goto ${chainOf(cl, 'service-')![0]}`]);
    assert.equal(chainOf(cl, 'local-'), undefined);
  });

  it('sessionAffinity ClientIP: an endpoint chain and affinity set each, with the timeout', () => {
    const s = svc('sticky', { clusterIP: '10.96.5.9', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
    const rs = buildRuleset(CFG, [{ service: s, slices: [slice('sticky', [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }])] }]);
    const eps = [...rs.chains.keys()].filter((n) => n.startsWith('endpoint-'));
    assert.equal(eps.length, 2);
    const affinity = [...rs.sets].filter(([n]) => n.startsWith('affinity-'));
    assert.deepEqual(affinity.map(([, decl]) => decl), ['type ipv4_addr; flags dynamic,timeout; timeout 60s;', 'type ipv4_addr; flags dynamic,timeout; timeout 60s;']);
    const rules = chainOf(rs, 'service-')![1];
    assert.match(rules[1]!, /^ip saddr @affinity-[A-Z2-7]{8} goto endpoint-/);
    assert.equal(rules[3], 'numgen random mod 2 offset 0 vmap @endpoint-chains-0');
    assert.deepEqual([...rs.elements.get('endpoint-chains-0')!], [['0', `goto ${eps[0]}`], ['1', `goto ${eps[1]}`]]);
    assert.match(rs.chains.get(eps[0]!)![0]!, /^update @affinity-[A-Z2-7]{8} \{ ip saddr \}$/);
    // a new timeout is a new set: a set's timeout cannot change in place
    const longer = buildRuleset(CFG, [{ service: { ...s, spec: { ...s.spec, sessionAffinityConfig: { clientIP: { timeoutSeconds: 90 } } } }, slices: [slice('sticky', [{ ip: '10.244.0.5' }])] }]);
    const [name, decl] = [...longer.sets].find(([n]) => n.startsWith('affinity-'))!;
    assert.ok(!rs.sets.has(name));
    assert.equal(decl, 'type ipv4_addr; flags dynamic,timeout; timeout 90s;');
    assert.equal(chainOf(longer, 'service-')![1].at(-1), `goto ${[...longer.chains.keys()].find((n) => n.startsWith('endpoint-'))}`, 'one endpoint: no numgen');
  });

  it('no rule a Service brings holds an anonymous set or map; 64 endpoint lists share a named map', () => {
    const many = Array.from({ length: 130 }, (_, i) => ({ service: svc(`s${i}`, { clusterIP: `10.96.6.${i}` }), slices: [slice(`s${i}`, [{ ip: `10.244.2.${i}` }, { ip: `10.244.3.${i}` }])] }));
    const sticky = svc('sticky', { clusterIP: '10.96.5.9', type: 'NodePort', sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30082, protocol: 'TCP' }] });
    const rs = buildRuleset(CFG, [...many, { service: sticky, slices: [slice('sticky', [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }, { ip: '10.244.1.7', node: 'node-b' }])] }]);
    const fixed = buildRuleset(CFG, []);
    const bound = new Map<string, number>();
    for (const [chain, rules] of rs.chains) {
      if (fixed.chains.has(chain)) continue;
      for (const r of rules) {
        // `{ ip saddr }` is the element an affinity set's update adds, not a set
        assert.ok(!r.replace(/^update @affinity-[A-Z2-7]{8} \{ ip saddr \}$/, '').includes('{'), `an anonymous set in ${chain}: ${r}`);
        for (const m of r.matchAll(/map @([a-z-]+\d+)/g)) bound.set(m[1]!, (bound.get(m[1]!) ?? 0) + 1);
      }
    }
    // 130 lists of two endpoints, the sticky Service's cluster and local lists
    assert.deepEqual([...bound], [['endpoints-0', 64], ['endpoints-1', 64], ['endpoints-2', 2], ['endpoint-chains-2', 2]]);
    assert.equal(rs.elements.get('endpoints-1')!.get(String(64 * SLOT_SIZE + 1)), '10.244.3.64 . 8080');
    assert.deepEqual([...rs.sets.keys()].filter((n) => !n.startsWith('affinity-')), ['endpoints-0', 'endpoints-1', 'endpoints-2', 'endpoint-chains-2']);
  });

  it('a list keeps its slot; a freed slot is reused; with none left the list goes into an anonymous map', () => {
    const slots = new EndpointSlots(2);
    assert.equal(slots.slot('a'), 0);
    assert.equal(slots.slot('b'), 1);
    assert.equal(slots.slot('a'), 0);
    assert.equal(slots.slot('c'), undefined, 'all taken');
    slots.release('a');
    assert.equal(slots.slot('c'), 0);
    const two = (name: string, n: number) => ({ service: svc(name, { clusterIP: `10.96.7.${n}` }), slices: [slice(name, [{ ip: `10.244.4.${n}` }, { ip: `10.244.5.${n}` }])] });
    const rs = buildRuleset(CFG, [two('x', 1), two('y', 2)], new EndpointSlots(1));
    const rules = [...rs.chains.values()].flat().filter((r) => r.startsWith('meta l4proto tcp dnat'));
    assert.deepEqual(rules, [
      'meta l4proto tcp dnat ip addr . port to numgen random mod 2 offset 0 map @endpoints-0',
      'meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.244.4.2 . 8080, 1 : 10.244.5.2 . 8080 }',
    ]);
  });

  it('a diff touches only what changed, and nothing when nothing did', () => {
    const base = [{ service: svc('web', { clusterIP: '10.96.5.5' }), slices: [slice('web', [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }])] }];
    const a = buildRuleset(CFG, base);
    assert.equal(diffTransaction('t', a, buildRuleset(CFG, base)), '');
    const b = buildRuleset(CFG, [{ ...base[0]!, slices: [slice('web', [{ ip: '10.244.0.5' }])] }]);
    const d = diffTransaction('t', a, b).trim().split('\n');
    const chain = chainOf(a, 'service-')![0];
    assert.deepEqual(d, [
      `flush chain ip t ${chain}`,
      `add rule ip t ${chain} ip daddr 10.96.5.5 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade`,
      `add rule ip t ${chain} meta l4proto tcp dnat ip to 10.244.0.5:8080`,
      'delete element ip t hairpin { 10.244.0.6 . 10.244.0.6 }',
      // last, once no rule refers to it; its elements go with it
      'delete map ip t endpoints-0',
    ]);
    const gone = diffTransaction('t', a, buildRuleset(CFG, [])).trim().split('\n');
    assert.ok(gone.indexOf('delete element ip t service-ips { 10.96.5.5 . tcp . 80 }') < gone.indexOf(`delete chain ip t ${chain}`), 'elements go before the chain they name');
  });

  (canCheck ? it : it.skip)('the kernel accepts the full and the incremental transactions (nft -c, nothing committed)', () => {
    const services = [
      { service: svc('web', { clusterIP: '10.96.5.5' }), slices: [slice('web', [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }])] },
      { service: svc('sticky', { clusterIP: '10.96.5.9', type: 'NodePort', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, nodePort: 30082, protocol: 'TCP' }] }), slices: [slice('sticky', [{ ip: '10.244.0.5' }])] },
      { service: svc('lb', { clusterIP: '10.96.5.8', type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30081, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }, { loadBalancer: { ingress: [{ ip: '10.240.0.3' }] } }), slices: [slice('lb', [{ ip: '10.244.1.5', node: 'node-b' }])] },
      { service: svc('empty', { clusterIP: '10.96.5.6' }), slices: [] },
    ];
    const table = `flt-proxy-check-${process.pid}`;
    const a = buildRuleset(CFG, services);
    nftCheck(table, fullTransaction(table, a));
    // -c checks against the kernel's current state, where the table does not exist: check the diff on top of the full one
    const b = buildRuleset(CFG, services.slice(1));
    nftCheck(table, fullTransaction(table, a) + diffTransaction(table, a, b));
  });
});
