/**
 * Images on a real node (test/realnode.ts: its own containerd, apiserver and kubelet):
 * the node's only image sources are containerd's store and the local registry on
 * 127.0.0.1, so an image found nowhere here goes ErrImagePull → ImagePullBackOff with
 * upstream's events while not one packet leaves the machine (the default-route
 * interface's transmit counter, as /work/shared/tools/offhost-packets reads it);
 * imagePullPolicy Never; an image pushed with skopeo to a local registry (the suite's
 * own docker-registry on a free port) is pulled and runs; `flotilla image import` of an
 * OCI archive and of a docker archive (both written by skopeo), then `flotilla image ls`.
 * Needs root and the node's packages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { Resources } from '../../../lib/client/mod.js';
import { startRealNode, type RealNode } from '../../../test/realnode.js';
import { waitFor } from '../../../test/wait.js';
import { busyboxImageArchive } from '../../../test/images.js';
import { CLI_MAIN } from '../../../cli/datafolder.js';
import { CriError } from '../cri/client.js';
import { freePort } from '../../../lib/nats/server.js';
import { writeLocalRegistryHosts } from '../containerd/config.js';
import { localRegistryHosts } from './puller.js';
import { LocalRegistry } from './registry.js';

/** packets sent out of the interface of the default route: the only way off this machine */
function offHostPackets(): number {
  const route = spawnSync('ip', ['route', 'show', 'default'], { encoding: 'utf8' }).stdout;
  const dev = /\bdev (\S+)/.exec(route)?.[1];
  if (!dev) return 0; // no default route: nothing can leave
  return Number(readFileSync(`/sys/class/net/${dev}/statistics/tx_packets`, 'utf8'));
}

