import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import { TableContents } from './contents.js';
import { diffTransaction, fullTransaction } from './nftables.js';
import { buildRuleset, serviceRules, type ServiceWithSlices } from './rules.js';
import { canCheck, CFG, nftCheck, slice, svc as service } from './testing/fixtures.js';

/** Service number n: ClusterIP 10.96.8.n */
const svc = (name: string, n: number, spec?: Service['spec']): Service => service(name, { clusterIP: `10.96.8.${n}`, ...spec });

/** the proxy's way: Services by namespace/name, each change rendered into the contents */
class Cluster {
  readonly services = new Map<string, ServiceWithSlices>();
  readonly contents = new TableContents(CFG);

  put(s: ServiceWithSlices): void {
    const key = `default/${s.service.metadata!.name}`;
    this.services.set(key, s);
    this.contents.set(key, serviceRules(CFG, s, this.contents.slots));
  }

  remove(name: string): void {
    this.services.delete(`default/${name}`);
    this.contents.set(`default/${name}`, undefined);
  }

  /** the incremental transaction since the last one */
  diff(table: string): string {
    const c = this.contents.changes();
    const t = diffTransaction(table, c.prev, c.next);
    this.contents.commit();
    return t;
  }
}

/** 70 Services of two endpoints: two endpoints-K maps */
function many(c: Cluster): void {
  for (let i = 0; i < 70; i++) c.put({ service: svc(`m${i}`, 100 + i), slices: [slice(`m${i}`, [`10.244.6.${i}`, `10.244.7.${i}`])] });
}


describe('proxy table contents (incremental)', () => {
  it('after every change holds what a whole rebuild with the same slots gives', () => {
    const c = new Cluster();
    const check = (step: string) => assert.deepEqual(c.contents.ruleset(), buildRuleset(CFG, c.services.values(), c.contents.slots), step);
    many(c);
    c.contents.commit();
    check('70 Services');
    // a pod behind two Services: one hairpin pair, claimed twice
    c.put({ service: svc('a', 1), slices: [slice('a', ['10.244.0.5', '10.244.0.6'])] });
    c.put({ service: svc('b', 2), slices: [slice('b', ['10.244.0.5'])] });
    check('two Services, one pod in both');
    c.remove('a');
    check('a removed: the shared pair stays for b');
    assert.ok(c.contents.ruleset().elements.get('hairpin')!.has('10.244.0.5 . 10.244.0.5'));
    c.put({ service: svc('b', 2, { sessionAffinity: 'ClientIP' }), slices: [slice('b', ['10.244.0.5', '10.244.0.7', '10.244.0.8'])] });
    check('b sticky with three endpoints');
    for (let i = 0; i < 70; i += 2) c.remove(`m${i}`);
    check('half of the 70 gone');
    c.put({ service: svc('c', 3), slices: [slice('c', ['10.244.0.9', '10.244.0.10'])] });
    check('c takes a freed slot');
    assert.equal(c.contents.chainCount, buildRuleset(CFG, c.services.values(), c.contents.slots).chains.size);
  });

  it('an endpoint change is map elements only: the Service keeps its slot and rule', () => {
    const c = new Cluster();
    many(c);
    c.contents.commit();
    c.put({ service: svc('m5', 105), slices: [slice('m5', ['10.244.6.5', '10.244.9.9'])] });
    assert.deepEqual(c.diff('t').trim().split('\n'), [
      'delete element ip t hairpin { 10.244.7.5 . 10.244.7.5 }',
      'add element ip t hairpin { 10.244.9.9 . 10.244.9.9 }',
      'delete element ip t endpoints-0 { 327681 }',
      'add element ip t endpoints-0 { 327681 : 10.244.9.9 . 8080 }',
    ]);
    assert.equal(c.diff('t'), '', 'nothing since');
  });

  it('an unchanged Service rendered again changes nothing, though its elements were claimed afresh', () => {
    const c = new Cluster();
    many(c);
    c.contents.commit();
    c.put({ service: svc('m7', 107), slices: [slice('m7', ['10.244.6.7', '10.244.7.7'])] });
    assert.equal(c.diff('t'), '');
  });

  it('the last list of a map gone: its rules, then the map with its elements, then its chains go', () => {
    const c = new Cluster();
    many(c);
    c.contents.commit();
    for (let i = 64; i < 70; i++) c.remove(`m${i}`);
    const d = c.diff('t').trim().split('\n');
    const del = d.indexOf('delete map ip t endpoints-1');
    assert.ok(!d.some((l) => l.includes('element ip t endpoints-1')), 'the map takes its elements along');
    const flushed = d.map((l, i) => (l.startsWith('flush chain') ? i : -1)).filter((i) => i >= 0);
    const deleted = d.map((l, i) => (l.startsWith('delete chain') ? i : -1)).filter((i) => i >= 0);
    assert.equal(flushed.length, 6);
    assert.ok(Math.max(...flushed) < del && del < Math.min(...deleted), 'after the rules that use it, before the chains go');
  });

  (canCheck ? it : it.skip)('the kernel accepts a full transaction and a series of incremental ones (nft -c, nothing committed)', () => {
    const table = `flt-proxy-cchk-${process.pid}`;
    const c = new Cluster();
    many(c);
    c.put({ service: svc('sticky', 1, { type: 'NodePort', sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30083, protocol: 'TCP' }] }), slices: [slice('sticky', ['10.244.0.5', '10.244.0.6'])] });
    const parts = [fullTransaction(table, c.contents.ruleset())];
    c.contents.commit();
    c.put({ service: svc('m3', 103), slices: [slice('m3', ['10.244.6.3', '10.244.7.3', '10.244.8.3'])] }); // N changes: rule and elements
    c.put({ service: svc('sticky', 1, { type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ports: [{ name: 'http', port: 80, nodePort: 30083, protocol: 'TCP' }] }), slices: [slice('sticky', ['10.244.0.5', '10.244.0.7'])] });
    parts.push(c.diff(table));
    for (let i = 0; i < 64; i++) c.remove(`m${i}`); // endpoints-0 goes
    parts.push(c.diff(table));
    c.put({ service: svc('new', 2), slices: [slice('new', ['10.244.0.8', '10.244.0.9'])] }); // a freed slot: endpoints-0 again
    c.remove('sticky'); // endpoint-chains-1 and the affinity sets go
    parts.push(c.diff(table));
    assert.ok(parts[2]!.includes(`delete map ip ${table} endpoints-0`));
    assert.ok(parts[3]!.includes(`delete map ip ${table} endpoint-chains-1`) && parts[3]!.includes(`add map ip ${table} endpoints-0`));
    nftCheck(table, parts.join(''));
  });
});
