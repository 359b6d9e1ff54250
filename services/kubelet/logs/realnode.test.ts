/**
 * `kubectl logs` against a real node (issue 11): the apiserver relays pods/log from the
 * kubelet over NATS (lib/stream), which reads containerd's CRI log files. Stock kubectl,
 * 1.27 and 1.33. Needs root (run under `flock /tmp/flt-containerd.lock`).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeKubeconfig } from '../../../cli/kubeconfig.js';
import { kubectlBinary, kubectlDir, kubectlRunner } from '../../../test/kubectl.js';
import { startRealNode, type RealNode } from '../../../test/realnode.js';
import { waitFor } from '../../../test/wait.js';

const run = promisify(execFile);
const STOCK = () => path.join(kubectlDir(), 'kubectl');
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) /;

describe('kubectl logs on a real node (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode | undefined;
  let dir = '';
  let kubeconfig = '';
  const byVersion = (v: string) => kubectlRunner(v, () => ({ dir, kubeconfig }));
  /** the stock kubectl on PATH: stdout, or (kFail) the stderr of a failure */
  const k = async (...args: string[]) => (await run(STOCK(), ['--kubeconfig', kubeconfig, ...args], { cwd: dir })).stdout;
  const kFail = async (...args: string[]) => {
    try {
      await run(STOCK(), ['--kubeconfig', kubeconfig, ...args], { cwd: dir });
    } catch (e: any) {
      return String(e.stderr);
    }
    throw new Error(`kubectl ${args.join(' ')} should have failed`);
  };

  before(async () => {
    rn = await startRealNode('the kubectl logs suite', {
      prefix: 'lg',
      kubelet: (o) => ({
        ...o,
        // a small rotation size, checked often, for the rotation test (the other pods write less)
        cri: { ...o.cri!, containerLogMaxSize: 8 * 1024, containerLogMaxFiles: 3, containerLogMonitorPeriodMs: 200 },
        pod: { ...o.pod, backOff: { initialMs: 1000, maxMs: 2000 } } as typeof o.pod,
      }),
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'flt-logs-kubectl-'));
    kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), rn.api.httpUrl);
    const sh = (name: string, script: string) => ({ name, image: 'busybox', command: ['sh', '-c', script] });
    // every pod at once: containerd starts them in parallel
    await Promise.all([
      rn.createPod({ containers: [sh('app', 'echo early 1; echo early 2; sleep 2; echo late 1; sleep 0.2; echo oops >&2; exec sleep 3600')] }, { name: 'counter', labels: { app: 'logs' } }),
      rn.createPod({ containers: [sh('app', 'echo second pod; exec sleep 3600')] }, { name: 'counter2', labels: { app: 'logs' } }),
      rn.createPod({ containers: [sh('a', 'echo from a; exec sleep 3600'), sh('b', 'echo from b; exec sleep 3600')] }, { name: 'multi' }),
      // the first attempt fails; the second (the marker survives in the emptyDir) runs on, so
      // "previous" and "current" are fixed once restartCount is 1, with no race against more restarts
      rn.createPod({
        containers: [{ ...sh('c', 'echo "run $(cat /proc/uptime)"; [ -e /d/ran ] && exec sleep 3600; touch /d/ran; exit 1'), volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
        volumes: [{ name: 'd', emptyDir: {} }],
        restartPolicy: 'Always',
      }, { name: 'restarts' }),
    ]);
    await Promise.all(['counter', 'counter2', 'multi'].map((p) => rn!.podIn(p, 'Running')));
  });

  after(async () => {
    await rn?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs of a busybox pod, with --tail, --timestamps, --limit-bytes, --since and --since-time', async () => {
    await waitFor('the late lines', async () => (await k('logs', 'counter')).includes('oops'));
    assert.equal(await k('logs', 'counter'), 'early 1\nearly 2\nlate 1\noops\n');
    assert.equal(await k('logs', 'counter', '--tail=2'), 'late 1\noops\n');
    assert.equal(await k('logs', 'counter', '--limit-bytes=10'), 'early 1\nea');
    const stamped = (await k('logs', 'counter', '--timestamps')).trimEnd().split('\n');
    assert.equal(stamped.length, 4);
    for (const l of stamped) assert.match(l, TS);
    assert.deepEqual(stamped.map((l) => l.replace(TS, '')), ['early 1', 'early 2', 'late 1', 'oops']);
    // since the second the late line was written in: the early ones (2 s before) are left out
    const lateAt = new Date(Math.floor(Date.parse(stamped[2].split(' ')[0]) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    assert.equal(await k('logs', 'counter', `--since-time=${lateAt}`), 'late 1\noops\n');
    assert.equal(await k('logs', 'counter', '--since=1h'), 'early 1\nearly 2\nlate 1\noops\n');
    await sleep(2000);
    assert.equal(await k('logs', 'counter', '--since=1s'), '', 'nothing was written in the last second');
  });

  it('-c, --all-containers, -l, and upstream\'s errors', async () => {
    await waitFor('b wrote', async () => (await k('logs', 'multi', '-c', 'b')) === 'from b\n');
    assert.equal(await k('logs', 'multi', '-c', 'a'), 'from a\n');
    assert.equal((await k('logs', 'multi', '--all-containers')).split('\n').sort().join('\n'), '\nfrom a\nfrom b');
    // kubectl itself picks the first container when none is named (the apiserver's 400 is in podlog.test.ts)
    assert.equal(await k('logs', 'multi'), 'from a\n');
    assert.match(await kFail('logs', 'multi', '-c', 'zz'), /container zz is not valid for pod multi/);
    assert.equal((await k('logs', '-l', 'app=logs', '--tail=1')).split('\n').sort().join('\n'), '\noops\nsecond pod');
    assert.match(await kFail('logs', 'counter', '--previous'), /previous terminated container "app" in pod "counter" not found/);
  });

  it('--previous shows the attempt before a restart', async () => {
    const pod = await waitFor('a restart', async () => {
      const p = await rn!.getPod('restarts');
      const cs = p.status?.containerStatuses?.[0];
      return (cs?.restartCount ?? 0) >= 1 && cs?.state?.running && p;
    });
    const prev = await k('logs', 'restarts', '--previous');
    assert.match(prev, /^run [\d.]+ [\d.]+\n$/);
    const now = await waitFor('the new attempt\'s line', async () => (await k('logs', 'restarts')) || undefined);
    assert.match(now, /^run [\d.]+ [\d.]+\n$/);
    assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 1);
    assert.notEqual(prev, now, 'the previous attempt printed another uptime');
    for (const v of ['1.27', '1.33']) assert.match(await byVersion(v).k('logs', 'restarts', '--previous'), /^run /, `kubectl ${v}`);
  });

  for (const version of ['stock', '1.27', '1.33']) {
    it(`kubectl ${version} logs -f sees lines as they come and ends when the container exits`, async () => {
      const name = `follow-${version.replace('.', '-')}`;
      await rn!.createPod({ containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done'] }], restartPolicy: 'Never' }, { name });
      await waitFor(`${name} started`, async () => (await rn!.getPod(name)).status?.containerStatuses?.[0]?.state?.running);
      const child = spawn(version === 'stock' ? STOCK() : kubectlBinary(version), ['--kubeconfig', kubeconfig, 'logs', '-f', name], { cwd: dir });
      const seen: Array<[number, string]> = [];
      let err = '';
      child.stdout.on('data', (b: Buffer) => seen.push([Date.now(), b.toString()]));
      child.stderr.on('data', (b: Buffer) => (err += b));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      const ended = Date.now();
      assert.equal(code, 0, err);
      assert.equal(seen.map(([, s]) => s).join(''), 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\n');
      // the first ticks arrived while the container was still printing the others
      assert.ok(seen.length > 1 && ended - seen[0][0] >= 1000, `chunks at ${seen.map(([t]) => ended - t).join(', ')} ms before the end`);
    });
  }

  it('rotation at the max size (N.log.<timestamp>, at most maxFiles files, CRI ReopenContainerLog) while logs -f follows every line', async () => {
    const name = 'chatty';
    const pad = '.'.repeat(90);
    const script = `sleep 1; i=0; while [ $i -lt 400 ]; do echo "line $i ${pad}"; i=$((i+1)); sleep 0.01; done`;
    const pod = await rn!.createPod({ containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', script] }], restartPolicy: 'Never' }, { name });
    await waitFor(`${name} started`, async () => (await rn!.getPod(name)).status?.containerStatuses?.[0]?.state?.running);
    const child = spawn(STOCK(), ['--kubeconfig', kubeconfig, 'logs', '-f', name], { cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 0, err);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 400, 'every line, once, across the rotations');
    lines.forEach((l, i) => assert.equal(l, `line ${i} ${pad}`));
    const logDir = path.join(rn!.options().cri!.rootDir, 'pods', `default_${name}_${pod.metadata!.uid}`, 'app');
    const files = readdirSync(logDir).sort();
    assert.ok(files.length >= 2 && files.length <= 3, `the live file and at most 2 rotated ones: ${files}`);
    assert.ok(files[0] === '0.log' && files.slice(1).every((f) => /^0\.log\.\d{8}-\d{6}$/.test(f)), String(files));
    // what is left reads in order up to the last line; the oldest files are gone
    const left = (await k('logs', name)).trimEnd().split('\n');
    assert.ok(left.length < 400, `${left.length} lines left`);
    assert.equal(left.at(-1), `line 399 ${pad}`);
    const first = Number(left[0].split(' ')[1]);
    left.forEach((l, i) => assert.equal(l, `line ${first + i} ${pad}`));
  });
});
