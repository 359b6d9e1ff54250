/**
 * A real node's container environment and security settings, read inside the running
 * containers through CRI ExecSync: env from ConfigMaps, Secrets, resourceFieldRefs and
 * envFrom with `$(VAR)` expansion; a missing ConfigMap shows CreateContainerConfigError
 * until it is created; securityContext (user, groups, read-only root, capabilities);
 * hostNetwork and hostPort. One containerd for the file (test/realnode.ts), pods in
 * parallel. Needs root and the node's packages. The hostPort test leaves no iptables
 * chain behind: portmap's shared CNI-HOSTPORT-* chains are removed when empty.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { Resources } from '../../lib/client/mod.js';
import { containerIdOf, execInPod, startRealNode, type RealNode } from '../../test/realnode.js';
import { httpGet } from '../../test/node.js';
import { waitFor } from '../../test/wait.js';

const PORTMAP_CHAINS = ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ'];

/** portmap's shared nat chains, removed once no pod's hostPort uses them (CNI DEL leaves them) */
function removeEmptyPortmapChains(): void {
  const rules = spawnSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' }).stdout.split('\n');
  if (rules.some((r) => r.startsWith('-A CNI-HOSTPORT-DNAT ') || r.startsWith('-A CNI-DN-'))) return;
  for (const r of rules) {
    const m = /^-A (PREROUTING|OUTPUT|POSTROUTING) (.*-j CNI-HOSTPORT-\S+.*)$/.exec(r);
    if (m) spawnSync('sh', ['-c', `iptables -t nat -D ${m[1]} ${m[2]}`]);
  }
  for (const c of PORTMAP_CHAINS) spawnSync('iptables', ['-t', 'nat', '-F', c]);
  for (const c of PORTMAP_CHAINS) spawnSync('iptables', ['-t', 'nat', '-X', c]);
}

describe('kubelet --runtime cri: container environment and security (needs root)', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;
  const kubeletLog: string[] = [];
  /** the pod Running, or a failure with its status and what the kubelet said */
  const running = (name: string) =>
    rn!.podIn(name, 'Running').catch(async (e) => {
      throw new Error(`${(e as Error).message}; status ${JSON.stringify((await rn!.getPod(name)).status?.containerStatuses)}; kubelet: ${kubeletLog.filter((l) => l.includes(name)).slice(-5).join(' | ')}`);
    });

  before(async () => {
    rn = await startRealNode('the env suite', { prefix: 'env', kubelet: (o) => ({ ...o, log: (l) => kubeletLog.push(l) }) });
  });
  after(async () => {
    await rn?.stop();
    removeEmptyPortmapChains();
  });

  const cm = (name: string, data: Record<string, string>) =>
    rn!.client.create<ConfigMap>({ ...Resources.configmaps, namespace: 'default' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
  const secret = (name: string, data: Record<string, string>) =>
    rn!.client.create<Secret>({ ...Resources.secrets, namespace: 'default' }, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data } as Secret);
  const exec = (pod: Pod, cmd: string[]) => execInPod(rn!.cri, pod, cmd);
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
    const pod = await running(created.metadata!.name!);
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

  it('applies securityContext: runAsUser/runAsGroup/supplementalGroups, readOnlyRootFilesystem, capabilities', async () => {
    const created = await rn!.createPod({
      securityContext: { runAsUser: 1234, runAsGroup: 5678, supplementalGroups: [4000], fsGroup: 4001 },
      containers: [
        { name: 'user', image: 'busybox', command: ['sleep', '3600'], securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } },
        { name: 'caps', image: 'busybox', command: ['sleep', '3600'], securityContext: { runAsUser: 0, runAsGroup: 0, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } } },
      ],
    });
    const pod = await running(created.metadata!.name!);
    const idOf = (name: string) => containerIdOf(pod, name);
    const run = async (name: string, cmd: string[]) => {
      const r = await rn!.cri.execSync(idOf(name), cmd, 10);
      return { out: r.stdout.toString().trim(), code: r.exitCode };
    };
    assert.equal((await run('user', ['id', '-u'])).out, '1234');
    assert.equal((await run('user', ['id', '-g'])).out, '5678');
    assert.deepEqual((await run('user', ['id', '-G'])).out.split(' ').sort(), ['4000', '4001', '5678']);
    assert.notEqual((await run('user', ['touch', '/rootfs-write'])).code, 0);
    assert.match((await run('user', ['grep', 'NoNewPrivs', '/proc/self/status'])).out, /NoNewPrivs:\s+1/);
    assert.equal((await run('caps', ['id', '-u'])).out, '0');
    // NET_ADMIN is capability 12: only that bit is left in the bounding set
    assert.match((await run('caps', ['grep', 'CapBnd', '/proc/self/status'])).out, /CapBnd:\s+0000000000001000/);
    assert.equal((await run('caps', ['touch', '/rootfs-write'])).code, 0);
  });

  it('runs a hostNetwork pod with the node’s IP and interfaces, and a hostPort answers on the host IP', async () => {
    const hostPort = 20000 + Math.floor(Math.random() * 10000);
    const host = await rn!.createPod({ hostNetwork: true, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }] });
    const web = await rn!.createPod({
      containers: [
        { name: 'web', image: 'busybox', command: ['sh', '-c', 'mkdir -p /tmp/www && echo hostport-ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'], ports: [{ containerPort: 8080, hostPort }] },
      ],
    });
    const hp = await running(host.metadata!.name!);
    assert.equal(hp.status?.podIP, hp.status?.hostIP);
    assert.ok((await exec(hp, ['ls', '/sys/class/net'])).out.split(/\s+/).includes(rn!.host.bridge), 'the host’s interfaces, the pod bridge among them');
    assert.equal((await exec(hp, ['hostname'])).out.trim(), os.hostname());
    const wp = await running(web.metadata!.name!);
    assert.notEqual(wp.status?.podIP, wp.status?.hostIP);
    const res = await waitFor(`GET http://${wp.status!.hostIP}:${hostPort}/`, () => httpGet(`http://${wp.status!.hostIP}:${hostPort}/`));
    assert.equal(res.body, 'hostport-ok\n');
    await rn!.client.delete({ ...Resources.pods, namespace: 'default', name: web.metadata!.name! }, { gracePeriodSeconds: 0 });
    await waitFor('the hostPort pod’s sandbox removed', async () => (await rn!.sandboxesOf(web.metadata!.uid!)).length === 0, 30_000);
  });
});
