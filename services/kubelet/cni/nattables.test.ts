import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existingNatTables, natTableIsLeftover, removeLeftoverNatTables } from './nattables.js';

/**
 * The nat tables iptables-nft leaves for the portmap plugin (root): in a network namespace
 * of the test's own, `iptables -t nat` makes what portmap's teardown and a hostPort pod make.
 */
describe('CNI: the nat tables the portmap plugin leaves (root)', () => {
  const ns = `flt-nat${Math.random().toString(16).slice(2, 8)}`;
  const inNs = (...args: string[]) => {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  };
  /** portmap's top-level chains, as a hostPort pod leaves them once it is gone */
  const portmapIdle = (ipt: string) => {
    for (const c of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']) inNs(ipt, '-t', 'nat', '-N', c);
    inNs(ipt, '-t', 'nat', '-A', 'PREROUTING', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT');
    inNs(ipt, '-t', 'nat', '-A', 'OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'CNI-HOSTPORT-DNAT');
    inNs(ipt, '-t', 'nat', '-A', 'POSTROUTING', '-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ');
    inNs(ipt, '-t', 'nat', '-A', 'CNI-HOSTPORT-MASQ', '-m', 'mark', '--mark', '0x2000/0x2000', '-j', 'MASQUERADE');
    inNs(ipt, '-t', 'nat', '-A', 'CNI-HOSTPORT-SETMARK', '-m', 'comment', '--comment', 'CNI portfwd masquerade mark', '-j', 'MARK', '--set-xmark', '0x2000/0x2000');
  };

  before(() => assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0, `ip netns add ${ns}`));
  after(() => spawnSync('ip', ['netns', 'delete', ns]));

  it('removes an empty nat table that was not there before, in both families; keeps one that was, and one with a rule of someone else', () => {
    const before = existingNatTables(ns);
    assert.deepEqual([...before], []);
    for (const ipt of ['iptables', 'ip6tables']) {
      inNs(ipt, '-t', 'nat', '-N', 'CNI-HOSTPORT-DNAT');
      inNs(ipt, '-t', 'nat', '-X', 'CNI-HOSTPORT-DNAT');
    }
    inNs('iptables', '-t', 'nat', '-S', 'POSTROUTING');
    assert.deepEqual([...existingNatTables(ns)], ['ip nat', 'ip6 nat']);
    assert.deepEqual(removeLeftoverNatTables(new Set(['ip6 nat']), ns), ['ip nat'], 'ip6 nat existed before: kept');
    assert.deepEqual([...existingNatTables(ns)], ['ip6 nat']);
    inNs('ip6tables', '-t', 'nat', '-A', 'POSTROUTING', '-j', 'MASQUERADE');
    assert.deepEqual(removeLeftoverNatTables(before, ns), [], 'a table holding a rule that is not portmap\'s is someone\'s');
    inNs('ip6tables', '-t', 'nat', '-F', 'POSTROUTING');
    assert.deepEqual(removeLeftoverNatTables(before, ns), ['ip6 nat']);
    assert.deepEqual([...existingNatTables(ns)], []);
  });

  it('removes the portmap plugin\'s idle chains with their table, but not while a port mapping hangs in CNI-HOSTPORT-DNAT', () => {
    portmapIdle('iptables');
    inNs('iptables', '-t', 'nat', '-N', 'CNI-DN-0123456789abcdef');
    inNs('iptables', '-t', 'nat', '-A', 'CNI-HOSTPORT-DNAT', '-p', 'tcp', '-m', 'multiport', '--dports', '31999', '-j', 'CNI-DN-0123456789abcdef');
    assert.deepEqual(removeLeftoverNatTables(new Set(), ns), [], 'a live hostPort mapping (another runtime\'s pod) keeps the table');
    inNs('iptables', '-t', 'nat', '-F', 'CNI-HOSTPORT-DNAT');
    inNs('iptables', '-t', 'nat', '-X', 'CNI-DN-0123456789abcdef');
    assert.deepEqual(removeLeftoverNatTables(new Set(), ns), ['ip nat']);
    assert.deepEqual([...existingNatTables(ns)], []);
  });

  it('counts as left over only base chains of no rule with an accept policy and portmap\'s idle chains', () => {
    const meta = { metainfo: { version: '1.0.6' } };
    const table = { table: { family: 'ip', name: 'nat' } };
    const chain = (policy?: string) => ({ chain: { family: 'ip', table: 'nat', name: 'OUTPUT', type: 'nat', hook: 'output', prio: -100, policy } });
    const list = (...o: unknown[]) => JSON.stringify({ nftables: [meta, table, ...o] });
    assert.equal(natTableIsLeftover(list(chain('accept'), chain())), true);
    assert.equal(natTableIsLeftover(list(chain('drop'))), false);
    assert.equal(natTableIsLeftover(list({ chain: { name: 'KUBE-SERVICES' } })), false, 'a regular chain that is not portmap\'s');
    assert.equal(natTableIsLeftover(list(chain('accept'), { rule: { chain: 'OUTPUT', expr: [{ counter: {} }] } })), false);
    assert.equal(natTableIsLeftover(list(chain('accept'), { rule: { chain: 'OUTPUT', expr: [{ jump: { target: 'CNI-HOSTPORT-DNAT' } }] } })), true);
    assert.equal(natTableIsLeftover(list({ set: { name: 's' } })), false);
    assert.equal(natTableIsLeftover('not json'), false);
  });
});
