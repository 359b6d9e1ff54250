import type { Pod } from 'kubernetes-types/core/v1.js';
import { mkNode, mkPod, harness } from '../testing/harness.js';
import assert from 'node:assert/strict';

const withPort = (name: string, port: number, protocol = 'TCP'): Pod =>
  mkPod(name, {}, { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: port, protocol }] }] });

describe('NodePorts', () => {
  it('a host port is taken once per node; the third pod finds no free port', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    h.cache.addNode(mkNode('b'));
    const first = h.schedule(withPort('p1', 8080)).node;
    const second = h.schedule(withPort('p2', 8080)).node;
    assert.ok(first && second && first !== second);
    const r = h.schedule(withPort('p3', 8080));
    assert.equal(r.message, "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports.");
    assert.equal(r.diag!.resolvableSlots.length, 2, 'port conflicts are resolvable by preemption');
  });

  it('another protocol or port does not conflict, and a deleted pod frees its port', () => {
    const h = harness();
    h.cache.addNode(mkNode('a'));
    const bound = { ...withPort('old', 53, 'UDP'), spec: { ...withPort('old', 53, 'UDP').spec!, nodeName: 'a' } };
    h.cache.addPod(bound);
    assert.equal(h.schedule(withPort('tcp', 53, 'TCP')).node, 'a');
    assert.equal(h.schedule(withPort('udp', 53, 'UDP')).node, undefined);
    h.cache.removePod(bound);
    assert.equal(h.schedule(withPort('udp', 53, 'UDP')).node, 'a');
  });
});
