import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContainerLogManager, rotateLog, rotationSuffix } from './rotation.js';

describe('kubelet logs/rotation: as upstream\'s container log manager', () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flt-logrotate-'));
    log = path.join(dir, '0.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** a "runtime" that opens a new file at the path when asked, as containerd does */
  const reopen = () => async () => writeFileSync(log, '');

  it('rotates at the max size: renamed with a UTC timestamp, reopened, the oldest removed beyond maxFiles', async () => {
    const policy = { maxSize: 100, maxFiles: 3 };
    writeFileSync(log, 'x'.repeat(99));
    assert.equal(await rotateLog(log, policy, reopen()), false, 'under the max size');
    appendFileSync(log, 'x');
    const t = (s: number) => new Date(Date.UTC(2026, 11, 3, 7, 0, s));
    assert.equal(rotationSuffix(t(5)), '20261203-070005');
    writeFileSync(`${log}.20261203-065900.tmp`, 'left behind');
    for (let s = 1; s <= 4; s++) {
      writeFileSync(log, `${s}`.repeat(100));
      assert.equal(await rotateLog(log, policy, reopen(), t(s)), true);
    }
    // the live file and maxFiles - 1 rotated ones
    assert.deepEqual(readdirSync(dir).sort(), ['0.log', '0.log.20261203-070003', '0.log.20261203-070004']);
    assert.equal(readFileSync(`${log}.20261203-070004`, 'utf8'), '4'.repeat(100));
    assert.equal(readFileSync(log, 'utf8'), '');
  });

  it('a failed reopen puts the file back; a second rotation within one second waits', async () => {
    writeFileSync(log, 'y'.repeat(200));
    await assert.rejects(rotateLog(log, { maxSize: 100, maxFiles: 5 }, async () => { throw new Error('no such container'); }), /reopening .*0\.log after rotating it: no such container/);
    assert.deepEqual(readdirSync(dir), ['0.log']);
    const now = new Date();
    assert.equal(await rotateLog(log, { maxSize: 100, maxFiles: 5 }, reopen(), now), true);
    writeFileSync(log, 'z'.repeat(200));
    assert.equal(await rotateLog(log, { maxSize: 100, maxFiles: 5 }, reopen(), now), false);
    assert.ok(existsSync(log));
  });

  it('the manager rotates every running container\'s log; at least 2 files', async () => {
    writeFileSync(log, 'z'.repeat(50));
    const m = new ContainerLogManager({ runningContainers: () => [{ id: 'c1', logPath: log }], reopenContainerLog: async () => writeFileSync(log, '') }, { maxSize: 10, maxFiles: 2 });
    await m.rotateAll();
    assert.equal(m.rotations, 1);
    assert.throws(() => new ContainerLogManager({ runningContainers: () => [], reopenContainerLog: async () => undefined }, { maxSize: 10, maxFiles: 1 }), /2 or more/);
  });
});
