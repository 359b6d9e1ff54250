import assert from 'node:assert/strict';
import { ContainerBackOff, crashLoopMessage, goDuration } from './backoff.js';

describe('kubelet crash-loop back-off (upstream flowcontrol.Backoff)', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('restarts the first exit at once, then waits 10 s doubling to 5 min, counted from the exit', () => {
    const b = new ContainerBackOff({ now: clock });
    assert.deepEqual(b.delay('p/c', now), { waitMs: 0, backOffMs: 0 });
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      b.restarted('p/c');
      now += 2000; // it runs 2 s, then exits
      const d = b.delay('p/c', now);
      seen.push(d.backOffMs);
      assert.equal(d.waitMs, d.backOffMs);
      now += 1000;
      assert.equal(b.delay('p/c', now - 1000).waitMs, d.backOffMs - 1000);
      now += d.waitMs;
    }
    assert.deepEqual(seen, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('starts afresh for a container that ran 10 minutes, and keeps containers apart', () => {
    const b = new ContainerBackOff({ now: clock });
    b.restarted('p/a');
    b.restarted('p/a');
    assert.equal(b.delay('p/a', now).backOffMs, 20_000);
    assert.equal(b.delay('p/b', now).backOffMs, 0);
    now += 10 * 60_000 + 1;
    assert.deepEqual(b.delay('p/a', now), { waitMs: 0, backOffMs: 0 });
    b.restarted('p/a');
    assert.equal(b.delay('p/a', now).backOffMs, 10_000);
    b.forget('p/');
    assert.equal(b.delay('p/a', now).backOffMs, 0);
  });

  it('takes a shorter base (tests) and writes upstream’s message', () => {
    const b = new ContainerBackOff({ initialMs: 1000, maxMs: 4000, now: clock });
    for (let i = 0; i < 4; i++) b.restarted('k');
    assert.equal(b.delay('k', now).backOffMs, 4000);
    assert.equal(goDuration(10_000), '10s');
    assert.equal(goDuration(80_000), '1m20s');
    assert.equal(goDuration(300_000), '5m0s');
    assert.equal(goDuration(500), '500ms');
    assert.equal(crashLoopMessage(20_000, 'web', { name: 'p', namespace: 'default', uid: 'u1' }), 'back-off 20s restarting failed container=web pod=p_default(u1)');
  });
});
