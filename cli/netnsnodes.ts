/**
 * `flotilla up --nodes N`: real nodes 2..N beside the one that is this machine. Each lives
 * in a network namespace of its own (services/kubelet/host/netns.ts), joined to this
 * machine by a veth over a /30 of --node-link-cidr (default 10.250.0.0/24: node i gets
 * block i-2, this machine's end its first address, the node its second). In it runs a
 * containerd of the node's own (root, state, sockets, CNI folders and network name under
 * <data>/nodes/<name>), started with `nsenter --net`, so the pod bridge and every pod's
 * network hang off that namespace; it serves exec/attach/port-forward streams on the node's
 * address. The node's kubelet and proxy stay in this namespace (NATS on 127.0.0.1, containerd
 * over its unix socket): the kubelet with --hostname-override, --node-ip, --netns and
 * --cloud-provider=external (a `netns` machine of the local cloud, whose podCIDR the route
 * controller routes through the veth), the proxy with --netns (its table inside).
 *
 * The namespaces are recorded in the data folder's state before they are made, so the next
 * start removes what a killed launcher left (containerd, sandboxes, veth, namespace); a
 * namespace of the same name the state does not name is someone else's and up refuses.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cidrContains, formatCidr, parseCidr, subnet, type IPv4Cidr } from '../lib/net/mod.js';
import { containerdPaths } from '../services/kubelet/containerd/config.js';
import { ContainerdLauncher, waitForCri } from '../services/kubelet/containerd/launcher.js';
import { CriClient } from '../services/kubelet/cri/client.js';
import { NodeNetns } from '../services/kubelet/host/netns.js';
import { DEFAULT_CNI_BRIDGE } from '../services/kubelet/server.js';
import { terminate } from './datafolder.js';
import { SupervisedProcess, type SupervisorOutput } from './supervisor.js';

export const DEFAULT_NODE_LINK_CIDR = '10.250.0.0/24';
/** each node is a containerd and a kubelet (~150 MiB): a handful is what one machine carries */
export const MAX_REAL_NODES = 16;

/** What the state file keeps of a namespaced node: enough to remove it after a killed launcher. */
export interface NetnsNodeRecord {
  name: string;
  hostInterface: string;
  linkCIDR: string;
  /** <data>/nodes/<name> */
  dir: string;
}

/** The names of real node `index` (2..N): derived from the first node's bridge and network, so two clusters with their own bridges never share one. */
export function netnsNodeNames(dataDir: string, bridge: string, network: string, index: number, linkCIDR: string): NetnsNodeRecord & { bridge: string; network: string } {
  const stem = bridge === DEFAULT_CNI_BRIDGE ? 'flt' : bridge;
  const name = `${stem}-node${index}`;
  const fit = (suffix: string) => `${stem.slice(0, 15 - suffix.length)}${suffix}`;
  return {
    name,
    hostInterface: fit(`-node${index}`),
    // inside the namespace: it never meets this machine's interfaces
    bridge: bridge === DEFAULT_CNI_BRIDGE ? `flt${index - 1}` : fit(`-b${index}`),
    network: `${network}-node${index}`,
    linkCIDR: formatCidr(subnet(parseCidr(linkCIDR), 30, index - 2)),
    dir: path.join(dataDir, 'nodes', name),
  };
}

function overlaps(a: IPv4Cidr, b: IPv4Cidr): boolean {
  return cidrContains(a, b.base) || cidrContains(b, a.base);
}

/** This machine's IPv4 routes and addresses (as CIDRs) that overlap cidr, except the default route. */
export function machineNetworksOverlapping(cidr: string): string[] {
  const c = parseCidr(cidr);
  const out = new Set<string>();
  const routes = spawnSync('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  const addrs = spawnSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  const candidates = [
    ...[...routes.matchAll(/^(?:(?:unicast|local|broadcast|unreachable|blackhole|prohibit|throw)\s+)?(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)\s/gm)].map((m) => m[1]!),
    ...[...addrs.matchAll(/\sinet\s+(\d+\.\d+\.\d+\.\d+\/\d+)/g)].map((m) => m[1]!),
  ];
  for (const n of candidates) {
    try {
      const other = parseCidr(n.includes('/') ? n : `${n}/32`);
      if (other.prefix > 0 && overlaps(c, other)) out.add(n);
    } catch {
      /* not an address */
    }
  }
  return [...out];
}

/**
 * Refuses a --node-link-cidr that cannot hold a /30 for each of nodes 2..N or overlaps the
 * cluster's other ranges; returns it normalised.
 */
