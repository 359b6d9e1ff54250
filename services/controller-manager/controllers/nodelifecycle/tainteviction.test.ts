import assert from 'node:assert/strict';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from './nodelifecycle.js';
import { noExecuteTolerationSeconds } from './tainteviction.js';

const UNTOLERATED: Toleration[] = [{ key: TAINT_UNREACHABLE, operator: 'Equal', value: 'x', effect: 'NoExecute' }];

describe('noExecuteTolerationSeconds (upstream taint eviction)', () => {
  const unreachable: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
  const notReady: Taint = { key: TAINT_NOT_READY, effect: 'NoExecute' };

  it('evicts at once a pod with no toleration of a taint', () => {
    assert.equal(noExecuteTolerationSeconds(undefined, [unreachable]), 0);
    assert.equal(noExecuteTolerationSeconds([{ key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }], [unreachable]), 0);
    assert.equal(noExecuteTolerationSeconds(UNTOLERATED, [unreachable]), 0, 'Equal compares the value');
  });
  it('honours the pod\'s own tolerationSeconds, and none means forever', () => {
    assert.equal(noExecuteTolerationSeconds([{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }], [unreachable]), 5);
    assert.equal(noExecuteTolerationSeconds([{ operator: 'Exists' }], [unreachable]), undefined);
    assert.equal(noExecuteTolerationSeconds([{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: -1 }], [unreachable]), 0);
  });
  it('uses the first toleration matching each taint and the shortest over the taints', () => {
    const tolerations: Toleration[] = [
      { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
      { operator: 'Exists', tolerationSeconds: 10 },
    ];
    assert.equal(noExecuteTolerationSeconds(tolerations, [unreachable]), 60, 'the first match, not the shortest');
    assert.equal(noExecuteTolerationSeconds(tolerations, [unreachable, notReady]), 10);
  });
  it('matches an empty key with operator Equal against the taint\'s value, as upstream ToleratesTaint', () => {
    assert.equal(noExecuteTolerationSeconds([{ operator: 'Equal', effect: 'NoExecute', tolerationSeconds: 7 }], [unreachable]), 7);
    assert.equal(noExecuteTolerationSeconds([{ operator: 'Equal', value: 'v', effect: 'NoExecute' }], [unreachable]), 0);
  });
});
