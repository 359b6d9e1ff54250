import assert from 'node:assert/strict';
import { ConflictError, NotFoundError } from '../api/errors.js';
import { BackoffStepper, DefaultRetry, WaitTimeoutError, backoffDelays, exponentialBackoff, retryOnConflict } from './retry.js';

const conflict = () => new ConflictError({ resource: 'pods' }, 'web', 'the object has been modified; please apply your changes to the latest version and try again');

describe('retryOnConflict', () => {
  it('runs the function again after a conflict and returns its result', async () => {
    let calls = 0;
    const out = await retryOnConflict(async () => {
      if (++calls < 3) throw conflict();
      return 'written';
    });
    assert.equal(out, 'written');
    assert.equal(calls, 3);
  });

  it('gives up after DefaultRetry steps (5 tries) with the last conflict', async () => {
    let calls = 0;
    await assert.rejects(
      retryOnConflict(async () => {
        calls++;
        throw conflict();
      }),
      (e: unknown) => e instanceof ConflictError,
    );
    assert.equal(calls, DefaultRetry.steps);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await assert.rejects(
      retryOnConflict(async () => {
        calls++;
        throw new NotFoundError({ resource: 'pods' }, 'web');
      }),
      (e: unknown) => e instanceof NotFoundError,
    );
    assert.equal(calls, 1);
  });
});

describe('backoff', () => {
  it('steps the delay by the factor, within the jitter, up to the cap', () => {
    const d = backoffDelays({ durationMs: 10, factor: 2, jitter: 0.1, steps: 6, capMs: 50 });
    assert.equal(d.length, 5);
    const base = [10, 20, 40, 50, 50];
    d.forEach((v, i) => assert.ok(v >= base[i] && v <= base[i] * 1.1, `delay ${i} = ${v}`));
  });

  it('exponentialBackoff polls until the condition holds, or times out', async () => {
    let n = 0;
    await exponentialBackoff({ durationMs: 1, factor: 1, jitter: 0, steps: 5 }, () => ++n === 3);
    assert.equal(n, 3);
    await assert.rejects(exponentialBackoff({ durationMs: 1, factor: 1, jitter: 0, steps: 3 }, () => false), WaitTimeoutError);
  });

  it('BackoffStepper doubles to its cap and starts over after reset', () => {
    const b = new BackoffStepper(100, 350, 2, 0);
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [100, 200, 350, 350]);
    b.reset();
    assert.equal(b.next(), 100);
  });
});