export function checkNodeLinkCIDR(linkCIDR: string, nodes: number, ranges: Array<[string, string]>): string {
  const link = parseCidr(linkCIDR);
  if (link.prefix > 30 || link.size / 4 < nodes - 1) throw new Error(`--node-link-cidr ${linkCIDR} holds ${Math.floor(link.size / 4)} /30s; ${nodes - 1} namespaced nodes need one each`);
  for (const [what, cidr] of ranges) {
    if (overlaps(link, parseCidr(cidr))) throw new Error(`--node-link-cidr ${linkCIDR} overlaps ${what} ${cidr}: pick another range with --node-link-cidr`);
  }
  return formatCidr(link);
}

/** A namespaced node's context for its kubelet and proxy (cli/up.ts). */
export interface NetnsNodeContext {
  nodeName: string;
  netns: string;
  nodeIP: string;
  endpoint: string;
  rootDir: string;
  cniConfDir: string;
  network: string;
  bridge: string;
  registryPort: number;
}

const containerdDir = (record: NetnsNodeRecord) => path.join(record.dir, 'containerd');
const cniConfDir = (record: NetnsNodeRecord) => path.join(record.dir, 'cni', 'net.d');
/** the node's containerd paths, without writing its config */
const pathsOf = (record: NetnsNodeRecord) => containerdPaths(containerdDir(record), cniConfDir(record));

/**
 * Removes what a namespaced node left: its containerd, if one still runs (its sandboxes
 * first), the pod network's files, the veth and the namespace. Only for records of this
 * data folder's state.
 */
export async function removeNetnsNode(record: NetnsNodeRecord, log: (line: string) => void, strays: (config: string) => number[]): Promise<void> {
  const paths = pathsOf(record);
  const pids = strays(paths.config);
  if (pids.length) {
    const client = new CriClient(paths.socket);
    try {
      const removed = await client.removeAllPodSandboxes();
      if (removed) log(`removed the ${removed} pod sandboxes of node ${record.name}`);
    } catch (e) {
      log(`removing the pods of node ${record.name}: ${(e as Error).message}`);
    } finally {
      client.close();
    }
    for (const pid of pids) {
      log(`stopping containerd pid ${pid} of node ${record.name}`);
      await terminate(pid);
    }
  }
  // the conflists and address leases; the bridge goes with the namespace
  rmSync(path.join(record.dir, 'cni'), { recursive: true, force: true });
  new NodeNetns(record).remove();
}

/** A running namespaced node's runtime: its namespace and supervised containerd. */
export class NetnsNodeRuntime {
  containerd: SupervisedProcess | undefined;
  readonly netns: NodeNetns;

  constructor(
    readonly record: NetnsNodeRecord & { bridge: string; network: string },
    private readonly out: SupervisorOutput,
    private readonly width: number,
  ) {
    this.netns = new NodeNetns(record);
  }

  /** Makes the namespace and starts containerd in it; resolves once its CRI answers. */
  async start(registryPort: number): Promise<NetnsNodeContext> {
    const r = this.record;
    this.netns.create();
    const launcher = new ContainerdLauncher({ dir: containerdDir(r), cniConfDir: cniConfDir(r), registryPort, netns: r.name, streamServerAddress: this.netns.nodeIP });
    const spec = launcher.processSpec();
    this.containerd = new SupervisedProcess({ ...spec, name: `containerd-${r.name}`, args: [...spec.args, '--log-level', 'warn'] }, this.out, this.width);
    this.containerd.start();
    await waitForCri(launcher.paths.socket, 30_000, () => this.containerd?.running ?? false);
    this.out.log(`node ${r.name}: network namespace ${r.name} (veth ${r.hostInterface} ${this.netns.hostIP} <-> ${this.netns.nodeIP}), containerd's CRI answers on ${launcher.paths.socket}`);
    return {
      nodeName: r.name,
      netns: r.name,
      nodeIP: this.netns.nodeIP,
      endpoint: `unix://${launcher.paths.socket}`,
      rootDir: path.join(r.dir, 'kubelet'),
      cniConfDir: launcher.paths.cniConfDir,
      network: r.network,
      bridge: r.bridge,
      registryPort,
    };
  }

  /** After the node's kubelet stopped: its sandboxes, containerd, pod network files, veth and namespace. */
  async stop(log: (line: string) => void): Promise<void> {
    if (this.containerd?.running) {
      const client = new CriClient(pathsOf(this.record).socket);
      try {
        const removed = await client.removeAllPodSandboxes();
        if (removed) log(`removed the ${removed} pod sandboxes of node ${this.record.name}`);
      } catch (e) {
        log(`removing the pods of node ${this.record.name}: ${(e as Error).message}`);
      } finally {
        client.close();
      }
    }
    await this.containerd?.stop();
    rmSync(path.join(this.record.dir, 'cni'), { recursive: true, force: true });
    this.netns.remove();
  }

  killNow(): void {
    this.containerd?.killNow();
  }
}
