/**
 * What a real node needs on this machine before containerd can run pods: root (runc,
 * network namespaces, bridges and iptables need it) and the files of the Debian packages
 * that bin/node-packages.js installs. Checked by looking for the files themselves, so it
 * costs a few stat calls and answers the same wherever the packages came from.
 */
import { accessSync, constants } from 'node:fs';

/** Each file a real node uses, with the Debian package that ships it. */
export const NODE_FILES: ReadonlyArray<{ file: string; pkg: string }> = [
  { file: '/usr/bin/containerd', pkg: 'containerd' },
  { file: '/usr/bin/ctr', pkg: 'containerd' },
  { file: '/usr/bin/containerd-shim-runc-v2', pkg: 'containerd' },
  { file: '/usr/sbin/runc', pkg: 'runc' },
  { file: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins' },
  { file: '/usr/lib/cni/host-local', pkg: 'containernetworking-plugins' },
  { file: '/usr/lib/cni/loopback', pkg: 'containernetworking-plugins' },
  { file: '/usr/lib/cni/portmap', pkg: 'containernetworking-plugins' },
  { file: '/bin/busybox', pkg: 'busybox-static' },
  { file: '/usr/sbin/iptables', pkg: 'iptables' },
  { file: '/usr/sbin/nft', pkg: 'nftables' },
  { file: '/usr/sbin/conntrack', pkg: 'conntrack' },
  { file: '/usr/bin/gcc', pkg: 'gcc' },
  { file: '/usr/lib/x86_64-linux-gnu/libc.a', pkg: 'libc6-dev' },
  { file: '/usr/bin/docker-registry', pkg: 'docker-registry' },
  { file: '/usr/bin/skopeo', pkg: 'skopeo' },
  { file: '/usr/bin/dig', pkg: 'bind9-dnsutils' },
];

export class NodeHostError extends Error {
  constructor(
    message: string,
    readonly missingPackages: string[],
  ) {
    super(message);
    this.name = 'NodeHostError';
  }
}

export interface NodeHostCheck {
  root: boolean;
  /** packages with at least one file missing, in NODE_FILES order */
  missingPackages: string[];
}

export function checkNodeHost(): NodeHostCheck {
  const missing = new Set<string>();
  for (const { file, pkg } of NODE_FILES) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      missing.add(pkg);
    }
  }
  return { root: process.getuid?.() === 0, missingPackages: [...missing] };
}

/** The one command that makes this machine able to run a real node. */
export function installCommand(missingPackages: string[]): string {
  return `sudo apt-get update && sudo apt-get install -y ${missingPackages.join(' ')}`;
}

/** Throws a NodeHostError saying exactly what to do when a real node cannot run here. */
export function requireNodeHost(what = 'a real node'): void {
  const { root, missingPackages } = checkNodeHost();
  const problems: string[] = [];
  if (!root) problems.push(`${what} needs root (containerd, runc, network namespaces and bridges); run it as root`);
  if (missingPackages.length) problems.push(`${what} needs Debian packages that are missing (${missingPackages.join(', ')}); install them with: ${installCommand(missingPackages)}  (as root, node bin/ensure.js does it)`);
  if (problems.length) throw new NodeHostError(problems.join('; '), missingPackages);
}
