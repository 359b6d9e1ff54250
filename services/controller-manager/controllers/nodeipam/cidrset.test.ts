import assert from 'node:assert/strict';
import { CidrSet } from './cidrset.js';

describe('node IPAM CidrSet', () => {
  it('hands out every block once, round robin, and reuses a released one last', () => {
    const s = new CidrSet('10.244.0.0/22', 24);
    assert.equal(s.capacity, 4);
    assert.deepEqual([s.allocateNext(), s.allocateNext()], ['10.244.0.0/24', '10.244.1.0/24']);
    s.release('10.244.0.0/24');
    assert.deepEqual([s.allocateNext(), s.allocateNext(), s.allocateNext()], ['10.244.2.0/24', '10.244.3.0/24', '10.244.0.0/24']);
    assert.equal(s.allocateNext(), undefined);
    assert.equal(s.size, 4);
  });

  it('occupies blocks given elsewhere and refuses ones outside the cluster CIDR or of another size', () => {
    const s = new CidrSet('10.244.0.0/16', 24);
    s.occupy('10.244.0.0/24');
    s.occupy('10.244.0.0/24');
    assert.equal(s.size, 1);
    assert.equal(s.allocateNext(), '10.244.1.0/24');
    assert.throws(() => s.occupy('10.0.0.0/24'), /CIDR 10.0.0.0\/24 is not a \/24 of the cluster CIDR 10.244.0.0\/16/);
    assert.throws(() => s.occupy('10.244.0.0/25'), /not a \/24/);
    assert.throws(() => s.occupy('garbage'), /not an IPv4 CIDR/);
  });

  it('refuses a mask that does not fit or is over 16 bits longer than the cluster', () => {
    assert.throws(() => new CidrSet('10.244.0.0/16', 8), /does not fit/);
    assert.throws(() => new CidrSet('10.0.0.0/8', 25), /more than 16 bits longer/);
    assert.equal(new CidrSet('10.0.0.0/8', 24).capacity, 65536);
  });
});
