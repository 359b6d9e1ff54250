import assert from 'node:assert/strict';
import { cidrContains, cidrWithin, intToIp, parseCidr } from '../lib/net/mod.js';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { PROJECT_ROOT, readState } from './datafolder.js';
import { clusterCidrFor, proxyTable, strayContainerds, strayRegistries } from './up.js';
import { APISERVER_NODE_FLAGS } from '../services/apiserver/nodeflags.js';
import { SCHEDULER_NODE_FLAGS } from '../services/scheduler/nodeflags.js';
import { cleanUpNode, httpGet, mountsUnder, unusedLink, unusedSubnet } from '../test/node.js';
import { netnsNodeNames, removeNetnsNode } from './netnsnodes.js';
import { BridgeNetwork } from '../services/kubelet/cni/bridge.js';
import { existingNatTables } from '../services/kubelet/cni/nattables.js';
import { ContainerdLauncher } from '../services/kubelet/containerd/launcher.js';
import { requireNodeHost } from '../services/kubelet/host/prerequisites.js';
import { hostNodeName } from '../services/kubelet/hostnode.js';
import { alive, CHILD_ENV, descendants, kubectl, launchUp as launch, type Launch } from '../test/cluster.js';
import { busyboxImageArchive } from '../test/images.js';
import { freePort, natsMaxProcsEnv } from '../lib/nats/server.js';
import { spawnSync } from 'node:child_process';

/** these tests are about the launcher: no containerd or bridge of a real node (the suite below has one) */
const HOLLOW_ONLY = ['--no-real-node'];

/** A process's environment, from /proc. */
function environOf(pid: number): Map<string, string> {
  const vars = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
}

async function eventually<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

describe('flotilla up: node IPAM range (clusterCidrFor)', () => {
  it('takes --cluster-cidr, else the /16 around --pod-cidr, else 10.244.0.0/16, widened for many nodes', () => {
    assert.equal(clusterCidrFor('10.9.8.0/21', '10.1.0.0/24', 5000), '10.9.8.0/21');
    assert.equal(clusterCidrFor(undefined, '10.230.7.0/24', 2), '10.230.0.0/16');
    assert.equal(clusterCidrFor(undefined, undefined, 1), '10.244.0.0/16');
    assert.equal(clusterCidrFor(undefined, undefined, 256), '10.244.0.0/16');
    assert.equal(clusterCidrFor(undefined, undefined, 257), '10.244.0.0/15');
    assert.equal(clusterCidrFor(undefined, undefined, 1001), '10.244.0.0/14');
    assert.equal(clusterCidrFor(undefined, undefined, 1025), '10.240.0.0/13');
    assert.equal(clusterCidrFor(undefined, undefined, 100_000), '10.0.0.0/8');
  });
});

