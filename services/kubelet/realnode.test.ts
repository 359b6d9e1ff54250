/**
 * `flotilla kubelet --runtime cri`: one real node, this machine, on a containerd of the
 * suite's own (test/node.ts), against a real nats-server and apiserver. Pods created
 * through the API run as containers, get IPs from the CNI bridge and answer from the
 * host; exits reach the pod phase; deletion removes the sandbox; a kubelet killed with -9
 * and started again adopts its containers; a containerd restart kills no pod. Needs root and the node's packages (CI has
 * both); without them the suite fails saying what to run.
 */
import { NO_HOSTPORT_RUNTIME_HANDLER } from './containerd/config.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, Resources } from '../../lib/client/mod.js';
import { isNotFound } from '../../lib/api/errors.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { httpGet } from '../../test/node.js';
import { PODS_DEFAULT, startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';
import { CLI_MAIN } from '../../cli/datafolder.js';
import { CriClient } from './cri/client.js';
import { NODE_LEASE_NAMESPACE } from './nodes.js';

describe('kubelet --runtime cri: a real node on containerd (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode | undefined;
  let child: ChildProcess | undefined;
  let client: ApiClient;
  let cri: CriClient;
  let nodeName = '';

  before(async () => {
    rn = await startRealNode('the real node suite');
    ({ client, cri, nodeName } = rn);
  });

  after(async () => {
    child?.kill('SIGKILL');
    await rn?.stop();
  });

  const createPod = (spec: Partial<NonNullable<Pod['spec']>>) => rn!.createPod(spec);
  const getPod = (name: string) => rn!.getPod(name);
  const podIn = (name: string, phase: string) => rn!.podIn(name, phase);
  const sandboxesOf = (uid: string) => rn!.sandboxesOf(uid);
  const pods = PODS_DEFAULT;
  const httpdPod = () =>
    createPod({
      containers: [
        {
          name: 'web',
          image: 'busybox',
          command: ['sh', '-c'],
          args: ['mkdir -p www && echo "hello from $POD_NAME on $NODE" > www/index.html && exec httpd -f -p 8080 -h www'],
          workingDir: '/tmp',
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          ],
          resources: { limits: { memory: '64Mi', cpu: '250m' } },
        },
      ],
    });

  it('registers a Node named by the host, with the machine’s capacity and containerd’s version, and renews its Lease', async () => {
    const node = await client.get<Node>({ ...Resources.nodes, name: nodeName });
    assert.equal(node.status?.capacity?.cpu, String(os.cpus().length));
    assert.equal(node.status?.capacity?.pods, '110');
    assert.equal(node.status?.capacity?.memory, `${Math.floor(os.totalmem() / 1024)}Ki`);
    assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\/1\.6\./);
    assert.equal(node.status?.nodeInfo?.kernelVersion, os.release());
    assert.ok(node.status?.nodeInfo?.osImage);
    assert.ok(node.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address));
    assert.equal(node.spec?.podCIDR, rn!.host.subnet);
    assert.equal(node.metadata?.labels?.['flotilla.io/hollow'], undefined);
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    // conditions from readings of this machine; allocatable memory = capacity - the 100Mi hard eviction threshold
    const cond = (t: string) => node.status?.conditions?.find((c) => c.type === t);
    assert.deepEqual([cond('Ready')?.reason, cond('Ready')?.message], ['KubeletReady', 'kubelet is posting ready status']);
    assert.deepEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((t) => cond(t)?.status), ['False', 'False', 'False']);
    assert.equal(parseQuantity(node.status!.allocatable!.memory!).value(), parseQuantity(node.status!.capacity!.memory!).value() - 100n * 1024n * 1024n);
    const lease = () => client.get<Lease>({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE, name: nodeName });
    const first = (await lease()).spec?.renewTime;
    await waitFor('the lease renewed', async () => (await lease()).spec?.renewTime !== first, 10_000);
  });

  it('runs a busybox httpd pod created through the API: Running, with a CNI pod IP that answers HTTP from the host', async () => {
    const created = await httpdPod();
    const pod = await podIn(created.metadata!.name!, 'Running');
    const ip = pod.status?.podIP ?? '';
    assert.ok(ip.startsWith(rn!.host.subnet.slice(0, rn!.host.subnet.lastIndexOf('.') + 1)), `pod IP ${ip} in ${rn!.host.subnet}`);
    const node = await client.get<Node>({ ...Resources.nodes, name: nodeName });
    assert.equal(pod.status?.hostIP, node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
    const st = pod.status?.containerStatuses?.[0];
    assert.match(st?.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    assert.equal(st?.image, 'docker.io/library/busybox:latest');
    assert.match(st?.imageID ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.ok(st?.state?.running?.startedAt);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const res = await waitFor(`GET http://${ip}:8080/`, () => httpGet(`http://${ip}:8080/`));
    assert.equal(res.body, `hello from ${pod.metadata!.name} on ${nodeName}\n`);
    // the resources became cgroup limits
    const limits = await cri.execSync(st!.containerID!.replace('containerd://', ''), ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'], 10);
    assert.deepEqual(limits.stdout.toString().trim().split('\n'), [String(64 * 1024 * 1024), '25000']);
    // no hostPort: its sandbox ran with the handler whose CNI chain has no portmap
    const sb = (await cri.listPodSandbox()).find((x) => x.metadata.uid === pod.metadata!.uid);
    assert.equal(sb?.runtimeHandler, NO_HOSTPORT_RUNTIME_HANDLER);
  });

  it('takes a restartPolicy Never pod to Succeeded when its container exits 0 and to Failed on exit 1', async () => {
    const ok = await createPod({ restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox', command: ['sh', '-c', 'exit 0'] }] });
    const bad = await createPod({ restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox', command: ['sh', '-c', 'exit 1'] }] });
    const done = await podIn(ok.metadata!.name!, 'Succeeded');
    assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
    assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    const failed = await podIn(bad.metadata!.name!, 'Failed');
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 1);
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Error');
  });

  it('removes the sandbox of a deleted pod', async () => {
    const created = await httpdPod();
    const name = created.metadata!.name!;
    await podIn(name, 'Running');
    assert.equal((await sandboxesOf(created.metadata!.uid!)).length, 1);
    await client.delete({ ...pods, name }, { gracePeriodSeconds: 1 });
    await waitFor(`pod ${name} gone`, async () => getPod(name).then(() => false, (e) => isNotFound(e)));
    await waitFor(`the sandbox of ${name} removed`, async () => (await sandboxesOf(created.metadata!.uid!)).length === 0);
  });

  it('keeps its pods running across a containerd restart, and the kubelet carries on with them', async () => {
    const created = await httpdPod();
    const before = await podIn(created.metadata!.name!, 'Running');
    const id = before.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    await rn!.host.launcher.stop();
    // the shim keeps the container alive while containerd is down
    assert.equal((await httpGet(`http://${before.status!.podIP}:8080/`)).status, 200);
    await rn!.host.launcher.start();
    assert.equal((await cri.containerStatus(id)).state, 'CONTAINER_RUNNING');
    // a few relists of the kubelet later, it still reports the same container, not restarted
    await new Promise((r) => setTimeout(r, 1000));
    const now = await getPod(created.metadata!.name!);
    assert.equal(now.status?.phase, 'Running');
    assert.equal(now.status?.containerStatuses?.[0]?.containerID, `containerd://${id}`);
    assert.equal(now.status?.containerStatuses?.[0]?.restartCount, 0);
    // and it drives the pod through the new containerd: a delete stops and removes it
    await client.delete({ ...pods, name: created.metadata!.name! }, { gracePeriodSeconds: 1 });
    await waitFor(`the sandbox of ${created.metadata!.name} removed`, async () => (await sandboxesOf(created.metadata!.uid!)).length === 0, 30_000);
    await waitFor('the pod object removed', async () => getPod(created.metadata!.name!).then(() => false, (e) => isNotFound(e)));
  });

  it('adopts running containers after a kubelet killed with -9 comes back, and removes sandboxes of pods deleted meanwhile', async () => {
    const keep = await httpdPod();
    const gone = await httpdPod();
    const graceful = await httpdPod();
    const before = await podIn(keep.metadata!.name!, 'Running');
    await podIn(gone.metadata!.name!, 'Running');
    await podIn(graceful.metadata!.name!, 'Running');
    const containerID = before.status!.containerStatuses![0]!.containerID;
    await rn!.stopKubelet();

    // the same kubelet as its own process, killed outright once it runs the pods again
    const o = rn!.options().cri!;
    child = spawn(process.execPath, [CLI_MAIN, 'kubelet', '--runtime', 'cri', '--nats', rn!.api.natsUrl, '--container-runtime-endpoint', o.endpoint, '--root-dir', o.rootDir,
      '--cni-conf-dir', o.cniConfDir, '--pod-cidr', o.podCIDR!, '--hostname-override', nodeName, '--cni-network', o.network!, '--cni-bridge', o.bridge!], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    await waitFor('the kubelet process adopted the pods', () => (output.match(/adopted sandbox/g) ?? []).length >= 3, 30_000).catch((e) => {
      throw new Error(`${(e as Error).message}; its output:\n${output}`);
    });
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;

    // deleted while no kubelet runs: the object goes at once, the sandbox stays behind
    await client.delete({ ...pods, name: gone.metadata!.name! }, { gracePeriodSeconds: 0 });
    assert.equal((await sandboxesOf(gone.metadata!.uid!)).length, 1);
    // deleted gracefully meanwhile: the object waits, with its deletionTimestamp, for a kubelet
    await client.delete({ ...pods, name: graceful.metadata!.name! }, { gracePeriodSeconds: 1 });

    await rn!.startKubelet();
    await waitFor('the sandbox of the pod deleted meanwhile removed', async () => (await sandboxesOf(gone.metadata!.uid!)).length === 0);
    await waitFor('the gracefully deleted pod stopped, its sandbox and object removed', async () =>
      (await sandboxesOf(graceful.metadata!.uid!)).length === 0 && (await getPod(graceful.metadata!.name!).then(() => false, (e) => isNotFound(e))));
    const after = await podIn(keep.metadata!.name!, 'Running');
    const st = after.status!.containerStatuses![0]!;
    assert.equal(st.containerID, containerID);
    assert.equal(st.restartCount, 0);
    assert.equal((await cri.containerStatus(containerID!.replace('containerd://', ''))).state, 'CONTAINER_RUNNING');
    const res = await httpGet(`http://${after.status!.podIP}:8080/`);
    assert.equal(res.status, 200);
  });
});
