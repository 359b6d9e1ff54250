/**
 * A real node's volumes, read inside running containers through CRI ExecSync: emptyDir
 * (disk and `medium: Memory` tmpfs with its size), configMap and secret (items, modes;
 * a ConfigMap update reaches the running container, also after a kubelet restart that
 * adopted the pod), downwardAPI (labels follow the pod), projected, hostPath with type
 * checks, subPath and readOnly mounts; a missing ConfigMap holds the pod in
 * ContainerCreating until it exists; deleting the pod unmounts and removes its volumes.
 * One containerd for the file (test/realnode.ts), pods in parallel. Needs root.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { isNotFound, Resources } from '../../lib/client/mod.js';
import { PODS_DEFAULT, execInPod, startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';

describe('kubelet --runtime cri: volumes (needs root)', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;

  before(async () => {
    rn = await startRealNode('the volumes suite', { prefix: 'vol' });
  });
  after(async () => {
    await rn?.stop();
  });

  const CONFIGMAPS = { ...Resources.configmaps, namespace: 'default' };
  const cm = (name: string, data: Record<string, string>) => rn!.client.create<ConfigMap>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  const secret = (name: string, data: Record<string, string>) =>
    rn!.client.create<Secret>({ ...Resources.secrets, namespace: 'default' }, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data } as Secret);
  const exec = (pod: Pod, cmd: string[]) => execInPod(rn!.cri, pod, cmd);
  const cat = async (pod: Pod, file: string) => (await exec(pod, ['cat', file])).out;
  const kubeletRoot = () => rn!.options().cri!.rootDir;
  const mountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));

  it('mounts emptyDir, Memory emptyDir, configMap, secret, downwardAPI, projected and hostPath volumes, and follows ConfigMap, Secret and label updates', async () => {
    await cm('vol-cfg', { 'app.conf': 'color=blue\n', other: 'x' });
    await secret('vol-sec', { password: 's3cret' });
    const hostDir = path.join(rn!.host.dir, 'hostpath-dir');
    const created = await rn!.createPod(
      {
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
          { name: 'cfg', configMap: { name: 'vol-cfg' } },
          { name: 'cfg-items', configMap: { name: 'vol-cfg', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o400 }] } },
          { name: 'sec', secret: { secretName: 'vol-sec', defaultMode: 0o440 } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } }] } },
          {
            name: 'all',
            projected: {
              sources: [
                { configMap: { name: 'vol-cfg', items: [{ key: 'other', path: 'other' }] } },
                { secret: { name: 'vol-sec' } },
                { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
                { configMap: { name: 'vol-none', optional: true } },
              ],
            },
          },
          { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
        ],
        containers: [
          {
            name: 'app',
            image: 'busybox',
            command: ['sleep', '3600'],
            resources: { limits: { memory: '48Mi' } },
            volumeMounts: [
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'scratch', mountPath: '/scratch-ro', readOnly: true },
              { name: 'scratch', mountPath: '/sub', subPath: 'part' },
              { name: 'mem', mountPath: '/mem' },
              { name: 'cfg', mountPath: '/etc/cfg' },
              { name: 'cfg-items', mountPath: '/etc/items' },
              { name: 'sec', mountPath: '/etc/sec' },
              { name: 'info', mountPath: '/etc/info' },
              { name: 'all', mountPath: '/etc/all' },
              { name: 'host', mountPath: '/host' },
            ],
          },
        ],
      },
      { name: 'vol-all', labels: { app: 'vols', tier: 'one' } },
    );
    const pod = await rn!.podIn('vol-all', 'Running');
    assert.equal(await cat(pod, '/etc/cfg/app.conf'), 'color=blue\n');
    assert.equal(await cat(pod, '/etc/items/conf/app.conf'), 'color=blue\n');
    assert.equal((await exec(pod, ['stat', '-L', '-c', '%a', '/etc/items/conf/app.conf'])).out.trim(), '400');
    assert.equal(await cat(pod, '/etc/sec/password'), 's3cret');
    assert.equal((await exec(pod, ['stat', '-L', '-c', '%a', '/etc/sec/password'])).out.trim(), '440');
    assert.equal(await cat(pod, '/etc/info/labels'), 'app="vols"\ntier="one"');
    assert.equal(await cat(pod, '/etc/info/mem_limit'), '48');
    assert.equal(await cat(pod, '/etc/all/other'), 'x');
    assert.equal(await cat(pod, '/etc/all/password'), 's3cret');
    assert.equal(await cat(pod, '/etc/all/name'), 'vol-all');
    // configMap volumes are read-only; so is a readOnly mount; emptyDir is writable and shared between mounts
    assert.notEqual((await exec(pod, ['sh', '-c', 'echo x > /etc/cfg/new'])).code, 0);
    assert.equal((await exec(pod, ['sh', '-c', 'echo shared > /scratch/f && echo sub > /sub/g'])).code, 0);
    assert.equal(await cat(pod, '/scratch-ro/f'), 'shared\n');
    assert.equal(await cat(pod, '/scratch/part/g'), 'sub\n');
    assert.notEqual((await exec(pod, ['sh', '-c', 'echo x > /scratch-ro/h'])).code, 0);
    // medium: Memory is a tmpfs of sizeLimit
    const mounts = await cat(pod, '/proc/mounts');
    assert.match(mounts, /^tmpfs \/mem tmpfs \S*size=16384k/m);
    // hostPath: created on the host, shared both ways
    assert.equal((await exec(pod, ['sh', '-c', 'echo from-pod > /host/out'])).code, 0);
    assert.equal(readFileSync(path.join(hostDir, 'out'), 'utf8'), 'from-pod\n');

    // a ConfigMap update reaches the running container (atomically, through ..data)
    const cur = await rn!.client.get<ConfigMap>({ ...CONFIGMAPS, name: 'vol-cfg' });
    await rn!.client.update<ConfigMap>({ ...CONFIGMAPS, name: 'vol-cfg' }, { ...cur, data: { 'app.conf': 'color=green\n', other: 'y' } });
    await waitFor('the ConfigMap update in the container', async () => (await cat(pod, '/etc/cfg/app.conf')) === 'color=green\n', 10_000);
    await waitFor('the projected ConfigMap key updated', async () => (await cat(pod, '/etc/all/other')) === 'y', 10_000);
    // labels reach downwardAPI files
    await rn!.client.patch({ ...PODS_DEFAULT, name: 'vol-all' }, 'merge', { metadata: { labels: { tier: 'two' } } });
    await waitFor('the label change in the downwardAPI file', async () => (await cat(pod, '/etc/info/labels')) === 'app="vols"\ntier="two"', 10_000);

    // a restarted kubelet adopts the pod with its volumes, and still follows updates
    await rn!.stopKubelet();
    await rn!.startKubelet();
    assert.equal(await cat(pod, '/etc/sec/password'), 's3cret');
    assert.equal(await cat(pod, '/scratch/f'), 'shared\n');
    assert.match(await cat(pod, '/proc/mounts'), /^tmpfs \/mem tmpfs/m);
    const again = await rn!.client.get<ConfigMap>({ ...CONFIGMAPS, name: 'vol-cfg' });
    await rn!.client.update<ConfigMap>({ ...CONFIGMAPS, name: 'vol-cfg' }, { ...again, data: { 'app.conf': 'color=red\n', other: 'y' } });
    await waitFor('the ConfigMap update after a kubelet restart', async () => (await cat(pod, '/etc/cfg/app.conf')) === 'color=red\n', 10_000);
    const now = await rn!.getPod('vol-all');
    assert.equal(now.status?.containerStatuses?.[0]?.containerID, pod.status?.containerStatuses?.[0]?.containerID);

    // deleted: tmpfs mounts gone, the pod's folder removed
    const podDir = path.join(kubeletRoot(), 'pods', created.metadata!.uid!);
    assert.ok(mountsUnder(podDir).length >= 3, 'secret, projected and Memory emptyDir are tmpfs mounts');
    await rn!.client.delete({ ...PODS_DEFAULT, name: 'vol-all' }, { gracePeriodSeconds: 1 });
    await waitFor('the pod object removed', async () => rn!.getPod('vol-all').then(() => false, (e) => isNotFound(e)), 30_000);
    await waitFor('the volumes torn down', () => !existsSync(podDir) && mountsUnder(podDir).length === 0);
    assert.ok(existsSync(path.join(hostDir, 'out')), 'hostPath contents stay');
  });

  it('holds a pod in ContainerCreating while its configMap volume is missing or a hostPath fails its type check', async () => {
    const missing = await rn!.createPod({
      volumes: [{ name: 'cfg', configMap: { name: 'vol-later' } }],
      containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }] }],
    });
    const badHost = await rn!.createPod({
      volumes: [{ name: 'h', hostPath: { path: path.join(rn!.host.dir, 'no-such-file'), type: 'File' } }],
      containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'h', mountPath: '/h' }] }],
    });
    for (const p of [missing, badHost]) {
      await new Promise((r) => setTimeout(r, 1500));
      const got = await rn!.getPod(p.metadata!.name!);
      assert.equal(got.status?.phase, 'Pending');
      assert.equal(got.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
      assert.equal((await rn!.sandboxesOf(p.metadata!.uid!)).length, 0);
    }
    await cm('vol-later', { k: 'v' });
    const running = await rn!.podIn(missing.metadata!.name!, 'Running');
    assert.equal(await cat(running, '/etc/cfg/k'), 'v');
  });
});
