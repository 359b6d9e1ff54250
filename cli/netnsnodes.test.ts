import assert from 'node:assert/strict';
import { checkNodeLinkCIDR, DEFAULT_NODE_LINK_CIDR, machineNetworksOverlapping, netnsNodeNames } from './netnsnodes.js';

describe('flotilla up --nodes: the namespaced nodes\' names and link networks', () => {
  it('names node i after the first node\'s bridge and network, interface names within 15 characters, and gives it /30 number i-2', () => {
    assert.deepEqual(netnsNodeNames('/d', 'flt0', 'flotilla', 2, DEFAULT_NODE_LINK_CIDR), {
      name: 'flt-node2',
      hostInterface: 'flt-node2',
      bridge: 'flt1',
      network: 'flotilla-node2',
      linkCIDR: '10.250.0.0/30',
      dir: '/d/nodes/flt-node2',
    });
    assert.equal(netnsNodeNames('/d', 'flt0', 'flotilla', 3, DEFAULT_NODE_LINK_CIDR).linkCIDR, '10.250.0.4/30');
    const custom = netnsNodeNames('/d', 'flt-t-abc123', 'flotilla', 12, '10.250.7.0/24');
    assert.equal(custom.name, 'flt-t-abc123-node12');
    assert.equal(custom.hostInterface, 'flt-t-ab-node12');
    assert.equal(custom.bridge, 'flt-t-abc12-b12');
    assert.equal(custom.linkCIDR, '10.250.7.40/30');
    for (const n of [custom.hostInterface, custom.bridge]) assert.ok(n.length <= 15, n);
  });

  it('refuses a link range too small for the nodes or overlapping the cluster\'s ranges', () => {
    assert.equal(checkNodeLinkCIDR('10.250.0.9/24', 3, [['the cluster CIDR', '10.244.0.0/16']]), '10.250.0.0/24');
    assert.throws(() => checkNodeLinkCIDR('10.250.0.0/30', 3, []), /holds 1 \/30s; 2 namespaced nodes need one each/);
    assert.throws(() => checkNodeLinkCIDR('10.250.0.0/24', 2, [['the cluster CIDR', '10.240.0.0/12']]), /overlaps the cluster CIDR 10\.240\.0\.0\/12: pick another range with --node-link-cidr/);
  });

  it('finds this machine\'s networks a range overlaps (loopback, here)', () => {
    assert.ok(machineNetworksOverlapping('127.0.0.0/30').some((n) => n.startsWith('127.0.0.')), 'loopback overlaps 127.0.0.0/30');
    assert.deepEqual(machineNetworksOverlapping('0.0.0.0/32'), []);
  });
});
