import assert from 'node:assert/strict';
import { enabledControllers } from './enabled.js';

describe('enabledControllers (--controllers)', () => {
  const all = ['a', 'b', 'c'];
  it('enables every controller for * or nothing, and honours -name over *', () => {
    assert.deepEqual(enabledControllers(undefined, all), all);
    assert.deepEqual(enabledControllers(['*'], all), all);
    assert.deepEqual(enabledControllers(['*', '-b'], all), ['a', 'c']);
    assert.deepEqual(enabledControllers(['c'], all), ['c']);
  });
  it('rejects an unknown controller name', () => {
    assert.throws(() => enabledControllers(['*', '-nope'], all), /unknown controller "nope"/);
  });
});
