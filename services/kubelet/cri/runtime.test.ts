/**
 * The `cri` runtime against a real containerd that the suite starts under a temporary
 * folder, with a CNI bridge network of its own (random bridge name and 10.x subnet) and
 * the locally built images. Needs root and the node's Debian packages (CI has both: it
 * runs as root and bin/ensure.js installs them); without them the suite fails saying
 * what to run. Everything it makes is removed in `after`, even when a test failed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PAUSE_IMAGE } from '../containerd/config.js';
import { BUSYBOX_IMAGE, ensureLocalImages, type LocalImage } from '../images/local.js';
import type { ContainerEvent, PodSandboxConfig } from '../runtime.js';
import { CriClient } from './client.js';
import { CriRuntime } from './runtime.js';
import { cleanUpTestNodeHost, httpGet, startTestNodeHost, type TestNodeHost } from '../../../test/node.js';
import { waitFor } from '../../../test/wait.js';

describe('cri runtime on containerd (needs root)', function () {
  this.timeout(180_000);
  let host: TestNodeHost | undefined;
  let client: CriClient | undefined;
  let rt: CriRuntime | undefined;
  let images: LocalImage[] = [];
  let dir = '';
  let subnet = '';

  const podConfig = (name: string): PodSandboxConfig => ({
    metadata: { name, namespace: 'cri-test', uid: `uid-${host!.suffix}-${name}`, attempt: 0 },
    labels: { 'flotilla.io/test': host!.suffix },
  });

  before(async () => {
    host = await startTestNodeHost('the cri runtime suite', { setUpNetwork: true });
    ({ dir, subnet } = host);
    client = new CriClient(host.launcher.paths.socket);
    images = await ensureLocalImages({ cacheDir: path.join(dir, 'images'), socket: host.launcher.paths.socket, client });
    rt = await CriRuntime.connect({ client, podLogDir: path.join(dir, 'pods'), relistIntervalMs: 200 });
  });

  after(async () => {
    try {
      await (rt?.close() ?? client?.close());
    } finally {
      if (host) await cleanUpTestNodeHost(host);
    }
  });

  it('imports the locally built pause and busybox images, which CRI reports with their archives’ image IDs', async () => {
    for (const name of [PAUSE_IMAGE, BUSYBOX_IMAGE]) {
      const built = images.find((i) => i.name === name);
      assert.ok(built, `${name} was built`);
      const status = await client!.imageStatus(name);
      assert.equal(status?.id, built.archive.configDigest);
      assert.ok(status?.repoTags.includes(name));
    }
    assert.equal(await client!.imageStatus('docker.io/library/not-here:latest'), null);
    const v = await client!.version();
    assert.equal(rt!.runtimeName, 'containerd');
    assert.match(v.runtimeVersion, /^1\./);
    const ready = (await client!.status()).conditions.find((c) => c.type === 'NetworkReady');
    assert.equal(ready?.status, true, `NetworkReady: ${ready?.reason} ${ready?.message}`);
  });

  it('runs a busybox httpd pod on the CNI bridge that the host and another pod reach at its pod IP, with exec and a CRI log', async () => {
    const sandboxId = await rt!.runPodSandbox(podConfig('web'));
    const sandbox = rt!.podSandboxStatus(sandboxId);
    assert.equal(sandbox?.state, 'SANDBOX_READY');
    const ip = sandbox?.network?.ip ?? '';
    assert.ok(ip.startsWith(subnet.slice(0, subnet.lastIndexOf('.') + 1)), `pod IP ${ip} is in the network's subnet ${subnet}`);

    const id = await rt!.createContainer(sandboxId, {
      metadata: { name: 'httpd', attempt: 0 },
      image: 'busybox',
      command: ['sh', '-c'],
      args: ['mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www'],
    });
    assert.equal(rt!.containerStatus(id)?.state, 'CONTAINER_CREATED');
    await rt!.startContainer(id);
    const status = rt!.containerStatus(id);
    assert.equal(status?.state, 'CONTAINER_RUNNING');
    assert.equal(status?.image, BUSYBOX_IMAGE);
    assert.equal(status?.imageRef, images.find((i) => i.name === BUSYBOX_IMAGE)?.archive.configDigest);

    const res = await waitFor(`GET http://${ip}:8080/`, () => httpGet(`http://${ip}:8080/`), 15_000);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'hello from web\n');

    // pod to pod over the bridge: a second pod's busybox wget
    const clientSandbox = await rt!.runPodSandbox(podConfig('client'));
    const clientId = await rt!.createContainer(clientSandbox, { metadata: { name: 'wget', attempt: 0 }, image: 'busybox', command: ['sleep', '3600'] });
    await rt!.startContainer(clientId);
    const fetched = await rt!.execSync(clientId, ['wget', '-q', '-O', '-', `http://${ip}:8080/`], 10);
    assert.equal(fetched.exitCode, 0, fetched.stderr.toString());
    assert.equal(fetched.stdout.toString(), 'hello from web\n');
    assert.notEqual(rt!.podSandboxStatus(clientSandbox)?.network?.ip, ip);
    await rt!.stopPodSandbox(clientSandbox);
    await rt!.removePodSandbox(clientSandbox);

    const exec = await rt!.execSync(id, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 10);
    assert.equal(exec.exitCode, 3);
    assert.equal(exec.stdout.toString(), 'out\n');
    assert.equal(exec.stderr.toString(), 'err\n');

    const logPath = rt!.containerLogPath(id)!;
    assert.equal(logPath, path.join(dir, 'pods', `cri-test_web_uid-${host!.suffix}-web`, 'httpd', '0.log'));
    const log = await waitFor('the CRI log line', () => {
      const text = readFileSync(logPath, 'utf8');
      return text.includes('serving') && text;
    }, 15_000);
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F serving$/m);

    const stats = await client!.listContainerStats({ id });
    assert.equal(stats.length, 1);
    assert.ok(Number(stats[0].memory?.workingSetBytes?.value ?? 0) > 0, 'a working set is reported');

    await rt!.stopContainer(id, 2);
    assert.equal(rt!.containerStatus(id)?.state, 'CONTAINER_EXITED');
    await rt!.stopPodSandbox(sandboxId);
    assert.equal(rt!.podSandboxStatus(sandboxId)?.state, 'SANDBOX_NOTREADY');
    await assert.rejects(httpGet(`http://${ip}:8080/`, 500));
    await rt!.removePodSandbox(sandboxId);
    assert.equal(rt!.podSandboxStatus(sandboxId), undefined);
    assert.equal(rt!.containerStatus(id), undefined);
    assert.deepEqual(await client!.listContainers({ podSandboxId: sandboxId }), []);
    assert.equal(existsSync(path.join(host!.podNetwork.ipamDataDir, host!.podNetwork.name, ip)), false, 'the IP lease is released');
  });

  it('refuses RunPodSandbox when the sandbox image is missing, rather than letting containerd pull it', async () => {
    const guarded = await CriRuntime.connect({ client: new CriClient(host!.launcher.paths.socket), podLogDir: path.join(dir, 'pods'), sandboxImage: 'registry.k8s.io/pause:not-imported' });
    try {
      await assert.rejects(guarded.runPodSandbox(podConfig('no-pause')), (e: Error) => e.name === 'CriRuntimeError' && /sandbox image registry\.k8s\.io\/pause:not-imported is not in the container runtime/.test(e.message));
      assert.deepEqual(await client!.listPodSandbox(), []);
    } finally {
      await guarded.close();
    }
  });

  it('reports a container that exits by itself, with its exit code, through the relist events', async () => {
    const sandboxId = await rt!.runPodSandbox(podConfig('job'));
    const id = await rt!.createContainer(sandboxId, { metadata: { name: 'fail', attempt: 0 }, image: 'docker.io/library/busybox:latest', command: ['sh', '-c', 'sleep 0.3; exit 7'] });
    const stopped = new Promise<ContainerEvent>((resolve) => {
      const off = rt!.getContainerEvents((ev) => {
        if (ev.containerId !== id || ev.type !== 'CONTAINER_STOPPED_EVENT') return;
        off();
        resolve(ev);
      });
    });
    await rt!.startContainer(id);
    const ev = await stopped;
    assert.equal(ev.podSandboxId, sandboxId);
    const status = rt!.containerStatus(id);
    assert.equal(status?.state, 'CONTAINER_EXITED');
    assert.equal(status?.exitCode, 7);
    assert.equal(status?.reason, 'Error');
    assert.ok(status!.finishedAt >= status!.startedAt && status!.startedAt > 0);
    await rt!.stopPodSandbox(sandboxId);
    await rt!.removePodSandbox(sandboxId);
    assert.deepEqual(await client!.listPodSandbox({ id: sandboxId }), []);
  });
});
