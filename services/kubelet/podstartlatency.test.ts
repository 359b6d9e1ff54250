import assert from 'node:assert/strict';
import { parseStartupLine, PodStartupLatencyTracker } from './podstartlatency.js';

describe('kubelet PodStartupLatencyTracker', () => {
  it('logs one line per pod at its first Running status, with each phase, and parses it back', async () => {
    const lines: string[] = [];
    let now = 1000;
    const t = new PodStartupLatencyTracker((l) => lines.push(l), () => now);
    t.admitted('u1');
    now += 30;
    t.mark('u1', 'queuedMs');
    await t.time('u1', 'sandboxMs', async () => void (now += 200));
    await t.time('u1', 'createMs', async () => void (now += 10));
    await t.time('u1', 'startMs', async () => void (now += 50));
    await t.time('u1', 'createMs', async () => void (now += 5));
    now += 40;
    t.reported('u1', 'default/a', 'Pending');
    assert.equal(lines.length, 0, 'a Pending status ends nothing');
    t.reported('u1', 'default/a', 'Running');
    t.reported('u1', 'default/a', 'Running');
    assert.equal(lines.length, 1, 'only the first start is traced');
    const got = parseStartupLine(`kubelet: ${lines[0]}`)!;
    assert.equal(got.pod, 'default/a');
    assert.deepEqual(
      [got.queuedMs, got.volumesMs, got.sandboxMs, got.imageMs, got.createMs, got.startMs, got.reportedMs, got.totalMs],
      [30, 0, 200, 0, 15, 50, 40, 335],
    );
    assert.ok(Math.abs(got.admittedAt - Date.now()) < 5000);
  });

  it('forgets a pod that goes away and times nothing it does not trace', async () => {
    const lines: string[] = [];
    const t = new PodStartupLatencyTracker((l) => lines.push(l));
    t.admitted('u2');
    t.forget('u2');
    assert.equal(await t.time('u2', 'startMs', async () => 7), 7);
    t.reported('u2', 'default/b', 'Running');
    assert.deepEqual(lines, []);
    assert.equal(parseStartupLine('kubelet: pod default/b: something else'), undefined);
  });
});
