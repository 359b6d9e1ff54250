/**
 * For suites that run a real node on this machine (root, containerd, CNI): a containerd
 * of the suite's own under /tmp, a 10.x subnet and bridge name no one else uses, and a
 * cleanup that removes every sandbox, the containerd, the bridge and the folder even
 * when a test failed, and says what it could not remove.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { processes, terminate } from '../cli/datafolder.js';
import { strayContainerds } from '../cli/up.js';
import { alive, descendants } from './cluster.js';
import { BridgeNetwork } from '../services/kubelet/cni/bridge.js';
import { existingNatTables, NAT_TABLES, removeLeftoverNatTables } from '../services/kubelet/cni/nattables.js';
import { ContainerdLauncher } from '../services/kubelet/containerd/launcher.js';
import { noHostPortCniConfDir } from '../services/kubelet/containerd/config.js';
import { CriClient } from '../services/kubelet/cri/client.js';
import { requireNodeHost } from '../services/kubelet/host/prerequisites.js';
import { NodeNetns } from '../services/kubelet/host/netns.js';

/** A 10.x.y.0/24 (or /22, /23) that no address or route of this machine overlaps. */
export function unusedSubnet(prefixLength: 22 | 23 | 24 = 24): string {
  const used = spawnSync('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout;
  const width = 1 << (24 - prefixLength);
  for (;;) {
    const [a, b] = randomBytes(2);
    const second = `10.${200 + (a! % 50)}.`;
    const third = b! - (b! % width);
    const prefixes = Array.from({ length: width }, (_, i) => `${second}${third + i}.`);
    if (!prefixes.some((p) => used.includes(p)) && !used.includes(`${second}0.0/16`)) return `${second}${third}.0/${prefixLength}`;
  }
}

/** A 10.250.x.y/30 (the range `flotilla up --nodes` joins nodes with) that no address or route of this machine overlaps. */
export function unusedLink(): string {
  const used = spawnSync('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout;
  for (;;) {
    const [a, b] = randomBytes(2);
    const prefix = `10.250.${a}.`;
    if (!used.includes(prefix)) return `${prefix}${4 * (b! % 64)}/30`;
  }
}

export function httpGet(url: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Mount points under dir, deepest first (containerd should have removed them all). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
}

/**
 * SIGKILLs the containerd shims of the containerd at `socket` (their `-address`), and the
 * processes under them: what a sandbox left whose containerd stopped before removing it
 * (created while the suite stopped, or a removal that failed). Other containerds' shims are
 * never touched. Resolves once they are gone; returns how many shims there were.
 */
export async function killShims(socket: string): Promise<number> {
  const shims = processes()
    .filter(({ argv }) => path.basename(argv[0] ?? '').startsWith('containerd-shim') && argv.indexOf('-address') > 0 && argv[argv.indexOf('-address') + 1] === socket)
    .map(({ pid }) => pid);
  const pids = shims.flatMap((pid) => [...descendants(pid).map((d) => d.pid).reverse(), pid]);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const left = pids.filter(alive);
  if (left.length) throw new Error(`processes of ${socket}'s shims still running after SIGKILL: ${left.join(', ')}`);
  return shims.length;
}

/** Removes what a real-node suite made; collects every failure and throws them together at the end. */
export async function cleanUpNode(parts: { dir?: string; socket?: string; launcher?: ContainerdLauncher; network?: BridgeNetwork; natTablesBefore?: Set<string> }): Promise<void> {
  const problems: string[] = [];
  const step = async (what: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (e) {
      problems.push(`${what}: ${(e as Error).message}`);
    }
  };
  if (parts.socket && parts.launcher?.running) {
    const client = new CriClient(parts.socket);
    // only this suite's containerd: every sandbox in it is ours
    await step('removing sandboxes', () => client.removeAllPodSandboxes());
    client.close();
  }
  await step('stopping containerd', () => parts.launcher?.stop());
  if (parts.socket) await step('killing the shims left', () => killShims(parts.socket!));
  await step('removing the network', () => parts.network?.tearDown());
  if (parts.natTablesBefore) await step('removing the nat tables the portmap plugin left', () => removeLeftoverNatTables(parts.natTablesBefore!));
  if (parts.dir) {
    for (const m of mountsUnder(parts.dir)) spawnSync('umount', ['-l', m]);
    const left = mountsUnder(parts.dir);
    if (left.length) problems.push(`mounts left under ${parts.dir}, not removed: ${left.join(', ')}`);
    else rmSync(parts.dir, { recursive: true, force: true });
  }
  if (problems.length) throw new Error(`cleanup: ${problems.join('; ')}`);
}

const TEST_HOST_PREFIX = '/tmp/flt-node-test-';
const OWNER_FILE = 'owner.json';

/** Who made a test host, and its network's names: enough to remove it once its process is gone. */
interface TestHostOwner {
  pid: number;
  network: string;
  bridge: string;
  subnet: string;
  /** a namespaced host's network namespace, veth and link network (startTestNetnsNodeHost) */
  netns?: { name: string; hostInterface: string; linkCIDR: string };
}

/**
 * Removes the test hosts whose test process died before its `after` ran (killed with -9,
 * or by a timeout): their containerd, sandboxes, bridge and folder. Only folders with an
 * owner file naming a process that no longer runs are touched.
 */
export async function sweepAbandonedTestNodeHosts(): Promise<void> {
  for (const name of readdirSync('/tmp')) {
    const dir = `/tmp/${name}`;
    if (!dir.startsWith(TEST_HOST_PREFIX) || !existsSync(path.join(dir, OWNER_FILE))) continue;
    let owner: TestHostOwner;
    try {
      owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as TestHostOwner;
    } catch {
      continue;
    }
    if (alive(owner.pid)) continue;
    const launcher = new ContainerdLauncher({ dir: path.join(dir, 'containerd'), cniConfDir: path.join(dir, 'cni', 'net.d') });
    const strays = strayContainerds(launcher.paths.config);
    if (strays.length) {
      const client = new CriClient(launcher.paths.socket);
      await client.removeAllPodSandboxes().catch(() => undefined);
      client.close();
      for (const pid of strays) await terminate(pid);
    }
    const network = new BridgeNetwork({ confDir: path.join(dir, 'cni', 'net.d'), name: owner.network, bridge: owner.bridge, podCIDR: owner.subnet });
    await cleanUpNode({ dir, socket: launcher.paths.socket, network }).catch((e: Error) => console.error(`sweeping ${dir}: ${e.message}`));
    try {
      if (owner.netns) new NodeNetns(owner.netns).remove();
    } catch (e) {
      console.error(`sweeping ${dir}: ${(e as Error).message}`);
    }
  }
}

/** A containerd of the suite's own, with names for its pod network that no one else uses. */
export interface TestNodeHost {
  suffix: string;
  dir: string;
  subnet: string;
  network: string;
  bridge: string;
  cniConfDir: string;
  launcher: ContainerdLauncher;
  /** the pod network of those names: set up by the suite's kubelet, or by startTestNodeHost when asked */
  podNetwork: BridgeNetwork;
  /** the nat tables of this network namespace before the suite (cni/nattables.ts): only others are removed at the end */
  natTablesBefore: Set<string>;
}

/**
 * Starts the suite's containerd. `setUpNetwork`: a suite that runs sandboxes through CRI
 * itself, with no kubelet to write the conflist, has it written before containerd starts.
 */
export async function startTestNodeHost(what: string, opts: { setUpNetwork?: boolean } = {}): Promise<TestNodeHost> {
  requireNodeHost(what);
  await sweepAbandonedTestNodeHosts();
  const suffix = randomBytes(3).toString('hex');
  const dir = mkdtempSync(TEST_HOST_PREFIX);
  const cniConfDir = path.join(dir, 'cni', 'net.d');
  const launcher = new ContainerdLauncher({ dir: path.join(dir, 'containerd'), cniConfDir });
  const subnet = unusedSubnet();
  const network = `flt-test-${suffix}`;
  const bridge = `flt-t-${suffix}`;
  // both chains, as the kubelet writes them for this containerd (cri/nohostport.ts)
  const podNetwork = new BridgeNetwork({ confDir: cniConfDir, name: network, bridge, podCIDR: subnet, noHostPortConfDir: noHostPortCniConfDir(cniConfDir) });
  const host = { suffix, dir, subnet, network, bridge, cniConfDir, launcher, podNetwork, natTablesBefore: existingNatTables() };
  const owner: TestHostOwner = { pid: process.pid, network, bridge, subnet };
  writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner));
  try {
    if (opts.setUpNetwork) podNetwork.setUp();
    await launcher.start();
  } catch (e) {
    await cleanUpTestNodeHost(host).catch(() => undefined);
    throw e;
  }
  return host;
}

