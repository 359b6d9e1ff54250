/**
 * The node's pod network through the standard CNI plugins (Debian's
 * containernetworking-plugins in /usr/lib/cni): a Linux bridge with host-local IPAM over
 * the node's podCIDR, and portmap for hostPort. containerd's CRI plugin runs the plugins
 * for each sandbox from the conflist written here, and adds the loopback plugin itself
 * (`lo` in every pod). Bridge, network name and IPAM store are Flotilla's own, so
 * `tearDown` removes exactly what this network made.
 *
 * `PodNetwork` is the seam: another network plugin (another conflist, or a plugin the
 * kubelet calls itself) replaces BridgeNetwork without the kubelet above it knowing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { noHostPortCniConfDir } from '../containerd/config.js';

export const CNI_VERSION = '1.0.0';

export interface PodNetwork {
  /** the CNI network name (pods' network status names it) */
  readonly name: string;
  /** Writes the CNI config the runtime reads; idempotent. */
  setUp(): void;
  /** Removes the config, the host-side bridge and the IPAM store. Idempotent. */
  tearDown(): void;
}

export class CniConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CniConfigError';
  }
}

export interface BridgeNetworkOptions {
  /** the folder containerd's CRI reads (conf_dir in its config) */
  confDir: string;
  /** CNI network name, e.g. "flotilla" */
  name: string;
  /** host bridge device, at most 15 characters, e.g. "flt0" */
  bridge: string;
  /** the node's spec.podCIDR (IPv4), e.g. "10.244.0.0/24" */
  podCIDR: string;
  /** host-local's lease store; default <confDir>/../ipam */
  ipamDataDir?: string;
  /** masquerade pod traffic leaving the pod network (off: nothing leaves this machine) */
  ipMasq?: boolean;
  /**
   * the conflist folder of the runtime handler for pods without hostPorts (cri/nohostport.ts):
   * the same network (name, bridge, leases) without portmap goes there too
   */
  noHostPortConfDir?: string;
}

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const NETNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** a.b.c.d/n → the network address and prefix, or a CniConfigError */
export function parseIPv4CIDR(cidr: string): { network: string; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefix < 8 || prefix > 30) throw new CniConfigError(`podCIDR "${cidr}" is not an IPv4 CIDR with a prefix of /8 to /30`);
  const n = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const masked = (n & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0)) >>> 0;
  return { network: [masked >>> 24, (masked >>> 16) & 255, (masked >>> 8) & 255, masked & 255].join('.'), prefix };
}

export class BridgeNetwork implements PodNetwork {
  readonly name: string;
  readonly confFile: string;
  readonly ipamDataDir: string;

  constructor(readonly opts: BridgeNetworkOptions) {
    if (!NETNAME.test(opts.name)) throw new CniConfigError(`CNI network name "${opts.name}" must be letters, digits, '_', '.' and '-'`);
    if (!IFNAME.test(opts.bridge)) throw new CniConfigError(`bridge name "${opts.bridge}" must be 1 to 15 letters, digits, '_', '.' or '-'`);
    parseIPv4CIDR(opts.podCIDR);
    this.name = opts.name;
    this.confFile = path.join(opts.confDir, `10-${opts.name}.conflist`);
    this.ipamDataDir = opts.ipamDataDir ?? path.join(path.dirname(opts.confDir), 'ipam');
  }

  /** The conflist containerd's CRI runs for each sandbox (hostPorts: false, the chain without portmap). */
  conflist(hostPorts = true): object {
    const { network, prefix } = parseIPv4CIDR(this.opts.podCIDR);
    return {
      cniVersion: CNI_VERSION,
      name: this.name,
      plugins: [
        {
          type: 'bridge',
          bridge: this.opts.bridge,
          // the bridge holds the subnet's gateway address, so the host reaches pods by IP
          isGateway: true,
          ipMasq: this.opts.ipMasq ?? false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: `${network}/${prefix}` }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: this.ipamDataDir,
          },
        },
        ...(hostPorts ? [{ type: 'portmap', capabilities: { portMappings: true } }] : []),
      ],
    };
  }

  /** the conflist without portmap, when there is a folder for it */
  private get noHostPortConfFile(): string {
    return path.join(this.opts.noHostPortConfDir ?? noHostPortCniConfDir(this.opts.confDir), path.basename(this.confFile));
  }

  setUp(): void {
    mkdirSync(this.opts.confDir, { recursive: true });
    mkdirSync(this.ipamDataDir, { recursive: true });
    // containerd reads the folder when it changes: the file appears whole (rename) or not at all
    const write = (file: string, conflist: object) => {
      writeFileSync(`${file}.tmp`, JSON.stringify(conflist, null, 2));
      renameSync(`${file}.tmp`, file);
    };
    if (this.opts.noHostPortConfDir) {
      mkdirSync(this.opts.noHostPortConfDir, { recursive: true });
      write(this.noHostPortConfFile, this.conflist(false));
    }
    write(this.confFile, this.conflist());
  }

  /** True when the host has the bridge device. */
  bridgeExists(): boolean {
    return existsSync(path.join('/sys/class/net', this.opts.bridge));
  }

  /** `ip -o link show master <bridge>`: a line per port (the host end of a pod's veth) */
  private portLines(): string {
    return spawnSync('ip', ['-o', 'link', 'show', 'master', this.opts.bridge], { encoding: 'utf8' }).stdout ?? '';
  }

  /** the named network namespaces at the other end of the veths on this bridge */
  podNetworkNamespaces(): string[] {
    return [...this.portLines().matchAll(/ link-netns (\S+)/g)].map((m) => m[1]!);
  }

  /**
   * The bridge and those of its ports whose IPv6 link-local address is still tentative
   * (duplicate address detection, about a second after a pod's veth comes up): until it
   * ends, the host's addresses are still changing.
   */
  tentativeInterfaces(): string[] {
    const ours = new Set([this.opts.bridge, ...[...this.portLines().matchAll(/^\d+: ([^@:\s]+)/gm)].map((m) => m[1]!)]);
    // `ip addr show master` would ignore its filter beside `tentative`: the ports are matched here
    const addrs = spawnSync('ip', ['-j', '-6', 'addr', 'show', 'tentative'], { encoding: 'utf8' }).stdout;
    return (JSON.parse(addrs || '[]') as Array<{ ifname: string }>).map((a) => a.ifname).filter((n) => ours.has(n));
  }

  tearDown(): void {
    for (const f of [this.confFile, this.noHostPortConfFile]) {
      rmSync(f, { force: true });
      rmSync(`${f}.tmp`, { force: true });
    }
    if (this.bridgeExists()) {
      // pods whose runtime stopped without removing them (a sandbox still being created when
      // it stopped): their network namespaces, found by their veths on this bridge, go too
      for (const ns of this.podNetworkNamespaces()) spawnSync('ip', ['netns', 'delete', ns]);
      const r = spawnSync('ip', ['link', 'delete', this.opts.bridge, 'type', 'bridge'], { encoding: 'utf8' });
      if (r.status !== 0 && this.bridgeExists()) throw new CniConfigError(`cannot delete bridge ${this.opts.bridge}: ${r.stderr.trim()}`);
    }
    // host-local keeps its leases under <dataDir>/<network name>
    rmSync(path.join(this.ipamDataDir, this.name), { recursive: true, force: true });
    if (existsSync(this.ipamDataDir) && readdirSync(this.ipamDataDir).length === 0) rmSync(this.ipamDataDir, { recursive: true, force: true });
  }
}
