import assert from 'node:assert/strict';
import { cidrContains } from '../../lib/net/mod.js';
import { PodIpAllocator, nodeInternalIp, nodePodCidr } from './podip.js';

describe('kubelet pod addresses', () => {
  it('gives each node its own /24 of 10.0.0.0/8', () => {
    assert.equal(nodePodCidr(0), '10.0.0.0/24');
    assert.equal(nodePodCidr(257), '10.1.1.0/24');
    const seen = new Set(Array.from({ length: 10_000 }, (_, i) => nodePodCidr(i)));
    assert.equal(seen.size, 10_000);
    assert.throws(() => nodePodCidr(65_536), /outside/);
  });

  it('gives nodes distinct InternalIPs outside the pod ranges', () => {
    assert.equal(nodeInternalIp(0), '172.16.0.1');
    assert.notEqual(nodeInternalIp(255), nodeInternalIp(256));
    assert.equal(cidrContains('10.0.0.0/8', nodeInternalIp(5)), false);
  });

  it('hands out distinct addresses inside the range, never network, gateway or broadcast', () => {
    const a = new PodIpAllocator('10.0.3.0/24');
    const ips = new Set<string>();
    for (let i = 0; i < 253; i++) {
      const ip = a.allocate(`ns/p${i}`);
      assert.ok(cidrContains('10.0.3.0/24', ip), ip);
      ips.add(ip);
    }
    assert.equal(ips.size, 253);
    for (const reserved of ['10.0.3.0', '10.0.3.1', '10.0.3.255']) assert.equal(ips.has(reserved), false, reserved);
    assert.throws(() => a.allocate('ns/extra'), /no free address/);
    a.release('ns/p7');
    assert.equal(a.allocate('ns/extra'), '10.0.3.9');
  });

  it('keeps one address per pod and reserves known addresses only when free', () => {
    const a = new PodIpAllocator('10.0.0.0/24');
    const ip = a.allocate('ns/a');
    assert.equal(a.allocate('ns/a'), ip);
    assert.equal(a.reserve('ns/b', ip), false);
    assert.equal(a.reserve('ns/b', '10.0.0.77'), true);
    assert.equal(a.reserve('ns/c', '10.0.1.5'), false);
    assert.equal(a.ipOf('ns/b'), '10.0.0.77');
    assert.equal(a.allocated, 2);
  });
});
