import assert from 'node:assert/strict';
import { missedOutputStatus } from './acceptor.js';

describe('attach to a container that already exited', () => {
  it('answers a Failure (kubectl then shows the log) when the container exited and its log holds output the attach did not relay', () => {
    const s = missedOutputStatus('default/client/client', { state: 'CONTAINER_EXITED' }, 42);
    assert.ok(s);
    const status = JSON.parse(Buffer.from(s).toString());
    assert.equal(status.kind, 'Status');
    assert.equal(status.status, 'Failure');
    assert.equal(status.code, 400);
    assert.equal(status.message, 'container default/client/client exited and none of its output reached the attach: it is in its log');
  });

  it("keeps the runtime's Status when the log is empty, or the container still runs, or is unknown", () => {
    assert.equal(missedOutputStatus('default/c/c', { state: 'CONTAINER_EXITED' }, 0), undefined);
    assert.equal(missedOutputStatus('default/c/c', { state: 'CONTAINER_RUNNING' }, 42), undefined);
    assert.equal(missedOutputStatus('default/c/c', undefined, 42), undefined);
  });
});
