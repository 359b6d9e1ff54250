import assert from 'node:assert/strict';
import { computeZoneState, LABEL_TOPOLOGY_REGION, LABEL_TOPOLOGY_ZONE, RateLimitedTimedQueue, TokenBucket, zoneKey } from './zonestates.js';

/** A clock the test moves by hand. */
class Clock {
  t = 0;
  readonly now = (): number => this.t;
}

describe('computeZoneState (upstream ComputeZoneState)', () => {
  it('is FullDisruption with no node Ready, PartialDisruption with more than two and ≥ the threshold not Ready, else Normal', () => {
    assert.equal(computeZoneState(['Unknown'], 0.55).state, 'FullDisruption');
    assert.equal(computeZoneState([undefined, 'False'], 0.55).state, 'FullDisruption');
    assert.equal(computeZoneState(['True', 'Unknown', 'Unknown'], 0.55).state, 'Normal', 'two not ready is never partial');
    assert.equal(computeZoneState(['True', 'Unknown', 'Unknown', 'False'], 0.55).state, 'PartialDisruption');
    assert.equal(computeZoneState(['True', 'True', 'True', 'Unknown', 'Unknown', 'False'], 0.55).state, 'Normal', '0.5 < 0.55');
    assert.equal(computeZoneState([], 0.55).state, 'Normal');
  });
});

describe('zoneKey (upstream GetZoneKey)', () => {
  it('joins region and zone, prefers the beta labels, and is empty without either', () => {
    const key = (labels: Record<string, string>) => zoneKey({ metadata: { labels } });
    assert.equal(key({}), '');
    assert.equal(key({ [LABEL_TOPOLOGY_ZONE]: 'a' }), ':\u0000:a');
    assert.equal(key({ [LABEL_TOPOLOGY_REGION]: 'r', [LABEL_TOPOLOGY_ZONE]: 'a' }), 'r:\u0000:a');
    assert.equal(key({ 'failure-domain.beta.kubernetes.io/zone': 'beta', [LABEL_TOPOLOGY_ZONE]: 'a' }), ':\u0000:beta');
    assert.notEqual(key({ [LABEL_TOPOLOGY_REGION]: 'r1', [LABEL_TOPOLOGY_ZONE]: 'a' }), key({ [LABEL_TOPOLOGY_REGION]: 'r2', [LABEL_TOPOLOGY_ZONE]: 'a' }));
  });
});

describe('TokenBucket (upstream flowcontrol TryAccept)', () => {
  it('hands out qps tokens a second from a full bucket of `burst`, never banking more than burst', () => {
    const clock = new Clock();
    const b = new TokenBucket(2, 1, clock.now);
    assert.equal(b.tryAccept(), true, 'starts full');
    assert.equal(b.tryAccept(), false);
    clock.t = 250;
    assert.equal(b.tryAccept(), false, 'half a token');
    clock.t = 500;
    assert.equal(b.tryAccept(), true);
    clock.t = 10_000;
    assert.equal(b.tryAccept(), true);
    assert.equal(b.tryAccept(), false, 'idle time banks at most burst');

    const burst = new TokenBucket(2, 3, clock.now);
    assert.deepEqual([burst.tryAccept(), burst.tryAccept(), burst.tryAccept(), burst.tryAccept()], [true, true, true, false]);
  });

  it('accepts nothing at a rate of 0', () => {
    const clock = new Clock();
    const b = new TokenBucket(0, 1, clock.now);
    assert.equal(b.tryAccept(), false);
    clock.t = 60_000;
    assert.equal(b.tryAccept(), false);
  });
});

describe('RateLimitedTimedQueue (upstream scheduler.RateLimitedTimedQueue)', () => {
  it('processes in order of processAt, and keeps a processed name a member until removed', async () => {
    const clock = new Clock();
    const q = new RateLimitedTimedQueue(1000, clock.now);
    for (const v of ['a', 'b', 'c']) {
      assert.equal(q.add(v), true);
      clock.t++;
    }
    assert.equal(q.add('b'), false, 'a member is not queued twice');
    const seen: string[] = [];
    // a token each ms at 1000 qps: each entry moves the clock on by one
    await q.try(async (v) => {
      seen.push(v);
      clock.t++;
      return undefined;
    });
    assert.deepEqual(seen, ['a', 'b', 'c']);
    assert.equal(q.add('a'), false, 'still a member after being processed');
    assert.equal(q.remove('a'), true);
    assert.equal(q.remove('a'), false);
    assert.equal(q.remove('never-added'), false);
    assert.equal(q.add('a'), true, 'queued again once removed');
  });

  it('tries an entry again after the delay its function answers, not before, behind entries due sooner', async () => {
    const clock = new Clock();
    const q = new RateLimitedTimedQueue(1000, clock.now);
    q.add('x');
    q.add('y');
    const seen: string[] = [];
    let retried = false;
    const fn = async (v: string): Promise<number | undefined> => {
      seen.push(v);
      clock.t++;
      if (v === 'x' && !retried) {
        retried = true;
        return 50;
      }
      return undefined;
    };
    await q.try(fn);
    assert.deepEqual(seen, ['x', 'y'], 'x waits behind y');
    clock.t = 10;
    q.add('z');
    await q.try(fn);
    assert.deepEqual(seen, ['x', 'y', 'z'], 'z, added later but due sooner, goes before the retried x');
    clock.t = 50;
    await q.try(fn);
    assert.deepEqual(seen, ['x', 'y', 'z'], 'not due before now + delay');
    clock.t = 51;
    await q.try(fn);
    assert.deepEqual(seen, ['x', 'y', 'z', 'x']);
  });

  it('paces entries by its rate, and a swapped limiter starts drained when the old one was', async () => {
    const clock = new Clock();
    const q = new RateLimitedTimedQueue(2, clock.now);
    for (const v of ['a', 'b', 'c', 'd']) q.add(v);
    const seen: string[] = [];
    const fn = async (v: string): Promise<undefined> => {
      seen.push(v);
      return undefined;
    };
    await q.try(fn);
    assert.deepEqual(seen, ['a'], 'burst 1');
    clock.t = 250;
    await q.try(fn);
    assert.deepEqual(seen, ['a'], 'half a token at 2 a second');
    clock.t = 500;
    await q.try(fn);
    assert.deepEqual(seen, ['a', 'b']);

    q.swapLimiter(0);
    assert.equal(q.qps, 0);
    clock.t = 5_000;
    await q.try(fn);
    assert.deepEqual(seen, ['a', 'b'], 'a rate of 0 stops it');

    q.swapLimiter(2);
    await q.try(fn);
    assert.deepEqual(seen, ['a', 'b'], 'swapped in drained: the old bucket had no token');
    clock.t = 5_500;
    await q.try(fn);
    assert.deepEqual(seen, ['a', 'b', 'c']);

    const fresh = new RateLimitedTimedQueue(2, clock.now);
    fresh.add('e');
    fresh.swapLimiter(1);
    await fresh.try(fn);
    assert.deepEqual(seen, ['a', 'b', 'c', 'e'], 'swapped in full: the old bucket had a token');
  });
});
