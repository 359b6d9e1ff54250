import assert from 'node:assert/strict';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { doNotScheduleTaints, findMatchingUntoleratedTaint, toleratesTaint, tolerationsTolerateTaint } from './tolerations.js';

const gpu: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };

describe('toleratesTaint', () => {
  it('follows upstream for operators and empty fields', () => {
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'gpu' }, gpu), true);
    assert.equal(toleratesTaint({ key: 'dedicated' }, gpu), false);
    assert.equal(toleratesTaint({ operator: 'Exists', effect: 'NoExecute' }, gpu), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Bogus' }, gpu), false);
  });

  it('Exists with an empty key and effect tolerates any taint; Equal needs the same value', () => {
    assert.equal(toleratesTaint({ operator: 'Exists' }, gpu), true);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists' }, gpu), true);
    assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, gpu), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'cpu' }, gpu), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }, gpu), true);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Equal' }, { key: 'k', effect: 'NoExecute' }), true, 'missing values are both empty');
  });
});

describe('tolerationsTolerateTaint', () => {
  it('is true when any toleration tolerates the taint, false for none or no tolerations', () => {
    assert.equal(tolerationsTolerateTaint([{ key: 'x', operator: 'Exists' }, { key: 'dedicated', value: 'gpu' }], gpu), true);
    assert.equal(tolerationsTolerateTaint([{ key: 'x', operator: 'Exists' }], gpu), false);
    assert.equal(tolerationsTolerateTaint(undefined, gpu), false);
    assert.equal(tolerationsTolerateTaint([], gpu), false);
  });
});

describe('findMatchingUntoleratedTaint', () => {
  const soft: Taint = { key: 'spot', value: 'true', effect: 'PreferNoSchedule' };
  const evict: Taint = { key: 'maint', effect: 'NoExecute' };

  it('returns the first untolerated taint the filter selects, skipping the ones it does not', () => {
    assert.deepEqual(findMatchingUntoleratedTaint([soft, gpu, evict], [], doNotScheduleTaints), gpu);
    assert.deepEqual(findMatchingUntoleratedTaint([soft, gpu, evict], [{ key: 'dedicated', operator: 'Exists' }], doNotScheduleTaints), evict);
    assert.equal(findMatchingUntoleratedTaint([soft], undefined, doNotScheduleTaints), undefined, 'PreferNoSchedule does not keep a pod off');
    assert.equal(findMatchingUntoleratedTaint([gpu, evict], [{ operator: 'Exists' }], doNotScheduleTaints), undefined);
    assert.equal(findMatchingUntoleratedTaint(undefined, undefined, doNotScheduleTaints), undefined);
  });
});
