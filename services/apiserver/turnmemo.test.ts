import assert from 'node:assert/strict';
import { TurnMemo } from './turnmemo.js';

describe('TurnMemo: what watch frames share within a turn', () => {
  it('answers within the turn it was made in and forgets it once the turn is over', async () => {
    const memo = new TurnMemo<object, string>();
    const a = {};
    const b = {};
    memo.set(a, 'a');
    memo.set(b, 'b');
    assert.equal(memo.get(a), 'a');
    await Promise.resolve(); // microtasks are still the same turn
    assert.equal(memo.get(b), 'b');
    await new Promise((r) => setImmediate(r));
    assert.equal(memo.get(a), undefined);
    assert.equal(memo.get(b), undefined);
    // and the next turn's entries are forgotten in their turn too
    memo.set(a, 'again');
    assert.equal(memo.get(a), 'again');
    await new Promise((r) => setImmediate(r));
    assert.equal(memo.get(a), undefined);
  });
});
