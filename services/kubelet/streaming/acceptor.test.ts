import assert from 'node:assert/strict';
import { missedOutputStatus } from './acceptor.js';

describe('attach to a container that already exited', () => {
  const connectedAt = Date.parse('2026-12-04T15:00:00.500Z');
  const ns = (iso: string) => String(BigInt(Date.parse(iso)) * 1_000_000n);

  it('answers a Failure (kubectl then shows the log) when the process had exited before the streams were connected', () => {
    const s = missedOutputStatus('default/client/client', { state: 'CONTAINER_EXITED', finishedAt: ns('2026-12-04T15:00:00.400Z') }, connectedAt);
    assert.ok(s);
    const status = JSON.parse(Buffer.from(s).toString());
    assert.equal(status.kind, 'Status');
    assert.equal(status.status, 'Failure');
    assert.equal(status.code, 400);
    assert.equal(status.message, 'container default/client/client had exited before the attach: its output is in its log');
  });

  it("keeps the runtime's Status when the process ended after the attach, or still runs, or is unknown", () => {
    assert.equal(missedOutputStatus('default/c/c', { state: 'CONTAINER_EXITED', finishedAt: ns('2026-12-04T15:00:00.600Z') }, connectedAt), undefined);
    assert.equal(missedOutputStatus('default/c/c', { state: 'CONTAINER_RUNNING', finishedAt: '0' }, connectedAt), undefined);
    assert.equal(missedOutputStatus('default/c/c', undefined, connectedAt), undefined);
  });
});
