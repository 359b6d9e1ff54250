import assert from 'node:assert/strict';
import { cidrContains, cidrWithin, formatCidr, intToIp, ipToInt, parseCidr, subnet, subnetIndex } from './ipv4.js';

describe('lib/net ipv4', () => {
  it('parses and formats addresses, refusing what net.ParseIP refuses', () => {
    assert.equal(ipToInt('10.244.1.2'), 0x0af40102);
    assert.equal(intToIp(0xffffffff), '255.255.255.255');
    assert.equal(intToIp(ipToInt('0.0.0.0')), '0.0.0.0');
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.x', '']) assert.throws(() => ipToInt(bad), /not an IPv4 address/, bad);
  });

  it('parses CIDRs with host bits cleared and refuses bad ones', () => {
    assert.deepEqual(parseCidr('10.244.3.7/16'), { base: ipToInt('10.244.0.0'), prefix: 16, size: 65536 });
    assert.equal(formatCidr(parseCidr('10.244.3.7/24')), '10.244.3.0/24');
    assert.equal(parseCidr('0.0.0.0/0').size, 2 ** 32);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', 'x/8', '10.0.0/8']) assert.throws(() => parseCidr(bad), /not an IPv4 CIDR/, bad);
  });

  it('answers containment and finds subnets by index and back', () => {
    const cluster = parseCidr('10.244.0.0/16');
    assert.ok(cidrContains('10.244.0.0/16', '10.244.255.255'));
    assert.ok(!cidrContains(cluster, '10.245.0.0'));
    assert.ok(cidrWithin(parseCidr('10.244.9.0/24'), cluster));
    assert.ok(!cidrWithin(parseCidr('10.0.0.0/8'), cluster));
    assert.ok(!cidrWithin(parseCidr('10.245.0.0/24'), cluster));
    assert.equal(formatCidr(subnet(cluster, 24, 0)), '10.244.0.0/24');
    assert.equal(formatCidr(subnet(cluster, 24, 255)), '10.244.255.0/24');
    assert.throws(() => subnet(cluster, 24, 256), /256 blocks of \/24, not a block 256/);
    assert.throws(() => subnet(cluster, 8, 0), /not a subnet/);
    assert.equal(subnetIndex(cluster, parseCidr('10.244.7.0/24')), 7);
    assert.throws(() => subnetIndex(cluster, parseCidr('10.1.0.0/24')), /not inside/);
  });
});
