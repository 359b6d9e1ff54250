/**
 * The Debian packages a real node needs (containerd through CRI, runc, the CNI plugins,
 * busybox-static for the local busybox image, gcc and libc6-dev to build the local pause
 * image, the netfilter tools for Services, and docker-registry and skopeo for the local
 * registry and the images pushed to it, and dig for the cluster DNS), installed with apt-get when running as
 * root; otherwise the exact command to run. Plain JavaScript: bin/ensure.js runs it
 * before anything is compiled.
 */
import { spawnSync } from 'node:child_process';

export const NODE_PACKAGES = [
  'containerd',
  'runc',
  'containernetworking-plugins',
  'busybox-static',
  'iptables',
  'nftables',
  'conntrack',
  'gcc',
  'libc6-dev',
  'docker-registry',
  'skopeo',
  'bind9-dnsutils',
];

/**
 * The monitoring addons' packages: Prometheus (Debian's 2.42), which `flotilla up` runs as
 * its own supervised child (its config and data under the data folder). Installed without
 * recommends: prometheus-node-exporter would come along as a system service.
 */
export const ADDON_PACKAGES = ['prometheus'];

/**
 * What the tests need beyond a node and the addons: Debian's Chromium, which the
 * dashboard's tests and benchmark drive with playwright-core (no browser is downloaded).
 */
export const TEST_PACKAGES = ['chromium'];

/** The command that installs packages (services/kubelet/host/prerequisites.ts says the same). */
function installCommand(packages, flags = []) {
  return `sudo apt-get update && sudo apt-get install -y ${[...flags, ...packages].join(' ')}`;
}

/** The packages of NODE_PACKAGES that dpkg does not list as installed (one dpkg-query call). */
export function missingNodePackages(packages = NODE_PACKAGES) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], { encoding: 'utf8' });
  if (r.error) return [...packages]; // no dpkg: not Debian, nothing can be checked
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name.replace(/:.*$/, '')),
  );
  return packages.filter((p) => !installed.has(p));
}

/**
 * Installs what is missing when running as root (apt-get update first: a fresh machine
 * may have no package lists). Returns the packages still missing, with the command
 * that installs them for a caller that is not root.
 */
export function ensureNodePackages({ say = (l) => process.stderr.write(`ensure: ${l}\n`), packages = NODE_PACKAGES, what = "the node's", flags = [] } = {}) {
  let missing = missingNodePackages(packages);
  if (missing.length === 0) return { missing, command: '' };
  if (process.getuid?.() === 0) {
    say(`installing ${what} Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', ...flags, ...missing], { stdio: 'inherit', env });
    missing = missingNodePackages(packages);
  }
  return { missing, command: missing.length ? installCommand(missing, flags) : '' };
}

/** The addons' packages (ADDON_PACKAGES), as ensureNodePackages does the node's. */
export function ensureAddonPackages({ say } = {}) {
  return ensureNodePackages({ say, packages: ADDON_PACKAGES, what: 'the monitoring addons\'', flags: ['--no-install-recommends'] });
}

/** The tests' packages (TEST_PACKAGES), as ensureNodePackages does the node's. */
export function ensureTestPackages({ say } = {}) {
  return ensureNodePackages({ say, packages: TEST_PACKAGES, what: 'the tests\'', flags: ['--no-install-recommends'] });
}
