import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { SupervisedProcess } from './supervisor.js';

/** A supervised `node -e SCRIPT` whose launcher messages are collected in `lines`. */
function supervised(script: string): { proc: SupervisedProcess; lines: string[]; output: () => string } {
  const lines: string[] = [];
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  const proc = new SupervisedProcess({ name: 'child', command: process.execPath, args: ['-e', script] }, { stdout: out, stderr: out, log: (l) => lines.push(l) });
  return { proc, lines, output: () => text };
}

/** Waits until the child printed `ready` (its SIGTERM handler is installed by then). */
async function ready(output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!output().includes('ready')) {
    if (Date.now() > deadline) throw new Error(`the child never printed "ready": ${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a supervised process stopping', function () {
  this.timeout(20_000);

  it('reports a stop that took over a second with its time, and a prompt one without', async () => {
    const slow = supervised("process.on('SIGTERM', () => setTimeout(() => process.exit(0), 1300)); setInterval(() => {}, 1000); console.log('ready')");
    const prompt = supervised("process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('ready')");
    slow.proc.start();
    prompt.proc.start();
    await Promise.all([ready(slow.output), ready(prompt.output)]);
    await Promise.all([slow.proc.stop(), prompt.proc.stop()]);
    assert.match(slow.lines.at(-1)!, /^stopped child \(after 1\.\d s\)$/);
    assert.equal(prompt.lines.at(-1), 'stopped child');
    assert.equal(slow.proc.running, false);
  });

  it('kills a child that ignores SIGTERM once the grace period is over', async () => {
    const stubborn = supervised("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')");
    stubborn.proc.start();
    await ready(stubborn.output);
    await stubborn.proc.stop(300);
    assert.ok(stubborn.lines.includes('child did not stop within 0.3s; killing it'), stubborn.lines.join('\n'));
    assert.equal(stubborn.proc.running, false);
  });
});
