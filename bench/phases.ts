/**
 * The measured phases. Each returns one result row; what an "op" is and what the
 * latency covers is said in the row's phase name and in bench/README.md.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type ApiClient, Resources, StatusError, type WatchEvent } from '../lib/client/mod.js';
import type { KvStore } from '../lib/store/kvstore.js';
import type { ApiDriver } from './drivers.js';
import { runLoad } from './load.js';
import { benchPod, podName, storedPodBytes } from './pods.js';
import { phaseResult, summarize, type PhaseResult } from './stats.js';

/** Raw JetStream KV writes of pod-sized values: `put` or `create` (what the apiserver does per create). */
export async function kvWritePhase(
  store: KvStore,
  op: 'put' | 'create',
  n: number,
  window: number,
  keyPrefix: string,
  maxSeconds?: number,
): Promise<PhaseResult> {
  const value = storedPodBytes('bench', 0);
  const r = await runLoad(n, { concurrency: window, maxSeconds }, (i) =>
    op === 'put' ? store.put(`${keyPrefix}.${podName(i)}`, value) : store.create(`${keyPrefix}.${podName(i)}`, value),
  );
  const label = window > 1 ? `kv ${op} (${window} in flight)` : `kv ${op} (serial)`;
  return phaseResult(label, 'kv', r.ops, r.seconds, r.latenciesMs, r.errors, { valueBytes: value.length, window, firstError: r.firstError });
}

/** Pod creates, one request each, `concurrency` in flight (1 = serial latency). */
export async function createPhase(d: ApiDriver, namespace: string, n: number, concurrency: number, maxSeconds?: number): Promise<PhaseResult> {
  const r = await runLoad(n, { concurrency, maxSeconds }, (i) => d.createPod(benchPod(namespace, i)));
  const label = concurrency > 1 ? `create (${concurrency} in flight)` : 'create (serial)';
  return phaseResult(label, d.transport, r.ops, r.seconds, r.latenciesMs, r.errors, { concurrency, firstError: r.firstError });
}

/** Pod creates through the NATS batch verb; latency is per batch, ops are pods. */
export async function batchCreatePhase(client: ApiClient, namespace: string, n: number, batch: number, inFlight: number): Promise<PhaseResult> {
  const batches = Math.ceil(n / batch);
  let failed = 0;
  let firstError: string | undefined;
  const r = await runLoad(batches, { concurrency: inFlight }, async (b) => {
    const items = [];
    for (let i = b * batch; i < Math.min(n, (b + 1) * batch); i++) items.push({ ...Resources.pods, namespace, body: benchPod(namespace, i) });
    const results = await client.batchCreate(items);
    for (const res of results) {
      if (res instanceof StatusError) {
        failed++;
        firstError ??= res.message;
      }
    }
  });
  return phaseResult(`batchCreate (${batch}/batch, ${inFlight} in flight)`, 'nats', n, r.seconds, r.latenciesMs, failed + r.errors * batch, {
    batch,
    batchesInFlight: inFlight,
    latencyIs: 'per batch',
    firstError: firstError ?? r.firstError,
  });
}

/** Gets of random pods among the first `population`. */
export async function getPhase(d: ApiDriver, namespace: string, population: number, n: number, maxSeconds?: number): Promise<PhaseResult> {
  const r = await runLoad(n, { concurrency: d.concurrency, maxSeconds }, async () => {
    const name = podName(Math.floor(Math.random() * population));
    const p = await d.getPod(namespace, name);
    if (p.metadata?.name !== name) throw new Error(`get ${namespace}/${name} answered ${p.metadata?.name}`);
  });
  return phaseResult(`get random (${d.concurrency} in flight)`, d.transport, r.ops, r.seconds, r.latenciesMs, r.errors, {
    concurrency: d.concurrency,
    firstError: r.firstError,
  });
}

/**
 * Full lists of a namespace's pods, one after another; `page` 0 = one unpaged request,
 * else limit+continue. An op is one full list; its latency covers all its pages.
 */
