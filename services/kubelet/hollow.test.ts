import assert from 'node:assert/strict';
import { EXIT_CODE_ANNOTATION, HollowRuntime, RUN_SECONDS_ANNOTATION, STOPPED_EXIT_CODE } from './hollow.js';
import type { ContainerEvent } from './runtime.js';

const meta = { name: 'p', namespace: 'default', uid: 'u1', attempt: 0 };

function nextEvent(rt: HollowRuntime, type: ContainerEvent['type']): Promise<ContainerEvent> {
  return new Promise((resolve) => {
    const off = rt.getContainerEvents((ev) => {
      if (ev.type !== type) return;
      off();
      resolve(ev);
    });
  });
}

describe('hollow runtime', () => {
  it('runs a container until it is stopped, which ends it with 143', async () => {
    const rt = new HollowRuntime();
    const sb = await rt.runPodSandbox({ metadata: meta }, '10.0.0.2');
    assert.equal(rt.podSandboxStatus(sb)?.network?.ip, '10.0.0.2');
    const id = await rt.createContainer(sb, { metadata: { name: 'c', attempt: 0 }, image: 'nginx' });
    await rt.startContainer(id);
    assert.equal(rt.containerStatus(id)?.state, 'CONTAINER_RUNNING');
    assert.equal(rt.containerStatus(id)?.image, 'docker.io/library/nginx:latest');
    assert.match(rt.containerStatus(id)!.imageRef, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    const stopped = nextEvent(rt, 'CONTAINER_STOPPED_EVENT');
    await rt.stopContainer(id, 30);
    assert.equal((await stopped).containerId, id);
    assert.equal(rt.containerStatus(id)?.exitCode, STOPPED_EXIT_CODE);
    await rt.removePodSandbox(sb);
    assert.deepEqual(rt.counts(), { sandboxes: 0, containers: 0 });
  });

  it('exits after the run-seconds annotation with the exit-code annotation', async () => {
    const rt = new HollowRuntime();
    const sb = await rt.runPodSandbox({ metadata: meta, annotations: { [RUN_SECONDS_ANNOTATION]: '0.05', [EXIT_CODE_ANNOTATION]: '3' } });
    const id = await rt.createContainer(sb, { metadata: { name: 'c', attempt: 0 }, image: 'busybox' });
    const stopped = nextEvent(rt, 'CONTAINER_STOPPED_EVENT');
    await rt.startContainer(id);
    await stopped;
    const st = rt.containerStatus(id)!;
    assert.equal(st.state, 'CONTAINER_EXITED');
    assert.equal(st.exitCode, 3);
    assert.equal(st.reason, 'Error');
    assert.ok(st.finishedAt >= st.startedAt);
    await rt.close();
  });

  it('rejects a sandbox whose annotations are not numbers', async () => {
    const rt = new HollowRuntime();
    await assert.rejects(rt.runPodSandbox({ metadata: meta, annotations: { [RUN_SECONDS_ANNOTATION]: 'soon' } }), /hollow-run-seconds/);
    await assert.rejects(rt.runPodSandbox({ metadata: meta, annotations: { [EXIT_CODE_ANNOTATION]: '300' } }), /hollow-exit-code/);
  });
});