describe('flotilla up', function () {
  this.timeout(240_000);
  let dataDir: string;
  let first: Launch | undefined;
  let second: Launch | undefined;
  let third: Launch | undefined;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-up-test-'));
    first = await launch(dataDir, [...HOLLOW_ONLY, '--nats-memory-limit', '768MiB']);
  });

  after(async () => {
    for (const l of [first, second, third]) {
      if (l && l.child.exitCode === null) {
        l.child.kill('SIGTERM');
        await l.exited;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the kubeconfig export that kubectl uses to reach the cluster', async () => {
    assert.equal(first!.kubeconfig, path.join(dataDir, 'kubeconfig'));
    const names = (await kubectl(first!.kubeconfig, 'get', 'namespaces', '-o', 'name')).split('\n');
    assert.ok(names.includes('namespace/default'), names.join(','));
    assert.match(await kubectl(first!.kubeconfig, 'create', 'configmap', 'kept', '--from-literal=answer=42'), /configmap\/kept created/);
  });

  it('--nats-memory-limit: its nats-server runs with GOMEMLIMIT and half the cores as GOMAXPROCS, and no other process of it', async () => {
    const procs = descendants(first!.child.pid!);
    const nats = procs.find((p) => p.cmdline.includes('nats-server'));
    assert.ok(nats, procs.map((p) => p.cmdline).join('\n'));
    assert.equal(environOf(nats.pid).get('GOMEMLIMIT'), '768MiB');
    const procsWanted = natsMaxProcsEnv().GOMAXPROCS;
    assert.equal(environOf(nats.pid).get('GOMAXPROCS'), procsWanted);
    assert.match(first!.output(), new RegExp(`nats-server listening on \\S+ with its data in \\S+, GOMAXPROCS ${procsWanted} and a soft memory limit of 768MiB \\(GOMEMLIMIT\\)`));
    // prometheus is a Go program too: the limit and the processors are nats-server's alone
    const others = procs.filter((p) => p.pid !== nats.pid && alive(p.pid));
    assert.ok(others.length > 0);
    for (const p of others) {
      assert.equal(environOf(p.pid).get('GOMEMLIMIT'), process.env.GOMEMLIMIT, p.cmdline);
      assert.equal(environOf(p.pid).get('GOMAXPROCS'), process.env.GOMAXPROCS, p.cmdline);
    }
  });

  it("runs the apiserver and the scheduler with their heaps sized for them (APISERVER_NODE_FLAGS, SCHEDULER_NODE_FLAGS), the other services with V8's", async () => {
    const procs = descendants(first!.child.pid!);
    const apiserver = procs.find((p) => p.cmdline.includes(' apiserver '));
    assert.ok(apiserver, 'an apiserver child process runs');
    const args = apiserver.cmdline.split(' ');
    for (const flag of APISERVER_NODE_FLAGS) assert.ok(args.includes(flag), `${flag} in ${apiserver.cmdline}`);
    const scheduler = procs.find((p) => p.cmdline.includes(' scheduler '));
    assert.ok(scheduler && !scheduler.cmdline.includes('--initial-old-space-size'), scheduler?.cmdline);
    for (const flag of SCHEDULER_NODE_FLAGS) assert.ok(scheduler.cmdline.split(' ').includes(flag), `${flag} in ${scheduler.cmdline}`);
    const controllers = procs.find((p) => p.cmdline.includes(' controller-manager '));
    assert.ok(controllers && !controllers.cmdline.includes('semi-space'), controllers?.cmdline);
  });

  it('restarts a service that dies, naming it and how it exited', async () => {
    const apiserver = descendants(first!.child.pid!).find((p) => p.cmdline.includes(' apiserver '));
    assert.ok(apiserver, 'an apiserver child process runs');
    process.kill(apiserver.pid, 'SIGKILL');
    await eventually('restart logged', async () => assert.match(first!.output(), /apiserver exited with signal SIGKILL; restarting/));
    const answer = await eventually('apiserver back', () => kubectl(first!.kubeconfig, 'get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}'));
    assert.equal(answer, '42');
    const again = descendants(first!.child.pid!).find((p) => p.cmdline.includes(' apiserver '));
    assert.ok(again && again.pid !== apiserver.pid);
  });

  it('stops every process it started on SIGINT', async () => {
    const procs = descendants(first!.child.pid!);
    assert.ok(procs.some((p) => p.cmdline.includes('nats-server')), procs.map((p) => p.cmdline).join('\n'));
    assert.ok(procs.some((p) => p.cmdline.includes(' apiserver ')), procs.map((p) => p.cmdline).join('\n'));
    first!.child.kill('SIGINT');
    assert.equal(await first!.exited, 0, first!.output());
    const left = procs.filter((p) => alive(p.pid));
    assert.deepEqual(left, [], 'processes left behind');
    assert.equal(readState(dataDir)?.pid, undefined, 'the data folder is released');
  });

  it('keeps every object and the NATS port when started again on the same data folder', async () => {
    const natsBefore = readState(dataDir)!.natsUrl;
    second = await launch(dataDir, HOLLOW_ONLY);
    assert.equal(readState(dataDir)!.natsUrl, natsBefore);
    // the first start's --nats-memory-limit was for that start only
    const nats = descendants(second.child.pid!).find((p) => p.cmdline.includes('nats-server'))!;
    assert.equal(environOf(nats.pid).get('GOMEMLIMIT'), process.env.GOMEMLIMIT);
    const answer = await kubectl(second.kubeconfig, 'get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}');
    assert.equal(answer, '42');
  });

  // the cluster the test above started again is the one killed here: one start-up less
  it('cleans up after a launcher that was killed outright, and stops on SIGTERM', async () => {
    assert.ok(second && second.child.exitCode === null, 'the second start runs');
    const procs = descendants(second.child.pid!);
    const apiserver = procs.find((p) => p.cmdline.includes(' apiserver '))!;
    const nats = procs.find((p) => p.cmdline.includes('nats-server'))!;
    const prometheus = procs.find((p) => p.cmdline.includes('--config.file='))!;
    assert.ok(prometheus, `a prometheus among:\n${procs.map((p) => p.cmdline).join('\n')}`);
    second.child.kill('SIGKILL');
    await second.exited;
    // The apiserver notices its parent is gone; nats-server cannot, so the next start stops it.
    await eventually('apiserver exits by itself', async () => assert.ok(!alive(apiserver.pid)));
    third = await launch(dataDir, HOLLOW_ONLY);
    assert.match(third.output(), new RegExp(`stopping nats-server pid ${nats.pid}`));
    assert.ok(!alive(nats.pid));
    // Prometheus cannot notice either: the next start stops it before starting its own
    assert.match(third.output(), new RegExp(`stopping prometheus pid ${prometheus.pid}`));
    assert.ok(!alive(prometheus.pid));
    assert.equal(await kubectl(third.kubeconfig, 'get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}'), '42');
    const running = descendants(third.child.pid!);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0, third.output());
    assert.deepEqual(running.filter((p) => alive(p.pid)), [], 'processes left behind');
  });
});

