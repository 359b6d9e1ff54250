import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SchedulingQueue, eventMayHelp } from './schedulingqueue.js';

function pod(name: string, priority = 0, extra: Partial<Pod['spec']> = {}): Pod {
  return { metadata: { namespace: 'default', name, uid: `uid-${name}` }, spec: { containers: [{ name: 'c' }], priority, ...extra } };
}

function clockedQueue() {
  const clock = { t: 1_000_000 };
  const q = new SchedulingQueue({ now: () => clock.t, runFlushes: false });
  return { q, clock };
}

describe('SchedulingQueue', () => {
  it('pops by priority, then by arrival time', async () => {
    const { q, clock } = clockedQueue();
    q.add(pod('low-early', 0));
    clock.t += 1;
    q.add(pod('high', 100));
    clock.t += 1;
    q.add(pod('low-late', 0));
    clock.t += 1;
    q.add(pod('mid', 10));
    const batch = await q.popBatch(10);
    assert.deepEqual(batch.map((e) => e.pod.metadata!.name), ['high', 'mid', 'low-early', 'low-late']);
    assert.ok(batch.every((e) => e.attempts === 1));
    q.close();
  });

  it('popBatch takes at most max pods and waits for the next add when empty', async () => {
    const { q } = clockedQueue();
    for (let i = 0; i < 5; i++) q.add(pod(`p${i}`));
    assert.equal((await q.popBatch(3)).length, 3);
    assert.equal((await q.popBatch(3)).length, 2);
    const waiting = q.popBatch(3);
    q.add(pod('late'));
    assert.deepEqual((await waiting).map((e) => e.key), ['default/late']);
    q.close();
    assert.deepEqual(await q.popBatch(3), [], 'a closed queue answers nothing');
  });

  it('backs off 1 s doubling per attempt up to 10 s', () => {
    const { q } = clockedQueue();
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration(a)), [1000, 2000, 4000, 8000, 10000, 10000]);
  });

  it('keeps a failed pod in backoffQ until its backoff expires, then flushes it to activeQ', async () => {
    const { q, clock } = clockedQueue();
    q.add(pod('p'));
    let [e] = await q.popBatch(1);
    // no plugin verdict (an error): straight to backoffQ
    q.addUnschedulable(e!, []);
    assert.equal(q.whereIs('default/p'), 'backoff');
    clock.t += 999;
    assert.equal(q.flushBackoffQCompleted(), 0);
    clock.t += 1;
    assert.equal(q.flushBackoffQCompleted(), 1);
    assert.equal(q.whereIs('default/p'), 'active');
    [e] = await q.popBatch(1);
    assert.equal(e!.attempts, 2);
    q.addUnschedulable(e!, []);
    clock.t += 1999;
    assert.equal(q.flushBackoffQCompleted(), 0, 'the second failure backs off 2 s');
    clock.t += 1;
    assert.equal(q.flushBackoffQCompleted(), 1);
    q.close();
  });

  it('moves an unschedulable pod on an event that may help the plugin that rejected it, not on others', async () => {
    const { q, clock } = clockedQueue();
    q.add(pod('p'));
    const [e] = await q.popBatch(1);
    q.addUnschedulable(e!, ['NodeResourcesFit']);
    assert.equal(q.whereIs('default/p'), 'unschedulable');
    assert.deepEqual(q.pending(), { active: 0, backoff: 0, unschedulable: 1, gated: 0 });
    assert.equal(q.moveAllToActiveOrBackoffQueue('AssignedPodAdd'), 0, 'a pod added elsewhere frees no cpu');
    assert.equal(q.whereIs('default/p'), 'unschedulable');
    assert.equal(q.moveAllToActiveOrBackoffQueue('NodeAdd'), 1);
    assert.equal(q.whereIs('default/p'), 'backoff', 'still within its 1 s backoff');
    clock.t += 1000;
    q.flushBackoffQCompleted();
    assert.equal(q.whereIs('default/p'), 'active');
    q.close();
  });

  it('moves, for several events at once, every pod one of them may help, in one pass, and records each for pods in flight', async () => {
    const { q } = clockedQueue();
    for (const n of ['fit', 'ports', 'taint', 'inflight']) q.add(pod(n));
    const popped = new Map((await q.popBatch(4)).map((e) => [e.key.slice('default/'.length), e]));
    const [fit, ports, taint, inflight] = ['fit', 'ports', 'taint', 'inflight'].map((n) => popped.get(n));
    q.addUnschedulable(fit!, ['NodeResourcesFit']);
    q.addUnschedulable(ports!, ['NodePorts']);
    q.addUnschedulable(taint!, ['TaintToleration']);

    assert.equal(q.moveAllToActiveOrBackoffQueue(['AssignedPodAdd', 'AssignedPodDelete']), 2);

    assert.equal(q.whereIs('default/fit'), 'backoff', 'a deleted pod frees cpu');
    assert.equal(q.whereIs('default/ports'), 'backoff', 'and its ports');
    assert.equal(q.whereIs('default/taint'), 'unschedulable', 'no taint changed');
    // the pod being scheduled meanwhile learns of the delete
    q.addUnschedulable(inflight!, ['NodeResourcesFit']);
    assert.equal(q.whereIs('default/inflight'), 'backoff');
    q.close();
  });

  it('activates a waiting pod at once, backing off or not, and leaves others where they are', async () => {
    const { q } = clockedQueue();
    q.add(pod('p'));
    q.add(pod('r'));
    const [p, r] = await q.popBatch(2);
    q.addUnschedulable(p!, ['DefaultPreemption']);
    q.addUnschedulable(r!, []);
    assert.equal(q.whereIs('default/r'), 'backoff');
    assert.equal(q.activate('default/p'), true);
    assert.equal(q.whereIs('default/p'), 'active');
    assert.equal(q.activate('default/r'), true);
    assert.equal(q.whereIs('default/r'), 'active', 'within its 1 s backoff all the same');
    assert.equal(q.activate('default/p'), false, 'already active');
    assert.equal(q.activate('default/unknown'), false);
    assert.deepEqual((await q.popBatch(2)).map((e) => e.key).sort(), ['default/p', 'default/r']);
    q.close();
  });

  it('sends a pod to backoffQ, not unschedulablePods, when an event that may help it came during its cycle', async () => {
    const { q } = clockedQueue();
    q.add(pod('p'));
    q.add(pod('r'));
    const [p, r] = await q.popBatch(2);
    q.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
    q.addUnschedulable(p!, ['NodeResourcesFit']);
    assert.equal(q.whereIs('default/p'), 'unschedulable', 'a pod added elsewhere frees no cpu');
    q.moveAllToActiveOrBackoffQueue('NodeAdd');
    q.addUnschedulable(r!, ['NodeResourcesFit']);
    assert.equal(q.whereIs('default/r'), 'backoff');
    q.close();
  });

  it('flushes pods left unschedulable for 5 minutes back to activeQ', async () => {
    const { q, clock } = clockedQueue();
    q.add(pod('p'));
    const [e] = await q.popBatch(1);
    q.addUnschedulable(e!, ['TaintToleration']);
    clock.t += 5 * 60_000 - 1;
    assert.equal(q.flushUnschedulablePodsLeftover(), 0);
    clock.t += 1;
    assert.equal(q.flushUnschedulablePodsLeftover(), 1);
    assert.equal(q.whereIs('default/p'), 'active');
    q.close();
  });

  it('moves a parked pod (a preemptor waiting for its victims) on activate() alone, or once left 5 minutes', async () => {
    const { q, clock } = clockedQueue();
    q.add(pod('preemptor'));
    q.add(pod('other'));
    const popped = new Map((await q.popBatch(2)).map((e) => [e.key, e]));
    q.park(popped.get('default/preemptor')!, ['NodeResourcesFit']);
    q.addUnschedulable(popped.get('default/other')!, ['NodeResourcesFit']);
    assert.equal(q.whereIs('default/preemptor'), 'unschedulable');
    assert.deepEqual(q.pending(), { active: 0, backoff: 0, unschedulable: 2, gated: 0 });
    assert.deepEqual([...q.unschedulableByPlugin()], [['NodeResourcesFit', 2]]);

    assert.equal(q.moveAllToActiveOrBackoffQueue(['NodeAdd', 'AssignedPodDelete']), 1, 'the events move the other pod alone');
    assert.equal(q.whereIs('default/preemptor'), 'unschedulable');
    assert.equal(q.activate('default/preemptor'), true);
    assert.equal(q.whereIs('default/preemptor'), 'active');

    const [again] = await q.popBatch(1);
    q.park(again!, ['NodeResourcesFit']);
    clock.t += 5 * 60_000;
    assert.equal(q.flushUnschedulablePodsLeftover(), 1, 'an activation that never came');
    assert.equal(q.whereIs('default/preemptor'), 'active');
    q.close();
  });

  it('retries an unschedulable pod whose spec changed, and ignores status-only updates', async () => {
    const { q, clock } = clockedQueue();
    const p = pod('p');
    q.add(p);
    const [e] = await q.popBatch(1);
    q.addUnschedulable(e!, ['NodeAffinity']);
    clock.t += 5000;
    const statusOnly = { ...p, status: { phase: 'Pending' } };
    q.update(p, statusOnly);
    assert.equal(q.whereIs('default/p'), 'unschedulable');
    const changed = { ...statusOnly, spec: { ...p.spec!, nodeSelector: { zone: 'a' } } };
    q.update(statusOnly, changed);
    assert.equal(q.whereIs('default/p'), 'active');
    q.close();
  });

  it('holds gated pods until their scheduling gates are removed', async () => {
    const { q } = clockedQueue();
    const gated = pod('g', 0, { schedulingGates: [{ name: 'example.com/wait' }] });
    q.add(gated);
    assert.deepEqual(q.pending(), { active: 0, backoff: 0, unschedulable: 0, gated: 1 });
    q.update(gated, pod('g'));
    assert.equal(q.whereIs('default/g'), 'active');
    q.close();
  });

  it('forgets deleted pods, including those being scheduled', async () => {
    const { q } = clockedQueue();
    q.add(pod('a'));
    q.add(pod('b'));
    const [e] = await q.popBatch(1);
    q.delete(e!.pod);
    q.addUnschedulable(e!, ['NodeResourcesFit']);
    assert.equal(q.whereIs(e!.key), undefined, 'a pod deleted mid-cycle is not requeued');
    q.delete(pod('b'));
    assert.deepEqual(q.pending(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 });
    q.close();
  });

  it('keeps nominated pods per node', () => {
    const { q } = clockedQueue();
    const p = pod('p');
    q.addNominatedPod(p, 'n1');
    assert.deepEqual(q.nominatedPodsForNode('n1').map((x) => x.metadata!.name), ['p']);
    q.addNominatedPod(p, 'n2');
    assert.deepEqual(q.nominatedPodsForNode('n1'), []);
    assert.equal(q.nominatedNodeName(p), 'n2');
    q.deleteNominatedPodIfExists(p);
    assert.deepEqual(q.nominatedPodsForNode('n2'), []);
    q.close();
  });

  it('maps cluster events to the plugins they may help', () => {
    assert.ok(eventMayHelp('NodeAdd', new Set(['TaintToleration'])));
    assert.ok(eventMayHelp('AssignedPodDelete', new Set(['NodeResourcesFit'])));
    assert.ok(!eventMayHelp('AssignedPodDelete', new Set(['TaintToleration'])));
    assert.ok(eventMayHelp('AssignedPodDelete', new Set()), 'no recorded verdict: any event may help');
  });
});
