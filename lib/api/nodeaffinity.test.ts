import assert from 'node:assert/strict';
import type { Node } from 'kubernetes-types/core/v1.js';
import { parseInt64 } from './labels.js';
import { nodeSelectorTermMatches, requiredNodeAffinity, requirementMatches } from './nodeaffinity.js';

const node = (name: string, labels: Record<string, string>): Node => ({ metadata: { name, labels } });

describe('node-selector matching (upstream nodeaffinity)', () => {
  it('evaluates every operator, absent labels included', () => {
    const r = (operator: string, values?: string[]) => ({ operator, values });
    assert.equal(requirementMatches(r('In', ['a', 'b']), 'b'), true);
    assert.equal(requirementMatches(r('In', ['a']), undefined), false);
    assert.equal(requirementMatches(r('NotIn', ['a']), undefined), true);
    assert.equal(requirementMatches(r('NotIn', ['a']), 'a'), false);
    assert.equal(requirementMatches(r('Exists'), ''), true);
    assert.equal(requirementMatches(r('DoesNotExist'), ''), false);
    assert.equal(requirementMatches(r('Gt', ['4']), '+5'), true, 'ParseInt accepts a sign');
    assert.equal(requirementMatches(r('Lt', ['4']), '5'), false);
    assert.equal(requirementMatches(r('Gt', ['4']), 'five'), false);
    assert.equal(requirementMatches(r('Gt', ['4', '5']), '9'), false, 'Gt takes exactly one value');
    assert.equal(parseInt64('9223372036854775808'), undefined, 'beyond int64');
  });

  it('matches terms: an empty term matches nothing, matchFields knows metadata.name with In / NotIn only', () => {
    const n = node('n1', { zone: 'a' });
    assert.equal(nodeSelectorTermMatches({}, n), false);
    assert.equal(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }, n), true);
    assert.equal(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'Exists' }] }, n), false);
    assert.equal(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['n1'] }] }, n), false);
    assert.equal(nodeSelectorTermMatches({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, n), true);
  });

  it('requires the nodeSelector and any one required term', () => {
    const match = requiredNodeAffinity({
      containers: [],
      nodeSelector: { disk: 'ssd' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }],
          },
        },
      },
    });
    assert.equal(match(node('n1', { disk: 'ssd', zone: 'a' })), true);
    assert.equal(match(node('n2', { disk: 'ssd', zone: 'b' })), false);
    assert.equal(match(node('n3', { disk: 'ssd', zone: 'b' })), true);
    assert.equal(match(node('n3', { zone: 'a' })), false, 'the nodeSelector is required too');
    assert.equal(requiredNodeAffinity(undefined)(node('x', {})), true);
  });
});