describe('flotilla up --nats-memory-limit refused before anything starts', () => {
  let dir = '';
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-up-memlimit-test-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** `flotilla up` on a data folder not yet made: its exit code, its output, and whether the folder was made. */
  function up(args: string[], env: NodeJS.ProcessEnv = CHILD_ENV): { status: number | null; output: string; madeData: boolean } {
    const data = path.join(dir, `data-${randomBytes(3).toString('hex')}`);
    const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'flotilla.js'), 'up', '--data', data, '--no-real-node', ...args], { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, output: r.stdout + r.stderr, madeData: existsSync(data) };
  }

  it('a size Go would not take', () => {
    const r = up(['--nats-memory-limit', '2GB']);
    assert.deepEqual([r.status, r.madeData], [1, false], r.output);
    assert.equal(r.output.trim(), 'flotilla: --nats-memory-limit: invalid nats-server memory limit "2GB": give bytes with an optional unit B, KiB, MiB, GiB or TiB (e.g. 2GiB), as Go\'s GOMEMLIMIT takes');
  });

  it('with --nats or $NATS_URL, as up starts no nats-server then', () => {
    // nothing listens there: refused before up tries to connect
    const url = 'nats://127.0.0.1:9';
    const flag = up(['--nats', url, '--nats-memory-limit', '2GiB']);
    assert.deepEqual([flag.status, flag.madeData], [1, false], flag.output);
    assert.match(flag.output, /^flotilla: --nats-memory-limit 2GiB: up joins the NATS server at nats:\/\/127\.0\.0\.1:9 \(--nats\) and starts no nats-server, so there is nothing to limit; set GOMEMLIMIT=2GiB in the environment of the nats-server you started$/m);
    const env = up(['--nats-memory-limit', '2GiB'], { ...CHILD_ENV, NATS_URL: url });
    assert.deepEqual([env.status, env.madeData], [1, false], env.output);
    assert.match(env.output, /\(\$NATS_URL\) and starts no nats-server.*, or unset NATS_URL to have up start its own$/m);
  });
});

