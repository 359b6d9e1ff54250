import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter } from './ratelimiter.js';
import { DelayingQueue, RateLimitingQueue, WorkQueue, runWorkers } from './workqueue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('hands items out in FIFO order and de-duplicates waiting keys', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(q.len(), 0);
  });

  it('does not hand a key being processed to a second worker; re-queues it after done', async () => {
    const q = new WorkQueue<string>();
    q.add('k');
    const first = await q.get();
    assert.equal(first, 'k');
    q.add('k');
    assert.equal(q.len(), 0, 'a key held by a worker must not be queued again yet');
    let second: string | undefined;
    void q.get().then((v) => (second = v));
    await tick();
    assert.equal(second, undefined, 'a second worker got the key while the first still held it');
    q.done('k');
    await tick();
    assert.equal(second, 'k', 'the key added during processing was lost');
  });

  it('a key added many times while processing is processed once more, not many times', async () => {
    const q = new WorkQueue<string>();
    q.add('k');
    await q.get();
    q.add('k');
    q.add('k');
    q.add('k');
    q.done('k');
    assert.equal(q.len(), 1);
  });

  it('wakes a waiting worker on add and ends workers on shutDown after draining', async () => {
    const q = new WorkQueue<string>();
    const got = q.get();
    q.add('x');
    assert.equal(await got, 'x');
    q.add('y');
    q.shutDown();
    q.add('z');
    assert.equal(await q.get(), 'y', 'queued items are still handed out after shutDown');
    assert.equal(await q.get(), undefined);
  });

  it('shutDownWithDrain waits for items in flight to be done', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    await q.get();
    let drained = false;
    const p = q.shutDownWithDrain().then(() => (drained = true));
    await tick();
    assert.equal(drained, false);
    q.done('a');
    await p;
    assert.equal(drained, true);
  });

  it('records upstream workqueue metrics under the queue name', async () => {
    const registry = new Registry();
    const q = new RateLimitingQueue<string>({ name: 'pods', registry, rateLimiter: new ItemExponentialFailureRateLimiter(1, 10) });
    q.add('a');
    q.add('b');
    const depth = await registry.getSingleMetric('workqueue_depth')!.get();
    assert.equal(depth.values.find((v) => v.labels.name === 'pods')?.value, 2);
    await q.get();
    q.done('a');
    q.addRateLimited('a');
    const text = await registry.metrics();
    assert.match(text, /workqueue_adds_total\{name="pods"\} 2/);
    assert.match(text, /workqueue_retries_total\{name="pods"\} 1/);
    assert.match(text, /workqueue_queue_duration_seconds_count\{name="pods"\} 1/);
    assert.match(text, /workqueue_work_duration_seconds_count\{name="pods"\} 1/);
    // a second queue on the same registry shares the metric families
    const q2 = new WorkQueue<string>({ name: 'nodes', registry });
    q2.add('n');
    assert.match(await registry.metrics(), /workqueue_depth\{name="nodes"\} 1/);
    q.shutDown();
  });

  it('reports the unfinished work and the longest running processor while a worker holds an item', async () => {
    const registry = new Registry();
    const q = new WorkQueue<string>({ name: 'rs', registry });
    const gauge = async (name: string) => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.name === 'rs')?.value;
    q.add('a');
    q.add('b');
    await q.get();
    await q.get();
    await new Promise((r) => setTimeout(r, 30));
    const longest = (await gauge('workqueue_longest_running_processor_seconds'))!;
    const unfinished = (await gauge('workqueue_unfinished_work_seconds'))!;
    assert.ok(longest > 0.02, `longest running ${longest}`);
    // two items held about as long: the sum is about twice the longest
    assert.ok(unfinished >= longest * 1.5, `unfinished ${unfinished}, longest ${longest}`);
    q.done('a');
    q.done('b');
    assert.equal(await gauge('workqueue_longest_running_processor_seconds'), 0);
    assert.equal(await gauge('workqueue_unfinished_work_seconds'), 0);
    q.shutDown();
  });
});

describe('DelayingQueue', () => {
  it('adds an item only after its delay, earliest first, keeping the earlier of two delays', async () => {
    const q = new DelayingQueue<string>();
    q.addAfter('late', 60);
    q.addAfter('early', 20);
    q.addAfter('late', 500); // later than the pending one: ignored
    assert.equal(q.len(), 0);
    assert.equal(q.numWaiting(), 2);
    assert.equal(await q.get(), 'early');
    assert.equal(await q.get(), 'late');
    assert.equal(q.numWaiting(), 0);
  });

  it('addAfter with no delay adds at once', async () => {
    const q = new DelayingQueue<string>();
    q.addAfter('now', 0);
    assert.equal(q.len(), 1);
  });
});

