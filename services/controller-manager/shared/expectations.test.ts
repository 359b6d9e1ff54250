import assert from 'node:assert/strict';
import { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from './expectations.js';

describe('ControllerExpectations', () => {
  it('is unsatisfied until every expected creation is observed', () => {
    const e = new ControllerExpectations();
    assert.equal(e.satisfied('ns/rs'), true);
    e.expectCreations('ns/rs', 2);
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), false);
    e.creationObserved('ns/rs');
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('counts only the deletions of the pods it asked to delete, each once', () => {
    const e = new ControllerExpectations();
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/other');
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    assert.deepEqual(e.pending('ns/rs'), { add: 0, del: 1 });
    e.deletionObserved('ns/rs', 'ns/b');
    assert.equal(e.satisfied('ns/rs'), true);
  });

  it('treats a record older than the timeout as satisfied, so a lost event cannot wedge the controller', () => {
    let now = 0;
    const e = new ControllerExpectations(() => now);
    e.expectCreations('ns/rs', 1);
    now = EXPECTATIONS_TIMEOUT_MS;
    assert.equal(e.satisfied('ns/rs'), false);
    now = EXPECTATIONS_TIMEOUT_MS + 1;
    assert.equal(e.satisfied('ns/rs'), true);
  });
});
