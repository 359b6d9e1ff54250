import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../../../test/wait.js';
import { BridgeNetwork, parseIPv4CIDR } from './bridge.js';

describe('CNI bridge network config', () => {
  it('writes a bridge + host-local conflist over the podCIDR, with portmap, its own IPAM store and no masquerade', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-cni-'));
    try {
      const net = new BridgeNetwork({ confDir: path.join(dir, 'net.d'), name: 'flotilla', bridge: 'flt0', podCIDR: '10.244.3.7/24' });
      net.setUp();
      const conf = JSON.parse(readFileSync(path.join(dir, 'net.d', '10-flotilla.conflist'), 'utf8'));
      assert.equal(conf.name, 'flotilla');
      assert.deepEqual(
        conf.plugins.map((p: { type: string }) => p.type),
        ['bridge', 'portmap'],
      );
      const [bridge, portmap] = conf.plugins;
      assert.equal(bridge.bridge, 'flt0');
      assert.equal(bridge.isGateway, true);
      assert.equal(bridge.ipMasq, false);
      assert.deepEqual(bridge.ipam.ranges, [[{ subnet: '10.244.3.0/24' }]]);
      assert.equal(bridge.ipam.dataDir, path.join(dir, 'ipam'));
      assert.deepEqual(portmap.capabilities, { portMappings: true });
      net.tearDown();
      assert.throws(() => readFileSync(net.confFile));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes the same network without portmap for the runtime handler of pods without hostPorts, and removes both', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-cni-'));
    try {
      const light = path.join(dir, 'net.d-nohostport');
      const net = new BridgeNetwork({ confDir: path.join(dir, 'net.d'), name: 'flotilla', bridge: 'flt-nohp-test', podCIDR: '10.244.3.0/24', noHostPortConfDir: light });
      net.setUp();
      const full = JSON.parse(readFileSync(net.confFile, 'utf8'));
      const conf = JSON.parse(readFileSync(path.join(light, '10-flotilla.conflist'), 'utf8'));
      assert.deepEqual(
        conf.plugins.map((p: { type: string }) => p.type),
        ['bridge'],
      );
      // one network: same name, bridge and lease store, so addresses never collide
      assert.deepEqual(conf.plugins[0], full.plugins[0]);
      assert.equal(conf.name, full.name);
      // tearDown finds it by convention, as `flotilla up` removes a network it did not set up
      new BridgeNetwork({ confDir: path.join(dir, 'net.d'), name: 'flotilla', bridge: 'flt-nohp-test', podCIDR: '10.244.3.0/24' }).tearDown();
      assert.throws(() => readFileSync(path.join(light, '10-flotilla.conflist')));
      assert.throws(() => readFileSync(net.confFile));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes, with the bridge, the network namespaces of pods left on it (root)', () => {
    const suffix = Math.random().toString(16).slice(2, 8);
    const [bridge, ns, veth] = [`flt-brt${suffix}`, `flt-brn${suffix}`, `flt-brv${suffix}`];
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-cni-'));
    const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
    try {
      // what the bridge plugin made for a sandbox whose runtime stopped before removing it
      for (const args of [['netns', 'add', ns], ['link', 'add', bridge, 'type', 'bridge'], ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns], ['link', 'set', veth, 'master', bridge]]) {
        const r = ip(...args);
        assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
      }
      const net = new BridgeNetwork({ confDir: path.join(dir, 'net.d'), name: 'flotilla', bridge, podCIDR: '10.244.3.0/24' });
      assert.deepEqual(net.podNetworkNamespaces(), [ns]);
      net.tearDown();
      assert.ok(!existsSync(`/run/netns/${ns}`), 'the pod\'s network namespace is gone');
      assert.ok(!existsSync(`/sys/class/net/${veth}`) && !existsSync(`/sys/class/net/${bridge}`), 'its veth and the bridge are gone');
    } finally {
      ip('netns', 'delete', ns);
      ip('link', 'delete', bridge);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the bridge and its ports while their IPv6 addresses are tentative, and no other interface (root)', async () => {
    const suffix = Math.random().toString(16).slice(2, 8);
    const [bridge, port, peer, other, otherPeer] = [`flt-bdt${suffix}`, `flt-bdp${suffix}`, `flt-bdq${suffix}`, `flt-bdo${suffix}`, `flt-bdr${suffix}`];
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-cni-'));
    const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
    const ipv6 = readFileSync('/proc/sys/net/ipv6/conf/default/disable_ipv6', 'utf8').trim() === '0';
    try {
      // a pod's veth on the bridge, and a veth pair of the test's own beside it
      for (const args of [['link', 'add', bridge, 'type', 'bridge'], ['link', 'add', port, 'type', 'veth', 'peer', 'name', peer], ['link', 'add', other, 'type', 'veth', 'peer', 'name', otherPeer], ['link', 'set', port, 'master', bridge]]) {
        const r = ip(...args);
        assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
      }
      for (const l of [bridge, port, peer, other, otherPeer]) ip('link', 'set', l, 'up');
      const net = new BridgeNetwork({ confDir: path.join(dir, 'net.d'), name: 'flotilla', bridge, podCIDR: '10.244.3.0/24' });
      if (ipv6) assert.deepEqual(net.tentativeInterfaces().sort(), [bridge, port].sort(), 'just up: both still checking their addresses, the other pair not named');
      await waitFor('duplicate address detection to end', async () => net.tentativeInterfaces().length === 0 || undefined, 15_000);
    } finally {
      for (const l of [port, other, bridge]) ip('link', 'delete', l);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bridge name longer than Linux allows and a podCIDR that is not IPv4', () => {
    assert.throws(() => new BridgeNetwork({ confDir: '/x', name: 'n', bridge: 'a-name-too-long-0', podCIDR: '10.0.0.0/24' }), /bridge name "a-name-too-long-0" must be 1 to 15/);
    assert.throws(() => new BridgeNetwork({ confDir: '/x', name: 'n', bridge: 'b', podCIDR: 'fd00::/64' }), /podCIDR "fd00::\/64" is not an IPv4 CIDR/);
    assert.throws(() => parseIPv4CIDR('10.0.0.300/24'), /not an IPv4 CIDR/);
    assert.deepEqual(parseIPv4CIDR('10.200.17.9/16'), { network: '10.200.0.0', prefix: 16 });
  });
});