describe('flotilla up as root: this machine joins as a real node (needs root)', function () {
  this.timeout(240_000);
  const suffix = randomBytes(3).toString('hex');
  const bridge = `flt-t-${suffix}`;
  let dataDir = '';
  let subnet = '';
  let clusterCIDR = '';
  let registryPort = 0;
  let link = '';
  let up: Launch | undefined;
  let natTablesBefore = new Set<string>();

  before(async () => {
    requireNodeHost('the real node suite of flotilla up');
    natTablesBefore = existingNatTables();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-up-node-test-'));
    link = unusedLink();
    // node IPAM gives the two real nodes and the hollow one a /24 each of a /22 that no route of this machine overlaps
    clusterCIDR = unusedSubnet(22);
    subnet = clusterCIDR.replace(/\/22$/, '/24');
    // not 5000: a cluster of the machine's user may have it
    do registryPort = await freePort();
    while (registryPort === 5000);
    up = await launch(dataDir, ['--cluster-cidr', clusterCIDR, '--cni-bridge', bridge, '--hollow-nodes', '1', '--registry-port', String(registryPort), '--nodes', '2', '--node-link-cidr', link]);
  });

  after(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGTERM');
      await up.exited;
    }
    // whatever a failed stop left: containerd still running (with pods), the bridge, mounts
    if (!dataDir) return;
    const cniConfDir = path.join(dataDir, 'cni', 'net.d');
    const launcher = new ContainerdLauncher({ dir: path.join(dataDir, 'containerd'), cniConfDir });
    for (const pid of strayContainerds(launcher.paths.config)) process.kill(pid, 'SIGKILL');
    for (const pid of strayRegistries(path.join(dataDir, 'registry', 'config.yml'))) process.kill(pid, 'SIGKILL');
    // node 2: its containerd (pods first), veth and namespace
    await removeNetnsNode(netnsNodeNames(dataDir, bridge, 'flotilla', 2, link), () => {}, strayContainerds).catch((e: Error) => console.error(`removing node 2: ${e.message}`));
    const network = new BridgeNetwork({ confDir: cniConfDir, name: 'flotilla', bridge, podCIDR: subnet });
    // the proxy's table, had its process been killed (add first: deleting a missing table fails)
    spawnSync('nft', ['-f', '-'], { input: `add table ip ${proxyTable(bridge)}\ndelete table ip ${proxyTable(bridge)}\n` });
    await cleanUpNode({ dir: dataDir, network });
  });

  it('starts containerd and a real node that goes Ready and runs a pod answering at its IP; stopping removes its sandboxes and bridge', async () => {
    assert.match(up!.output(), /containerd's CRI answers/);
    const nodeName = hostNodeName();
    const node = await eventually('the real node Ready', async () => {
      const n = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'node', nodeName, '-o', 'json')) as Node;
      assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      return n;
    });
    assert.match(node.spec?.podCIDR ?? '', /\/24$/);
    assert.ok(cidrWithin(parseCidr(node.spec!.podCIDR!), parseCidr(clusterCIDR)), `${node.spec?.podCIDR} in ${clusterCIDR}`);
    const hollow = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'node', 'hollow-0', '-o', 'json')) as Node;
    assert.ok(hollow.spec?.podCIDR && hollow.spec.podCIDR !== node.spec?.podCIDR, `hollow-0 has its own podCIDR: ${hollow.spec?.podCIDR}`);
    assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\//);
    await kubectl(up!.kubeconfig, 'run', 'web', '--image=busybox', '--restart=Never', `--overrides={"spec":{"nodeName":"${nodeName}"}}`, '--command', '--',
      'sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www');
    const pod = await eventually('pod web Running', async () => {
      const p = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'pod', 'web', '-o', 'json')) as Pod;
      assert.equal(p.status?.phase, 'Running');
      return p;
    });
    assert.ok(cidrContains(node.spec!.podCIDR!, pod.status!.podIP!), `${pod.status?.podIP} in ${node.spec?.podCIDR}`);
    const res = await eventually('GET the pod', () => httpGet(`http://${pod.status!.podIP}:8080/`));
    assert.equal(res.body, 'hello\n');
    assert.ok(existsSync(`/sys/class/net/${bridge}`), 'the bridge exists while the cluster runs');
    // the proxy: the Service's ClusterIP answers from the host (asked only once its rule is in, so nothing leaves the machine)
    await kubectl(up!.kubeconfig, 'expose', 'pod', 'web', '--port', '80', '--target-port', '8080');
    const clusterIP = (await kubectl(up!.kubeconfig, 'get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    await eventually('the ClusterIP in the proxy\'s table', async () => assert.match(spawnSync('nft', ['list', 'table', 'ip', proxyTable(bridge)], { encoding: 'utf8' }).stdout, new RegExp(`${clusterIP.replaceAll('.', '\\.')} \\. tcp \\. 80 : goto service-`)));
    assert.equal((await eventually('GET the ClusterIP', () => httpGet(`http://${clusterIP}/`))).body, 'hello\n');

    // node 2 (--nodes 2): a network namespace of its own behind a veth; its podCIDR routed there by the cloud-controller-manager
    const node2 = netnsNodeNames(dataDir, bridge, 'flotilla', 2, link);
    const n2 = await eventually('node 2 Ready and initialized by the cloud', async () => {
      const n = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'node', node2.name, '-o', 'json')) as Node;
      assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.equal(n.spec?.providerID, `local://${node2.name}`);
      return n;
    });
    assert.equal(n2.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, intToIp(parseCidr(link).base + 2));
    assert.ok(existsSync(`/run/netns/${node2.name}`), 'node 2\'s network namespace exists while the cluster runs');
    await kubectl(up!.kubeconfig, 'run', 'web2', '--image=busybox', '--restart=Never', `--overrides={"spec":{"nodeName":"${node2.name}"}}`, '--command', '--',
      'sh', '-c', 'mkdir -p /www && echo node2 > /www/index.html && exec httpd -f -p 8080 -h /www');
    const pod2 = await eventually('pod web2 Running', async () => {
      const p = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'pod', 'web2', '-o', 'json')) as Pod;
      assert.equal(p.status?.phase, 'Running');
      return p;
    });
    assert.ok(cidrContains(n2.spec!.podCIDR!, pod2.status!.podIP!), `${pod2.status?.podIP} in ${n2.spec?.podCIDR}`);
    // asked only once the route is in: before it, the GET would leave the machine by its default route
    // (where this sandbox's gateway answers any address with an empty 404)
    await eventually('the route to node 2\'s podCIDR and its NetworkUnavailable=False', async () => {
      assert.match(spawnSync('ip', ['-4', 'route', 'show', n2.spec!.podCIDR!], { encoding: 'utf8' }).stdout, new RegExp(`via ${intToIp(parseCidr(link).base + 2).replaceAll('.', '\\.')} dev ${node2.hostInterface} proto 77`));
      const n = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'node', node2.name, '-o', 'json')) as Node;
      assert.equal(n.status?.conditions?.find((c) => c.type === 'NetworkUnavailable')?.reason, 'RouteCreated');
    });
    const res2 = await eventually('GET the pod on node 2 through the route', () => httpGet(`http://${pod2.status!.podIP}:8080/`));
    assert.deepEqual([res2.status, res2.body], [200, 'node2\n']);

    // the local registry: an image pushed there with skopeo runs as localhost:<port>/NAME
    assert.equal((await fetch(`http://127.0.0.1:${registryPort}/v2/`)).status, 200);
    const image = `localhost:${registryPort}/flt-up/hello:1`;
    const push = spawnSync('skopeo', ['copy', '--quiet', `oci-archive:${busyboxImageArchive(dataDir, image)}`, `docker://${image}`, '--dest-tls-verify=false'], { encoding: 'utf8' });
    assert.equal(push.status, 0, push.stderr);
    await kubectl(up!.kubeconfig, 'run', 'pushed', `--image=${image}`, '--restart=Never', `--overrides={"spec":{"nodeName":"${nodeName}"}}`);
    await eventually('pod pushed Running', async () => {
      const p = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'pod', 'pushed', '-o', 'json')) as Pod;
      assert.equal(p.status?.phase, 'Running', JSON.stringify(p.status?.containerStatuses));
    });

    up!.child.kill('SIGINT');
    assert.equal(await up!.exited, 0, up!.output());
    assert.match(up!.output(), /removed the 2 pod sandboxes of the real node/);
    assert.match(up!.output(), new RegExp(`removed the 1 pod sandboxes of node ${node2.name}`));
    assert.ok(!existsSync(`/run/netns/${node2.name}`) && !existsSync(`/sys/class/net/${node2.hostInterface}`), 'node 2\'s namespace and veth are gone');
    assert.equal(spawnSync('ip', ['-4', 'route', 'show', 'proto', '77'], { encoding: 'utf8' }).stdout.includes(node2.hostInterface), false, 'no route through node 2\'s veth');
    assert.deepEqual(strayRegistries(path.join(dataDir, 'registry', 'config.yml')), [], 'docker-registry stopped');
    assert.ok(!existsSync(`/sys/class/net/${bridge}`), 'the bridge is gone');
    assert.equal(spawnSync('nft', ['list', 'table', 'ip', proxyTable(bridge)]).status, 1, 'the proxy\'s table is gone');
    // the portmap plugin's iptables calls made them; nothing of them is left
    assert.deepEqual([...existingNatTables()].filter((t) => !natTablesBefore.has(t)), [], 'no nat table left that was not there before');
    assert.deepEqual(mountsUnder(dataDir), [], 'no mounts left under the data folder');
  });

  it('--control-plane static-pods: the kubelet runs apiserver, scheduler and controller-manager as static pods with mirror pods, and they schedule a pod onto the node', async () => {
    assert.ok(up && up.child.exitCode !== null, 'the first up of this suite stopped');
    up = await launch(dataDir, ['--cluster-cidr', clusterCIDR, '--cni-bridge', bridge, '--registry-port', String(registryPort), '--control-plane', 'static-pods']);
    const nodeName = hostNodeName();
    const descs = descendants(up.child.pid!).map((p) => p.cmdline);
    assert.ok(!descs.some((c) => / (apiserver|scheduler|controller-manager) --nats /.test(c)), `no supervised control plane:\n${descs.join('\n')}`);
    const names = ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager'].map((n) => `${n}-${nodeName}`);
    await eventually('the three mirror pods Running', async () => {
      const list = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'pods', '-n', 'kube-system', '-o', 'json')) as { items: Pod[] };
      for (const n of names) {
        const p = list.items.find((x) => x.metadata?.name === n);
        assert.equal(p?.status?.phase, 'Running', `${n}: ${JSON.stringify(p?.status)}`);
        assert.equal(p?.metadata?.labels?.tier, 'control-plane');
        assert.ok(p?.metadata?.annotations?.['kubernetes.io/config.mirror']);
        assert.equal(p?.spec?.hostNetwork, true);
      }
    }, 120_000);
    // no nodeName: the scheduler (a static pod) places it (only the real node fits: hollow-0 of
    // the first up is still a Node, with no kubelet now); its podCIDR came from node IPAM (controller-manager)
    await kubectl(up.kubeconfig, 'run', 'placed', '--image=busybox', '--restart=Never', `--overrides={"spec":{"nodeSelector":{"kubernetes.io/hostname":"${nodeName}"}}}`,
      '--command', '--', 'sleep', '3600');
    const pod = await eventually('pod placed Running', async () => {
      const p = JSON.parse(await kubectl(up!.kubeconfig, 'get', 'pod', 'placed', '-o', 'json')) as Pod;
      assert.equal(p.status?.phase, 'Running', JSON.stringify(p.status));
      return p;
    }, 120_000);
    assert.equal(pod.spec?.nodeName, nodeName);
    up.child.kill('SIGINT');
    assert.equal(await up.exited, 0, up.output());
    assert.match(up.output(), /removed the \d+ pod sandboxes of the real node/);
    assert.deepEqual(mountsUnder(dataDir), [], 'no mounts left under the data folder');
  });
});