describe('rate limiters', () => {
  it('ItemExponentialFailureRateLimiter doubles per failure up to the cap and forgets', () => {
    const rl = new ItemExponentialFailureRateLimiter<string>(5, 1_000_000);
    assert.deepEqual([rl.when('a'), rl.when('a'), rl.when('a'), rl.when('b')], [5, 10, 20, 5]);
    assert.equal(rl.numRequeues('a'), 3);
    for (let i = 0; i < 100; i++) rl.when('a');
    assert.equal(rl.when('a'), 1_000_000);
    rl.forget('a');
    assert.equal(rl.numRequeues('a'), 0);
    assert.equal(rl.when('a'), 5);
  });

  it('BucketRateLimiter allows a burst, then spaces items at 1/qps', () => {
    let now = 0;
    const rl = new BucketRateLimiter<string>(10, 100, () => now);
    for (let i = 0; i < 100; i++) assert.equal(rl.when('x'), 0);
    assert.ok(Math.abs(rl.when('x') - 100) < 1e-6);
    assert.ok(Math.abs(rl.when('x') - 200) < 1e-6);
    now = 1000; // ten tokens come back in a second, two of which pay the debt
    for (let i = 0; i < 8; i++) assert.equal(rl.when('x'), 0);
    assert.ok(Math.abs(rl.when('x') - 100) < 1e-6);
  });

  it('MaxOfRateLimiter takes the longest delay and forgets in all', () => {
    let now = 0;
    const rl = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(5, 1000), new BucketRateLimiter(1, 1, () => now));
    assert.equal(rl.when('a'), 5);
    assert.equal(rl.when('a'), 1000); // the bucket is empty: 1 s
    assert.equal(rl.numRequeues('a'), 2);
    rl.forget('a');
    assert.equal(rl.numRequeues('a'), 0);
  });
});

describe('runWorkers', () => {
  it('never lets two workers hold the same key, and processes every key after its last add', async () => {
    const q = new RateLimitingQueue<string>({ rateLimiter: new ItemExponentialFailureRateLimiter(1, 5) });
    const active = new Set<string>();
    const lastSeenVersion = new Map<string, number>();
    const version = new Map<string, number>();
    let overlaps = 0;
    const keys = Array.from({ length: 5 }, (_, i) => `k${i}`);
    const run = runWorkers(q, 4, async (key) => {
      if (active.has(key)) overlaps++;
      active.add(key);
      const v = version.get(key) ?? 0;
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      lastSeenVersion.set(key, v);
      active.delete(key);
    });
    for (let round = 0; round < 200; round++) {
      const k = keys[round % keys.length];
      version.set(k, round);
      q.add(k);
      if (round % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    while (q.len() > 0 || keys.some((k) => q.isProcessing(k))) await new Promise((r) => setTimeout(r, 5));
    q.shutDown();
    await run;
    assert.equal(overlaps, 0, 'a key was processed by two workers at once');
    for (const k of keys) assert.equal(lastSeenVersion.get(k), version.get(k), `the last change to ${k} was never processed`);
  });

  it('retries a failing key with the rate limiter up to maxRetries, then drops and forgets it', async () => {
    const q = new RateLimitingQueue<string>({ rateLimiter: new ItemExponentialFailureRateLimiter(1, 4) });
    let calls = 0;
    const errors: boolean[] = [];
    let resolveDropped!: () => void;
    const dropped = new Promise<void>((r) => (resolveDropped = r));
    const run = runWorkers(
      q,
      2,
      () => {
        calls++;
        throw new Error('boom');
      },
      {
        maxRetries: 3,
        onError: (_k, _e, willRetry) => {
          errors.push(willRetry);
          if (!willRetry) resolveDropped();
        },
      },
    );
    q.add('bad');
    await dropped;
    assert.equal(calls, 4, 'one try and three retries');
    assert.deepEqual(errors, [true, true, true, false]);
    assert.equal(q.numRequeues('bad'), 0, 'a dropped key must be forgotten');
    q.shutDown();
    await run;
  });

  it('forgets the failure history of a key once it succeeds', async () => {
    const q = new RateLimitingQueue<string>({ rateLimiter: new ItemExponentialFailureRateLimiter(1, 4) });
    let calls = 0;
    let resolveOk!: () => void;
    const ok = new Promise<void>((r) => (resolveOk = r));
    const run = runWorkers(q, 1, () => {
      if (++calls < 3) throw new Error('not yet');
      resolveOk();
    });
    q.add('k');
    await ok;
    await new Promise((r) => setImmediate(r));
    assert.equal(q.numRequeues('k'), 0);
    q.shutDown();
    await run;
  });
});
