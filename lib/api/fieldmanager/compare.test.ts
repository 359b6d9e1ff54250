import assert from 'node:assert/strict';
import '../../schema/kinds/mod.js';
import { compareObjects } from './compare.js';
import { rootShape } from './shape.js';

const POD = rootShape('io.k8s.api.core.v1.Pod');
const MAIN = { kind: 'main', ignoreStatus: true } as const;

describe('comparing two versions of an object', () => {
  it('finds added, modified and removed fields; a new container is added with everything in it', () => {
    const old = { metadata: { name: 'p', resourceVersion: '1', labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'a', image: 'x' }] } };
    const neu = { metadata: { name: 'p', resourceVersion: '2', labels: { a: '9' } }, spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } };
    const c = compareObjects(POD, old, neu, MAIN);
    assert.equal(c.modified.toString(), '.metadata.labels.a');
    assert.equal(c.removed.toString(), '.metadata.labels.b');
    assert.deepEqual(c.added.toString().split('\n'), ['.spec.containers[name="b"]', '.spec.containers[name="b"].image', '.spec.containers[name="b"].name']);
  });

  it('ignores status on the main resource and everything but status on /status', () => {
    const old = { spec: { nodeName: 'a' }, status: { phase: 'Pending' } };
    const neu = { spec: { nodeName: 'b' }, status: { phase: 'Running' } };
    assert.equal(compareObjects(POD, old, neu, MAIN).modified.toString(), '.spec.nodeName');
    assert.equal(compareObjects(POD, old, neu, { kind: 'status' }).modified.toString(), '.status.phase');
  });

  it('compares atomic lists whole', () => {
    const c = compareObjects(POD, { spec: { tolerations: [{ key: 'a' }] } }, { spec: { tolerations: [{ key: 'b' }] } }, MAIN);
    assert.equal(c.modified.toString(), '.spec.tolerations');
  });
});
