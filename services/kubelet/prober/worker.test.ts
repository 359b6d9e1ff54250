import assert from 'node:assert/strict';
import type { Probe } from 'kubernetes-types/core/v1.js';
import type { CheckOutcome, ProbeResult } from './handlers.js';
import { ProbeManager, type ProbeListener } from './manager.js';
import { type ProbeKind, ProbeWorker } from './worker.js';

/** An exec runner answering a scripted list of exit codes, one per check (then the last one again). */
function scripted(codes: number[]) {
  let i = 0;
  return async () => {
    const exitCode = codes[Math.min(i++, codes.length - 1)]!;
    return { exitCode, stdout: Buffer.from(`check ${i}`), stderr: Buffer.alloc(0) };
  };
}

const until = async (what: string, f: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('prober worker (upstream thresholds, gating and hold)', function () {
  this.timeout(20_000);
  const probe = (p: Partial<Probe>): Probe => ({ exec: { command: ['check'] }, periodSeconds: 1, ...p });

  it('reports a result only after successThreshold successes or failureThreshold failures in a row', async () => {
    const results: ProbeResult[] = [];
    let failedChecks = 0;
    // fail, succeed, succeed (→ success), fail, fail (→ failure)
    const w = new ProbeWorker('readiness', probe({ successThreshold: 2, failureThreshold: 2 }), { containerId: 'c', container: { name: 'c' }, podIP: '', exec: scripted([1, 0, 0, 1, 1]) }, Date.now(), {
      started: () => true,
      onResult: (_k: ProbeKind, r: ProbeResult) => results.push(r),
      onFailedCheck: () => failedChecks++,
    });
    w.start();
    try {
      await until('two results', () => results.length >= 2);
    } finally {
      w.stop();
    }
    assert.deepEqual(results, ['success', 'failure']);
    assert.equal(failedChecks, 3);
  });

  it('holds liveness and readiness until the startup probe succeeds; a liveness failure is reported once, then the worker holds', async () => {
    const events: string[] = [];
    const listener: ProbeListener = {
      onReadiness: (_p, _c, ready) => events.push(`ready=${ready}`),
      onStarted: () => events.push('started'),
      onFailure: (_p, _c, _id, kind: string, _o: CheckOutcome, grace?: number) => events.push(`${kind} failed grace=${grace}`),
      onUnhealthy: () => undefined,
    };
    // the same runner serves all three probes: the startup probe sees 1, 1, then 0; later checks keep failing
    let calls = 0;
    const exec = async (_id: string, cmd: string[]) => {
      calls++;
      const code = cmd[0] === 'startup' ? (calls >= 3 ? 0 : 1) : cmd[0] === 'ready' ? 0 : 1;
      return { exitCode: code, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    };
    const m = new ProbeManager(listener, exec);
    m.addContainer('ns/p', {
      name: 'c',
      startupProbe: probe({ exec: { command: ['startup'] }, failureThreshold: 10 }),
      readinessProbe: probe({ exec: { command: ['ready'] } }),
      livenessProbe: probe({ exec: { command: ['live'] }, failureThreshold: 1, terminationGracePeriodSeconds: 5 }),
    }, 'id1', '10.0.0.1', Date.now());
    try {
      await until('liveness failed after the start', () => events.some((e) => e.startsWith('liveness')));
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      m.stop();
    }
    assert.equal(events[0], 'started');
    assert.ok(events.includes('ready=true'), events.join(', '));
    assert.deepEqual(events.filter((e) => e.startsWith('liveness')), ['liveness failed grace=5']);
  });
});