/** Removes everything startTestNodeHost made, and whatever ran on it. */
export function cleanUpTestNodeHost(host: TestNodeHost): Promise<void> {
  return cleanUpNode({ dir: host.dir, socket: host.launcher.paths.socket, launcher: host.launcher, network: host.podNetwork, natTablesBefore: host.natTablesBefore });
}

/** A test host whose containerd (and so its pods) lives in a network namespace of its own behind a veth. */
export interface TestNetnsNodeHost extends TestNodeHost {
  netns: NodeNetns;
}

/**
 * A second node's host for a suite (root): the network namespace `flt-nn-<suffix>` joined by
 * the veth `flt-nh<suffix>` over linkCIDR (a /30), and a containerd of its own started in it,
 * serving exec streams on the node's address; its pod network (CNI names of its own, bridge
 * inside the namespace) has podCIDR. Removed by cleanUpTestNetnsNodeHost, or by the next
 * suite's sweep when the process died.
 */
export async function startTestNetnsNodeHost(what: string, opts: { linkCIDR: string; podCIDR: string }): Promise<TestNetnsNodeHost> {
  requireNodeHost(what);
  await sweepAbandonedTestNodeHosts();
  const suffix = randomBytes(3).toString('hex');
  const dir = mkdtempSync(TEST_HOST_PREFIX);
  const cniConfDir = path.join(dir, 'cni', 'net.d');
  const netns = new NodeNetns({ name: `flt-nn-${suffix}`, hostInterface: `flt-nh${suffix}`, linkCIDR: opts.linkCIDR });
  const launcher = new ContainerdLauncher({ dir: path.join(dir, 'containerd'), cniConfDir, netns: netns.name, streamServerAddress: netns.nodeIP });
  const network = `flt-nn-${suffix}`;
  const bridge = `flt-nb${suffix}`;
  const podNetwork = new BridgeNetwork({ confDir: cniConfDir, name: network, bridge, podCIDR: opts.podCIDR, noHostPortConfDir: noHostPortCniConfDir(cniConfDir) });
  // its nat tables live in its namespace and go with it
  const host: TestNetnsNodeHost = { suffix, dir, subnet: opts.podCIDR, network, bridge, cniConfDir, launcher, podNetwork, netns, natTablesBefore: new Set(NAT_TABLES) };
  const owner: TestHostOwner = { pid: process.pid, network, bridge, subnet: opts.podCIDR, netns: { name: netns.name, hostInterface: netns.hostInterface, linkCIDR: netns.linkCIDR } };
  writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify(owner));
  try {
    netns.create();
    await launcher.start();
  } catch (e) {
    await cleanUpTestNetnsNodeHost(host).catch(() => undefined);
    throw e;
  }
  return host;
}

/** Removes what startTestNetnsNodeHost made: sandboxes, containerd, the pod network's files, then veth and namespace. */
export async function cleanUpTestNetnsNodeHost(host: TestNetnsNodeHost): Promise<void> {
  let failed: Error | undefined;
  await cleanUpTestNodeHost(host).catch((e: Error) => (failed = e));
  host.netns.remove();
  if (failed) throw failed;
}
