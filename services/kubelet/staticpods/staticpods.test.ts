/**
 * Static pods on a real node (needs root): a kubelet with --pod-manifest-path runs the
 * folder's pods with no apiserver to talk to, a kubelet that reaches one publishes mirror
 * pods with upstream's annotations and owner, deleting a mirror pod gives a new one while
 * the pod keeps running, and editing or removing the manifest replaces or stops the pod.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../../lib/api/errors.js';
import { freshNats } from '../../../test/harness.js';
import { httpGet } from '../../../test/node.js';
import { PODS_DEFAULT, startRealNode, type RealNode } from '../../../test/realnode.js';
import { waitFor } from '../../../test/wait.js';
import { startKubelet } from '../server.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, CONFIG_SOURCE_ANNOTATION, staticPodsOf } from './manifests.js';

const manifest = (text: string) => `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: static-web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox
    command: [sh, -c, 'mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 8080 -h /www']
`;

describe('static pods on a real node (needs root)', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;
  let dir = '';
  let file = '';
  let withManifests = false;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flt-static-'));
    file = path.join(dir, 'web.yaml');
    writeFileSync(file, manifest('v1'));
    // the fixture's kubelet runs without the folder until the tests ask for it
    rn = await startRealNode('the static pods suite', { prefix: 'sp', kubelet: (o) => (withManifests ? { ...o, cri: { ...o.cri!, podManifestPath: dir } } : o) });
  });
  after(async () => {
    await rn?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const uidOf = () => staticPodsOf(file, readFileSync(file, 'utf8'), rn!.nodeName)[0]!.metadata!.uid!;
  const mirrorName = () => `web-${rn!.nodeName}`;
  const mirror = () => rn!.client.get<Pod>({ ...PODS_DEFAULT, name: mirrorName() }).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  const runningSandbox = async (uid: string) => (await rn!.sandboxesOf(uid)).find((s) => s.state === 'SANDBOX_READY');

  it('runs the folder\'s pods with no apiserver answering', async () => {
    await rn!.stopKubelet();
    withManifests = true;
    // a NATS with no apiserver behind it: registering fails, the static pod runs anyway
    const nats = await freshNats();
    const k = await startKubelet({ ...rn!.options(), natsUrl: nats.url });
    try {
      const sb = await waitFor('the static pod sandbox', () => runningSandbox(uidOf()), 30_000);
      assert.equal(sb.metadata.name, mirrorName());
      const ip = (await rn!.cri.podSandboxStatus(sb.id)).network?.ip;
      const res = await waitFor('GET the static pod', () => httpGet(`http://${ip}:8080/`));
      assert.equal(res.body, 'v1\n');
    } finally {
      await k.stop();
      await nats.stop();
    }
  });

  it('publishes a mirror pod once it reaches an apiserver, adopting the running pod', async () => {
    const before = await runningSandbox(uidOf());
    assert.ok(before, 'the static pod still runs without a kubelet');
    await rn!.startKubelet();
    const m = await waitFor('the mirror pod Running', async () => {
      const p = await mirror();
      return p?.status?.phase === 'Running' && p;
    }, 30_000);
    const hash = uidOf();
    const a = m.metadata!.annotations!;
    assert.equal(a[CONFIG_MIRROR_ANNOTATION], hash);
    assert.equal(a[CONFIG_HASH_ANNOTATION], hash);
    assert.equal(a[CONFIG_SOURCE_ANNOTATION], 'file');
    assert.notEqual(m.metadata!.uid, hash);
    assert.equal(m.metadata!.labels!.app, 'static-web');
    assert.equal(m.spec!.nodeName, rn!.nodeName);
    const owner = m.metadata!.ownerReferences?.[0];
    assert.deepEqual([owner?.kind, owner?.name, owner?.controller], ['Node', rn!.nodeName, true]);
    const sb = await runningSandbox(hash);
    assert.equal(sb?.id, before!.id, 'the running sandbox was adopted, not started again');
    assert.equal(m.status!.podIP, (await rn!.cri.podSandboxStatus(sb!.id)).network?.ip);
  });

  it('makes a new mirror pod when the mirror pod is deleted; the static pod keeps running', async () => {
    const first = (await mirror())!;
    const sandbox = (await runningSandbox(uidOf()))!.id;
    await rn!.client.delete({ ...PODS_DEFAULT, name: mirrorName() });
    const again = await waitFor('a new mirror pod', async () => {
      const p = await mirror();
      return p && p.metadata!.uid !== first.metadata!.uid && !p.metadata!.deletionTimestamp && p.status?.phase === 'Running' && p;
    }, 30_000);
    assert.equal(again.metadata!.annotations![CONFIG_MIRROR_ANNOTATION], uidOf());
    assert.equal((await runningSandbox(uidOf()))?.id, sandbox);
  });

  it('replaces the pod when its manifest changes and stops it when the manifest goes', async () => {
    const oldUid = uidOf();
    writeFileSync(file, manifest('v2'));
    const newUid = uidOf();
    assert.notEqual(newUid, oldUid);
    const m = await waitFor('the new version\'s mirror pod Running', async () => {
      const p = await mirror();
      return p?.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] === newUid && p.status?.phase === 'Running' && !!p.status.podIP && p;
    }, 30_000);
    const res = await waitFor('GET the new version', () => httpGet(`http://${m.status!.podIP}:8080/`));
    assert.equal(res.body, 'v2\n');
    await waitFor('the old version\'s sandbox removed', async () => (await rn!.sandboxesOf(oldUid)).length === 0);

    rmSync(file);
    await waitFor('the mirror pod deleted', async () => (await mirror()) === undefined, 30_000);
    await waitFor('the static pod\'s sandbox removed', async () => (await rn!.sandboxesOf(newUid)).length === 0, 30_000);
  });
});