export async function listPhase(d: ApiDriver, namespace: string, expected: number, page: number, repeats: number): Promise<PhaseResult> {
  let pages = 0;
  const r = await runLoad(repeats, { concurrency: 1 }, async () => {
    let cont: string | undefined;
    let items = 0;
    do {
      const l = await d.listPods(namespace, page, cont);
      pages++;
      items += l.items.length;
      cont = l.metadata.continue || undefined;
    } while (cont);
    if (items !== expected) throw new Error(`list of ${namespace} gave ${items} pods, expected ${expected}`);
  });
  const ok = r.latenciesMs.length;
  return phaseResult(page ? `list ${expected} (pages of ${page})` : `list ${expected} (unpaged)`, d.transport, r.ops, r.seconds, r.latenciesMs, r.errors, {
    podsPerSec: r.seconds > 0 ? (ok * expected) / r.seconds : null,
    requestsPerList: ok ? pages / r.ops : null,
    firstError: r.firstError,
  });
}

/**
 * Watch delivery: a watch on an empty namespace, then n creates and n updates of its
 * pods (`concurrency` in flight, on the same transport). Ops are events delivered; the rate runs from
 * the first write sent to the last event in; latency is write acknowledged -> event
 * arrived (0 when the event beat the acknowledgement).
 */
export async function watchPhase(d: ApiDriver, namespace: string, n: number, concurrency: number, timeoutMs = 60_000): Promise<PhaseResult> {
  await d.createNamespace(namespace);
  const start = await d.listPods(namespace, 1);
  const expected = 2 * n;
  const arrived = new Map<string, number>();
  let allIn!: () => void;
  const allArrived = new Promise<void>((r) => (allIn = r));
  const onEvent = (ev: WatchEvent<Pod>) => {
    if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') return;
    arrived.set(`${ev.type}/${ev.object.metadata?.name}`, performance.now());
    if (arrived.size >= expected) allIn();
  };
  let watchError: Error | undefined;
  const w = await d.watchPods(namespace, start.metadata.resourceVersion!, onEvent, (e) => {
    watchError ??= e;
    allIn();
  });
  const sent = new Map<string, number>();
  const acked = new Map<string, number>();
  const pods: Pod[] = [];
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const c = await runLoad(n, { concurrency }, async (i) => {
      const key = `ADDED/${podName(i)}`;
      sent.set(key, performance.now());
      pods[i] = await d.createPod(benchPod(namespace, i));
      acked.set(key, performance.now());
    });
    const u = await runLoad(n, { concurrency }, async (i) => {
      const p = pods[i];
      if (!p) throw new Error(`pod ${podName(i)} was not created`);
      p.metadata!.labels = { ...p.metadata!.labels, updated: 'true' };
      const key = `MODIFIED/${podName(i)}`;
      sent.set(key, performance.now());
      await d.updatePod(p);
      acked.set(key, performance.now());
    });
    const writeErrors = c.errors + u.errors;
    await Promise.race([allArrived, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    let last = t0;
    const ackToEvent: number[] = [];
    const sendToEvent: number[] = [];
    for (const [key, at] of arrived) {
      last = Math.max(last, at);
      const a = acked.get(key);
      const s = sent.get(key);
      if (a !== undefined) ackToEvent.push(Math.max(0, at - a));
      if (s !== undefined) sendToEvent.push(at - s);
    }
    const seconds = (last - t0) / 1000;
    const missing = expected - writeErrors - arrived.size;
    const s2e = summarize(sendToEvent);
    return phaseResult(`watch delivery (${concurrency} writes in flight)`, d.transport, arrived.size, seconds, ackToEvent, writeErrors + Math.max(0, missing), {
      latencyIs: 'write ack -> event',
      sendToEventP50Ms: s2e.count ? s2e.p50 : null,
      sendToEventP99Ms: s2e.count ? s2e.p99 : null,
      writesPerSec: (c.ops + u.ops) / (c.seconds + u.seconds),
      concurrency,
      missingEvents: Math.max(0, missing),
      firstError: watchError?.message ?? c.firstError ?? u.firstError,
    });
  } finally {
    clearTimeout(timer);
    w.stop();
  }
}