const NOBODY = { uid: 65534, gid: 65534 };

/**
 * The checkout as `as` can run it: this one when that user can read it, else (a clone in
 * a 0700 folder such as /root) its runnable files hard-linked (copied across file
 * systems) into `dir`, which the caller removes.
 */
function checkoutFor(as: { uid: number; gid: number }, dir: string): string {
  const reach = spawnSync(process.execPath, ['-e', 'require("node:fs").accessSync(process.argv[1] + "/dist/cli/main.js")', PROJECT_ROOT], { ...as });
  if (reach.status === 0) return PROJECT_ROOT;
  const copy = path.join(dir, 'checkout');
  mkdirSync(copy, { mode: 0o755 });
  chmodSync(copy, 0o755);
  for (const entry of ['package.json', 'bin', 'dist', 'node_modules']) {
    const from = path.join(PROJECT_ROOT, entry);
    if (spawnSync('cp', ['-al', from, copy]).status !== 0 && spawnSync('cp', ['-a', from, copy]).status !== 0) throw new Error(`cannot copy ${from} to ${copy}`);
  }
  return copy;
}

describe('flotilla up as an ordinary user (needs root to become one)', function () {
  this.timeout(120_000);
  let dataDir = '';
  let up: Launch | undefined;

  after(async () => {
    if (up && up.child.exitCode === null) {
      up.child.kill('SIGTERM');
      await up.exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('says in one line why this machine is no real node, then runs the cluster with hollow nodes only', async () => {
    assert.equal(process.getuid?.(), 0, 'this test needs root: it runs flotilla up as user nobody');
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-up-nobody-test-'));
    chmodSync(dataDir, 0o777);
    up = await launch(path.join(dataDir, 'data'), ['--hollow-nodes', '1'], { ...NOBODY, projectRoot: checkoutFor(NOBODY, dataDir) });
    const lines = up.output().split('\n').filter((l) => /real node/.test(l));
    assert.deepEqual(lines, ['flotilla: real node disabled: a real node needs root (containerd, runc, network namespaces and bridges); run it as root; running hollow nodes only']);
    assert.doesNotMatch(up.output(), /started containerd/);
    const nodes = await eventually('the hollow node', async () => {
      const out = (await kubectl(up!.kubeconfig, 'get', 'nodes', '-o', 'name')).trim();
      assert.ok(out);
      return out;
    });
    assert.equal(nodes, 'node/hollow-0');
    up.child.kill('SIGINT');
    assert.equal(await up.exited, 0, up.output());
  });
});
