/**
 * A node with a network of its own on this machine (`flotilla up --nodes 2`): a network
 * namespace (`ip netns`, /run/netns/NAME) joined to this machine's namespace by a veth over
 * a small link network, a /30: this machine's end holds its first address, the node's end
 * (`eth0` inside) the second, which is the node's InternalIP. Inside, a default route back
 * through this machine's end carries the pods' traffic to the other nodes, to Services and
 * to DNS; forwarding is on, so traffic reaches the pod bridge behind eth0. The way in, this
 * machine's route to the node's podCIDR via its InternalIP, is the route controller's
 * (services/cloud-controller-manager/cloudprovider/local/routes.ts).
 *
 * Only what `create` made is removed by `remove`; who owns a namespace of that name is the
 * caller's business (cli/up.ts records its namespaces in the data folder's state).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { formatCidr, intToIp, parseCidr } from '../../../lib/net/mod.js';

/** the node's end of the veth, inside the namespace */
export const NODE_INTERFACE = 'eth0';
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const NSNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class NetnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetnsError';
  }
}

export interface NodeNetnsOptions {
  /** the network namespace: /run/netns/NAME */
  name: string;
  /** the veth's end on this machine (at most 15 characters) */
  hostInterface: string;
  /** the link network, a /30: this machine gets its first address, the node its second */
  linkCIDR: string;
}

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new NetnsError(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  return r.stdout;
}

export class NodeNetns {
  readonly name: string;
  readonly hostInterface: string;
  readonly linkCIDR: string;
  /** this machine's end of the link: the node's way out */
  readonly hostIP: string;
  /** the node's end: its InternalIP */
  readonly nodeIP: string;

  constructor(opts: NodeNetnsOptions) {
    if (!NSNAME.test(opts.name)) throw new NetnsError(`network namespace name "${opts.name}" must be letters, digits, '_', '.' and '-'`);
    if (!IFNAME.test(opts.hostInterface)) throw new NetnsError(`interface name "${opts.hostInterface}" must be 1 to 15 letters, digits, '_', '.' or '-'`);
    const link = parseCidr(opts.linkCIDR);
    if (link.prefix !== 30) throw new NetnsError(`the link network ${opts.linkCIDR} must be a /30 (two addresses: this machine's end and the node's)`);
    this.name = opts.name;
    this.hostInterface = opts.hostInterface;
    this.linkCIDR = formatCidr(link);
    this.hostIP = intToIp(link.base + 1);
    this.nodeIP = intToIp(link.base + 2);
  }

  /** the namespace's path, for nsenter --net= */
  get path(): string {
    return `/run/netns/${this.name}`;
  }

  namespaceExists(): boolean {
    return existsSync(this.path);
  }

  interfaceExists(): boolean {
    return existsSync(`/sys/class/net/${this.hostInterface}`);
  }

  /** Makes the namespace, the veth, the addresses and the default route inside; on failure removes what it made. */
  create(): void {
    if (this.namespaceExists()) throw new NetnsError(`network namespace ${this.name} exists already`);
    if (this.interfaceExists()) throw new NetnsError(`interface ${this.hostInterface} exists already`);
    try {
      ip(['netns', 'add', this.name]);
      ip(['link', 'add', this.hostInterface, 'type', 'veth', 'peer', 'name', NODE_INTERFACE, 'netns', this.name]);
      ip(['addr', 'add', `${this.hostIP}/30`, 'dev', this.hostInterface]);
      ip(['link', 'set', this.hostInterface, 'up']);
      ip(['-n', this.name, 'link', 'set', 'lo', 'up']);
      ip(['-n', this.name, 'addr', 'add', `${this.nodeIP}/30`, 'dev', NODE_INTERFACE]);
      ip(['-n', this.name, 'link', 'set', NODE_INTERFACE, 'up']);
      ip(['-n', this.name, 'route', 'add', 'default', 'via', this.hostIP]);
      // /proc/sys/net answers for the namespace of the process that opens it
      const r = spawnSync('nsenter', [`--net=${this.path}`, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' });
      if (r.status !== 0) throw new NetnsError(`ip_forward in ${this.name}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
    } catch (e) {
      try {
        this.remove();
      } catch {
        /* the first error says more */
      }
      throw e;
    }
  }

  /**
   * Removes the veth (its routes go with it) and the namespace (with the pod bridge in it,
   * once no process runs there). Idempotent.
   */
  remove(): void {
    if (this.interfaceExists()) ip(['link', 'del', this.hostInterface]);
    if (this.namespaceExists()) ip(['netns', 'del', this.name]);
  }
}
