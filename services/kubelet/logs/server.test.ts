import assert from 'node:assert/strict';
import type { ContainerStatus } from 'kubernetes-types/core/v1.js';
import { logContainerId } from './server.js';

const cs = (c: Partial<ContainerStatus>): ContainerStatus => ({ name: 'app', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...c });
const pick = (c: Partial<ContainerStatus>, previous = false) => logContainerId({ containerStatuses: [cs(c)] }, 'web', 'app', previous);

describe('kubelet logs/server: which container a log reads (upstream validateContainerLogStatus)', () => {
  it('the running one, the terminated one, the last terminated one while it waits to restart', () => {
    assert.equal(pick({ containerID: 'containerd://r', state: { running: {} } }), 'containerd://r');
    assert.equal(pick({ state: { terminated: { exitCode: 0, containerID: 'containerd://t' } } }), 'containerd://t');
    const last = { terminated: { exitCode: 1, containerID: 'containerd://l' } };
    assert.equal(pick({ state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: last }), 'containerd://l');
    assert.equal(pick({ containerID: 'containerd://r', state: { running: {} }, lastState: last }, true), 'containerd://l');
  });

  it('upstream\'s 400s', () => {
    const msg = (f: () => unknown) => assert.throws(f, (e: any) => e.code === 400 && e.reason === 'BadRequest' && !!(msgs.push(e.message), true));
    const msgs: string[] = [];
    msg(() => pick({ containerID: 'containerd://r', state: { running: {} } }, true));
    msg(() => pick({ state: { waiting: { reason: 'ContainerCreating' } } }));
    msg(() => pick({ state: { waiting: { reason: 'ErrImagePull' } } }));
    msg(() => pick({ state: { waiting: { reason: 'ImagePullBackOff' } } }));
    msg(() => logContainerId({ containerStatuses: [] }, 'web', 'app', false));
    assert.deepEqual(msgs, [
      'previous terminated container "app" in pod "web" not found',
      'container "app" in pod "web" is waiting to start: ContainerCreating',
      'container "app" in pod "web" is waiting to start: image can\'t be pulled',
      'container "app" in pod "web" is waiting to start: trying and failing to pull image',
      'container "app" in pod "web" is not available',
    ]);
  });
});