describe('images on a real node: only this machine is a source (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode;
  let dir = '';
  let registry: LocalRegistry | undefined;

  before(async () => {
    dir = mkdtempSync('/tmp/flt-img-test-');
    let port = await freePort();
    // 5000 is `flotilla up`'s: a test registry elsewhere
    while (port === 5000) port = await freePort();
    registry = new LocalRegistry(path.join(dir, 'registry'), port);
    await registry.start();
    rn = await startRealNode('the image suite', {
      prefix: 'img',
      kubelet: (o) => ({
        ...o,
        cri: { ...o.cri!, images: { registries: localRegistryHosts(port), backoffInitialMs: 1500, backoffMaxMs: 6000, errImagePullResyncMs: 700 } },
      }),
    });
    writeLocalRegistryHosts(rn.host.launcher.paths.certsDir, port);
  });

  after(async () => {
    await rn?.stop();
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const helloArchive = (name: string) => busyboxImageArchive(dir, name, 'hello.oci.tar');

  /** The pod's events as `Type Reason note`, oldest first. */
  async function eventsOf(pod: string): Promise<string[]> {
    const list = await rn.client.list<Event>({ ...Resources.events, namespace: 'default' });
    return list.items
      .filter((e) => e.involvedObject?.name === pod)
      .sort((a, b) => String(a.eventTime ?? a.firstTimestamp).localeCompare(String(b.eventTime ?? b.firstTimestamp)))
      .map((e) => `${e.type} ${e.reason} ${e.message ?? (e as { note?: string }).note ?? ''}`);
  }

  /** How often the event with this reason happened to the pod (identical events become one with a series count). */
  async function timesRecorded(pod: string, reason: string): Promise<number> {
    const list = await rn.client.list<Event>({ ...Resources.events, namespace: 'default' });
    return list.items.filter((e) => e.involvedObject?.name === pod && e.reason === reason).reduce((n, e) => n + (e.series?.count ?? e.count ?? 1), 0);
  }

  /** Watches the pod's first container's waiting reasons, in the order they appear, until `until` shows. */
  async function waitingReasons(name: string, until: string, timeoutMs = 30_000): Promise<{ reasons: string[]; pod: Pod }> {
    const reasons: string[] = [];
    const pod = await waitFor(
      `pod ${name} waiting with ${until}`,
      async () => {
        const p = await rn.getPod(name);
        const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (r && reasons.at(-1) !== r) reasons.push(r);
        return r === until && p;
      },
      timeoutMs,
    );
    return { reasons, pod };
  }

  it('an image found nowhere here: ErrImagePull, then ImagePullBackOff with the events, a message saying how to provide it, and no packet off the machine', async () => {
    const before = offHostPackets();
    const pod = await rn.createPod({ containers: [{ name: 'app', image: 'example.com/team/nope:1' }] });
    const name = pod.metadata!.name!;
    const { reasons, pod: waiting } = await waitingReasons(name, 'ImagePullBackOff');
    assert.deepEqual(reasons.filter((r) => r !== 'ContainerCreating'), ['ErrImagePull', 'ImagePullBackOff']);
    const msg = waiting.status!.containerStatuses![0]!.state!.waiting!.message ?? '';
    assert.match(msg, /^Back-off pulling image "example.com\/team\/nope:1": ErrImagePull: image example.com\/team\/nope:1 is not on this node;/);
    assert.match(msg, /flotilla image import FILE/);
    assert.ok(msg.includes(`never from example.com: `), msg);
    assert.ok(msg.includes(`skopeo copy oci-archive:FILE docker://localhost:${registry!.port}/NAME --dest-tls-verify=false`), msg);
    assert.equal(waiting.status!.phase, 'Pending');

    // the back-off lets a second attempt through, which fails again
    await waitFor('a second pull attempt', async () => (await timesRecorded(name, 'Pulling')) >= 2, 20_000);
    const events = await waitFor('the events', async () => {
      const ev = await eventsOf(name);
      return ev.some((e) => e.startsWith('Normal BackOff')) && ev;
    });
    assert.ok(events.includes('Normal Pulling Pulling image "example.com/team/nope:1"'), events.join('\n'));
    assert.ok(events.some((e) => e.startsWith('Warning Failed Failed to pull image "example.com/team/nope:1": image example.com/team/nope:1 is not on this node')), events.join('\n'));
    assert.ok(events.includes('Warning Failed Error: ErrImagePull'), events.join('\n'));
    assert.ok(events.includes('Normal BackOff Back-off pulling image "example.com/team/nope:1"'), events.join('\n'));
    assert.ok(events.includes('Warning Failed Error: ImagePullBackOff'), events.join('\n'));

    // containerd itself cannot reach another registry either: its pulls go to a dead loopback proxy
    await assert.rejects(rn.cri.pullImage('docker.io/library/flotilla-nope:1'), (e: unknown) => e instanceof CriError && /127\.0\.0\.1:9|proxy/.test(e.message));
    assert.equal(offHostPackets() - before, 0, 'packets left the machine');
  });

  it('imagePullPolicy Never: ErrImageNeverPull for a missing image, and a stored one runs', async () => {
    const missing = await rn.createPod({ containers: [{ name: 'app', image: 'busybox:not-here', imagePullPolicy: 'Never' }] });
    const present = await rn.createPod({ containers: [{ name: 'app', image: 'busybox', imagePullPolicy: 'Never', command: ['sleep', '3600'] }] });
    const { pod } = await waitingReasons(missing.metadata!.name!, 'ErrImageNeverPull');
    assert.equal(pod.status!.containerStatuses![0]!.state!.waiting!.message, 'Container image "busybox:not-here" is not present with pull policy of Never');
    await rn.podIn(present.metadata!.name!, 'Running');
    const events = await waitFor('the events', async () => {
      const ev = await eventsOf(missing.metadata!.name!);
      return ev.length >= 2 && ev;
    });
    assert.deepEqual(events, ['Warning ErrImageNeverPull Container image "busybox:not-here" is not present with pull policy of Never', 'Warning Failed Error: ErrImageNeverPull']);
    assert.ok((await eventsOf(present.metadata!.name!)).includes('Normal Pulled Container image "busybox" already present on machine'));
  });

  it('an image pushed with skopeo to the local registry is pulled (policy Always) and runs, with Pulling and Pulled', async () => {
    const before = offHostPackets();
    const image = `localhost:${registry!.port}/flt-test/hello:1`;
    const push = spawnSync('skopeo', ['copy', '--quiet', `oci-archive:${helloArchive(image)}`, `docker://${image}`, '--dest-tls-verify=false'], { encoding: 'utf8' });
    assert.equal(push.status, 0, `skopeo copy: ${push.stderr}`);
    const pod = await rn.createPod({ containers: [{ name: 'app', image, imagePullPolicy: 'Always' }] });
    const running = await rn.podIn(pod.metadata!.name!, 'Running');
    // a pulled image's ID is its repo digest, as upstream shows it
    assert.match(running.status!.containerStatuses![0]!.imageID ?? '', new RegExp(`^localhost:${registry!.port}/flt-test/hello@sha256:[0-9a-f]{64}$`));
    const events = await waitFor('the events', async () => {
      const ev = await eventsOf(pod.metadata!.name!);
      return ev.some((e) => e.startsWith('Normal Pulled')) && ev;
    });
    assert.ok(events.includes(`Normal Pulling Pulling image "${image}"`), events.join('\n'));
    assert.ok(events.some((e) => new RegExp(`^Normal Pulled Successfully pulled image "${image}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: \\d+ bytes\\.$`).test(e)), events.join('\n'));
    assert.equal(offHostPackets() - before, 0, 'packets left the machine');
  });

  it('flotilla image import takes an OCI archive and a docker archive (skopeo wrote both); pods run them by name; image ls lists them', async () => {
    const source = helloArchive('docker.io/library/flt-source:1');
    const oci = path.join(dir, 'imported.oci.tar');
    const docker = path.join(dir, 'imported.docker.tar');
    for (const [dest, what] of [[`oci-archive:${oci}:flt-imported:oci`, 'oci'], [`docker-archive:${docker}:flt-imported:docker`, 'docker']] as const) {
      const r = spawnSync('skopeo', ['copy', '--quiet', `oci-archive:${source}`, dest], { encoding: 'utf8' });
      assert.equal(r.status, 0, `skopeo copy to the ${what} archive: ${r.stderr}`);
    }
    const flotilla = (...args: string[]) => spawnSync(process.execPath, [CLI_MAIN, 'image', ...args, '--container-runtime-endpoint', `unix://${rn.host.launcher.paths.socket}`], { encoding: 'utf8' });
    for (const [file, kind, tag] of [[oci, 'OCI', 'oci'], [docker, 'docker', 'docker']]) {
      const r = flotilla('import', file!);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^imported docker\\.io/library/flt-imported:${tag} \\(${kind} archive\\), image ID sha256:[0-9a-f]{64}$`, 'm'));
    }
    const pods = await Promise.all(['oci', 'docker'].map((tag) => rn.createPod({ containers: [{ name: 'app', image: `flt-imported:${tag}` }] })));
    await Promise.all(pods.map((p) => rn.podIn(p.metadata!.name!, 'Running')));
    const ls = flotilla('ls');
    assert.equal(ls.status, 0, ls.stderr);
    const lines = ls.stdout.trim().split('\n');
    assert.match(lines[0]!, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
    for (const tag of ['oci', 'docker', 'latest']) {
      const image = tag === 'latest' ? 'docker.io/library/busybox' : 'docker.io/library/flt-imported';
      assert.ok(lines.some((l) => new RegExp(`^${image.replace(/\./g, '\\.')}\\s+${tag}\\s+[0-9a-f]{13}\\s+[\\d.]+[kMG]?B$`).test(l)), ls.stdout);
    }
    const bad = flotilla('import', '/bin/busybox');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /is not a tar archive/);
  });
});
