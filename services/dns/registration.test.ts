import assert from 'node:assert/strict';
import { clusterDnsIP } from './registration.js';

describe('kube-dns address', () => {
  it("is the tenth address of the cluster's service range, as kubeadm picks it", () => {
    assert.equal(clusterDnsIP(), '10.96.0.10');
    assert.equal(clusterDnsIP('10.96.0.0/12'), '10.96.0.10');
    assert.equal(clusterDnsIP('10.112.0.0/16'), '10.112.0.10');
    // a range written with host bits set starts at its network address
    assert.equal(clusterDnsIP('172.20.5.7/24'), '172.20.5.10');
    assert.throws(() => clusterDnsIP('10.96.0.0'), /not an IPv4 CIDR/);
  });
});
