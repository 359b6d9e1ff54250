import assert from 'node:assert/strict';
import { parseDuration } from './duration.js';

describe('parseDuration (Go time.ParseDuration)', () => {
  it('reads single and compound terms in every unit', () => {
    assert.equal(parseDuration('40s'), 40_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('300ms'), 300);
    assert.equal(parseDuration('2h45m0.5s'), 2 * 3_600_000 + 45 * 60_000 + 500);
    assert.equal(parseDuration('1500us'), 1.5);
    assert.equal(parseDuration('1500µs'), 1.5);
    assert.equal(parseDuration('2000000ns'), 2);
    assert.equal(parseDuration('.5s'), 500);
  });

  it('takes a sign and a bare zero', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('-5s'), -5000);
    assert.equal(parseDuration('+5s'), 5000);
  });

  it('rejects what Go rejects, with Go words', () => {
    assert.throws(() => parseDuration('40'), /missing unit in duration "40"/);
    assert.throws(() => parseDuration(''), /invalid duration ""/);
    assert.throws(() => parseDuration('5 s'), /invalid duration/);
    assert.throws(() => parseDuration('5d'), /invalid duration/);
    assert.throws(() => parseDuration('s'), /invalid duration/);
    assert.throws(() => parseDuration('1m-30s'), /invalid duration/);
  });
});
