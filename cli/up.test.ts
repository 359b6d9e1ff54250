import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readState } from './datafolder.js';
import { alive, descendants, kubectl, launchUp as launch, type Launch } from '../test/cluster.js';

async function eventually<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('flotilla up', function () {
  this.timeout(240_000);
  let dataDir: string;
  let first: Launch | undefined;
  let second: Launch | undefined;
  let third: Launch | undefined;
  let fourth: Launch | undefined;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-up-test-'));
    first = await launch(dataDir);
  });

  after(async () => {
    for (const l of [first, second, third, fourth]) {
      if (l && l.child.exitCode === null) {
        l.child.kill('SIGTERM');
        await l.exited;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the kubeconfig export that kubectl uses to reach the cluster', async () => {
    assert.equal(first!.kubeconfig, path.join(dataDir, 'kubeconfig'));
    const names = (await kubectl(first!.kubeconfig, 'get', 'namespaces', '-o', 'name')).split('\n');
    assert.ok(names.includes('namespace/default'), names.join(','));
    assert.match(await kubectl(first!.kubeconfig, 'create', 'configmap', 'kept', '--from-literal=answer=42'), /configmap\/kept created/);
  });

  it('restarts a service that dies, naming it and how it exited', async () => {
    const apiserver = descendants(first!.child.pid!).find((p) => p.cmdline.includes(' apiserver '));
    assert.ok(apiserver, 'an apiserver child process runs');
    process.kill(apiserver.pid, 'SIGKILL');
    await eventually('restart logged', async () => assert.match(first!.output(), /apiserver exited with signal SIGKILL; restarting/));
    const answer = await eventually('apiserver back', () => kubectl(first!.kubeconfig, 'get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}'));
    assert.equal(answer, '42');
    const again = descendants(first!.child.pid!).find((p) => p.cmdline.includes(' apiserver '));
    assert.ok(again && again.pid !== apiserver.pid);
  });

  it('stops every process it started on SIGINT', async () => {
    const procs = descendants(first!.child.pid!);
    assert.ok(procs.some((p) => p.cmdline.includes('nats-server')), procs.map((p) => p.cmdline).join('\n'));
    assert.ok(procs.some((p) => p.cmdline.includes(' apiserver ')), procs.map((p) => p.cmdline).join('\n'));
    first!.child.kill('SIGINT');
    assert.equal(await first!.exited, 0, first!.output());
    const left = procs.filter((p) => alive(p.pid));
    assert.deepEqual(left, [], 'processes left behind');
    assert.equal(readState(dataDir)?.pid, undefined, 'the data folder is released');
  });

  it('keeps every object and the NATS port when started again on the same data folder', async () => {
    const natsBefore = readState(dataDir)!.natsUrl;
    second = await launch(dataDir);
    assert.equal(readState(dataDir)!.natsUrl, natsBefore);
    const answer = await kubectl(second.kubeconfig, 'get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}');
    assert.equal(answer, '42');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output());
  });

  it('cleans up after a launcher that was killed outright', async () => {
    third = await launch(dataDir);
    const procs = descendants(third.child.pid!);
    const apiserver = procs.find((p) => p.cmdline.includes(' apiserver '))!;
    const nats = procs.find((p) => p.cmdline.includes('nats-server'))!;
    third.child.kill('SIGKILL');
    await third.exited;
    // The apiserver notices its parent is gone; nats-server cannot, so the next start stops it.
    await eventually('apiserver exits by itself', async () => assert.ok(!alive(apiserver.pid)));
    fourth = await launch(dataDir);
    assert.match(fourth.output(), new RegExp(`stopping nats-server pid ${nats.pid}`));
    assert.ok(!alive(nats.pid));
    assert.equal(await kubectl(fourth.kubeconfig, 'get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}'), '42');
    fourth.child.kill('SIGINT');
    assert.equal(await fourth.exited, 0, fourth.output());
  });
});
