import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { ImagePuller, localRegistryHosts, type ImageService } from './puller.js';

/** An image store in memory: what the puller sees of containerd through CRI. */
class Store implements ImageService {
  readonly have = new Map<string, string>();
  /** what a pull from the local registry would find */
  readonly registry = new Map<string, string>();
  readonly pulls: string[] = [];
  async imageStatus(image: string) {
    const id = this.have.get(image);
    return id ? { id, size: '1234' } : null;
  }
  async pullImage(image: string) {
    this.pulls.push(image);
    const id = this.registry.get(image);
    if (!id) throw new Error(`CRI PullImage: NOT_FOUND: ${image} not found`);
    this.have.set(image, id);
    return id;
  }
}

const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' } };
const c = (image: string, imagePullPolicy?: string): Container => ({ name: 'c', image, imagePullPolicy });

function setup() {
  const store = new Store();
  const events: string[] = [];
  let now = 1_000_000;
  const puller = new ImagePuller({
    service: store,
    events: { recordPod: (_p, type, reason, message) => events.push(`${type} ${reason} ${message}`) },
    backoffInitialMs: 10_000,
    backoffMaxMs: 40_000,
    errImagePullResyncMs: 1000,
    now: () => now,
  });
  return { store, events, puller, tick: (ms: number) => (now += ms) };
}

describe('the image puller', () => {
  it('uses an image in the store without pulling when its host is not the local registry, whatever the policy but Never-and-missing', async () => {
    const { store, events, puller } = setup();
    store.have.set('docker.io/library/busybox:latest', 'sha256:b');
    for (const policy of ['Always', 'IfNotPresent', 'Never', undefined]) {
      assert.deepEqual(await puller.ensureImage(pod, c('busybox', policy)), { ok: true, imageRef: 'sha256:b' });
    }
    assert.deepEqual(store.pulls, []);
    assert.equal(events[0], 'Normal Pulled Container image "busybox" already present on machine');
  });

  it('ErrImageNeverPull for a missing image with policy Never', async () => {
    const { events, puller } = setup();
    const r = await puller.ensureImage(pod, c('app:1', 'Never'));
    assert.deepEqual(r, { ok: false, reason: 'ErrImageNeverPull', message: 'Container image "app:1" is not present with pull policy of Never' });
    assert.deepEqual(events, ['Warning ErrImageNeverPull Container image "app:1" is not present with pull policy of Never', 'Warning Failed Error: ErrImageNeverPull']);
  });

  it('never pulls from another host: ErrImagePull saying how to provide the image, then ImagePullBackOff doubling to the cap', async () => {
    const { store, events, puller, tick } = setup();
    const first = await puller.ensureImage(pod, c('nope:1'));
    assert.equal(first.ok, false);
    assert.ok(!first.ok);
    assert.equal(first.reason, 'ErrImagePull');
    assert.equal(first.retryInMs, 1000);
    assert.match(first.message, /^Failed to pull image "nope:1": image docker.io\/library\/nope:1 is not on this node; .*flotilla image import FILE.*skopeo copy oci-archive:FILE docker:\/\/localhost:5000\/NAME --dest-tls-verify=false/);
    assert.deepEqual(store.pulls, [], 'no pull asked of the runtime');
    assert.deepEqual(events.map((e) => e.split(' ').slice(0, 2).join(' ')), ['Normal Pulling', 'Warning Failed', 'Warning Failed']);
    events.length = 0;

    tick(1000);
    const second = await puller.ensureImage(pod, c('nope:1'));
    assert.ok(!second.ok);
    assert.equal(second.reason, 'ImagePullBackOff');
    assert.equal(second.retryInMs, 9000);
    assert.match(second.message, /^Back-off pulling image "nope:1": ErrImagePull: image docker.io\/library\/nope:1 is not on this node/);
    assert.deepEqual(events, ['Normal BackOff Back-off pulling image "nope:1"', 'Warning Failed Error: ImagePullBackOff']);

    // each failed attempt doubles the back-off: 10 s, 20 s, 40 s, then the cap
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      tick(second.retryInMs! + 100_000);
      const r = await puller.ensureImage(pod, c('nope:1'));
      assert.ok(!r.ok && r.reason === 'ErrImagePull');
      const b = await puller.ensureImage(pod, c('nope:1'));
      assert.ok(!b.ok && b.reason === 'ImagePullBackOff');
      waits.push(b.retryInMs!);
    }
    assert.deepEqual(waits, [20_000, 40_000, 40_000, 40_000]);
  });

  it('pulls from the local registry by the policy: Always each time, IfNotPresent once', async () => {
    const { store, events, puller } = setup();
    store.registry.set('localhost:5000/app:latest', 'sha256:a');
    store.registry.set('127.0.0.1:5000/app:v1', 'sha256:v1');
    assert.deepEqual(await puller.ensureImage(pod, c('localhost:5000/app')), { ok: true, imageRef: 'sha256:a' });
    assert.deepEqual(await puller.ensureImage(pod, c('localhost:5000/app', 'Always')), { ok: true, imageRef: 'sha256:a' });
    assert.deepEqual(await puller.ensureImage(pod, c('127.0.0.1:5000/app:v1')), { ok: true, imageRef: 'sha256:v1' });
    assert.deepEqual(await puller.ensureImage(pod, c('127.0.0.1:5000/app:v1', 'IfNotPresent')), { ok: true, imageRef: 'sha256:v1' });
    assert.deepEqual(store.pulls, ['localhost:5000/app:latest', 'localhost:5000/app:latest', '127.0.0.1:5000/app:v1']);
    assert.equal(events[0], 'Normal Pulling Pulling image "localhost:5000/app"');
    assert.match(events[1]!, /^Normal Pulled Successfully pulled image "localhost:5000\/app" in \S+ \(\S+ including waiting\)\. Image size: 1234 bytes\.$/);
    assert.equal(events.at(-1), 'Normal Pulled Container image "127.0.0.1:5000/app:v1" already present on machine');
  });

  it('a failed pull from the local registry is ErrImagePull with the runtime\'s message; a registry on another port is not local', async () => {
    const { store, puller } = setup();
    const r = await puller.ensureImage(pod, c('localhost:5000/missing:1'));
    assert.ok(!r.ok && r.reason === 'ErrImagePull');
    assert.match(r.message, /NOT_FOUND: localhost:5000\/missing:1 not found/);
    const other = await puller.ensureImage(pod, c('localhost:5001/app:1'));
    assert.ok(!other.ok && other.reason === 'ErrImagePull');
    assert.deepEqual(store.pulls, ['localhost:5000/missing:1']);
    assert.deepEqual(localRegistryHosts(5001), ['localhost:5001', '127.0.0.1:5001']);
  });

  it('InvalidImageName for what is no image reference', async () => {
    const { events, puller } = setup();
    const r = await puller.ensureImage(pod, c('Bad:Name'));
    assert.ok(!r.ok && r.reason === 'InvalidImageName' && r.retryInMs === undefined);
    assert.match(events[0]!, /^Warning InspectFailed Failed to apply default image tag "Bad:Name": couldn't parse image name "Bad:Name": repository name must be lowercase/);
  });
});
