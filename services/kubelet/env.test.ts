/**
 * A real node's container environment and security settings, read inside the running
 * containers through CRI ExecSync: env from ConfigMaps, Secrets, resourceFieldRefs and
 * envFrom with `$(VAR)` expansion; a missing ConfigMap shows CreateContainerConfigError
 * until it is created. One containerd for the file (test/realnode.ts), pods in parallel.
 * Needs root and the node's packages.
 */
import assert from 'node:assert/strict';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { Resources } from '../../lib/client/mod.js';
import { startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';

describe('kubelet --runtime cri: container environment and security (needs root)', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;

  before(async () => {
    rn = await startRealNode('the env suite', { prefix: 'env' });
  });
  after(async () => {
    await rn?.stop();
  });

  const cm = (name: string, data: Record<string, string>) =>
    rn!.client.create<ConfigMap>({ ...Resources.configmaps, namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  const secret = (name: string, data: Record<string, string>) =>
    rn!.client.create<Secret>({ ...Resources.secrets, namespace: 'default' }, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data } as Secret);
  /** runs cmd in the pod's first container and returns its stdout */
  const exec = async (pod: Pod, cmd: string[]) => {
    const id = pod.status!.containerStatuses![0]!.containerID!.replace('containerd://', '');
    const r = await rn!.cri.execSync(id, cmd, 10);
    return { out: r.stdout.toString(), err: r.stderr.toString(), code: r.exitCode };
  };
  const envOf = async (pod: Pod) => Object.fromEntries((await exec(pod, ['env'])).out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  it('gives containers env from ConfigMaps, Secrets, resourceFieldRefs and envFrom, with $(VAR) expanded in values and args', async () => {
    await cm('env-app', { MODE: 'prod', LEVEL: 'debug', '1st': 'x' });
    await secret('env-creds', { user: 'admin', password: 's3cret' });
    const created = await rn!.createPod({
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['sh', '-c', "echo '$(GREETING) $(MODE) $$(MODE) $(UNKNOWN)' > /tmp/said && exec sleep 3600"],
          resources: { limits: { memory: '64Mi', cpu: '250m' }, requests: { memory: '32Mi' } },
          envFrom: [{ configMapRef: { name: 'env-app' } }, { secretRef: { name: 'env-creds' }, prefix: 'DB_' }, { secretRef: { name: 'env-none', optional: true } }],
          env: [
            { name: 'GREETING', value: 'hello-$(DB_user)' },
            { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'env-app', key: 'MODE' } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'env-creds', key: 'password' } } },
            { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'env-creds', key: 'nope', optional: true } } },
            { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
            { name: 'REQ_MI', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
            { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
            { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
            { name: 'STORAGE', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage' } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
        },
      ],
    });
    const pod = await rn!.podIn(created.metadata!.name!, 'Running');
    const env = await envOf(pod);
    assert.equal(env.MODE, 'prod');
    assert.equal(env.LEVEL, 'prod');
    assert.equal(env['1st'], undefined);
    assert.equal(env.DB_user, 'admin');
    assert.equal(env.DB_password, 's3cret');
    assert.equal(env.GREETING, 'hello-admin');
    assert.equal(env.PASSWORD, 's3cret');
    assert.equal(env.OPTIONAL, undefined);
    assert.equal(env.MEM_MI, '64');
    assert.equal(env.REQ_MI, '32');
    assert.equal(env.CPU_M, '250');
    assert.equal(env.CPU, '1');
    // no limit: the node's allocatable ephemeral-storage
    const node = await rn!.client.get<{ status?: { allocatable?: Record<string, string> } }>({ ...Resources.nodes, name: rn!.nodeName });
    assert.ok(Number(env.STORAGE) > 0);
    assert.equal(BigInt(env.STORAGE!), parseQuantity(node.status!.allocatable!['ephemeral-storage']!).value());
    assert.equal(env.POD_NAME, created.metadata!.name);
    assert.equal((await exec(pod, ['cat', '/tmp/said'])).out, 'hello-admin prod $(MODE) $(UNKNOWN)\n');
  });

  it('shows CreateContainerConfigError for a missing ConfigMap or key, and starts the container once they exist', async () => {
    const noMap = await rn!.createPod({
      containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'env-later', key: 'x' } } }] }],
    });
    const noKey = await rn!.createPod({
      containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'env-creds2', key: 'missing' } } }] }],
    });
    await secret('env-creds2', { present: 'yes' });
    const waiting = async (name: string, message: string) =>
      waitFor(`${name} waiting with CreateContainerConfigError`, async () => {
        const p = await rn!.getPod(name);
        const w = p.status?.containerStatuses?.[0]?.state?.waiting;
        return w?.reason === 'CreateContainerConfigError' && w.message === message && p;
      });
    const p1 = await waiting(noMap.metadata!.name!, 'configmap "env-later" not found');
    assert.equal(p1.status?.phase, 'Pending');
    await waiting(noKey.metadata!.name!, "couldn't find key missing in Secret default/env-creds2");
    await cm('env-later', { x: 'now here' });
    const running = await rn!.podIn(noMap.metadata!.name!, 'Running');
    assert.equal((await envOf(running)).X, 'now here');
  });
});
