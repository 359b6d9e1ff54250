/**
 * containerd's configuration for a Flotilla node: every path containerd owns (root,
 * state, sockets, the opt plugin's folder) under one data folder, so several clusters or
 * tests on one machine never share a store. The CRI plugin is set for this kind of
 * machine: the sandbox image is the locally built pause (never pulled: the default
 * would fetch registry.k8s.io/pause), runc with cgroupfs (cgroups v1 here; crun fails in
 * hybrid mode), restrict_oom_score_adj (root lacks CAP_SYS_RESOURCE, so runc cannot lower
 * oom_score_adj), overlayfs, and CNI from Flotilla's network config folder with the
 * plugins of Debian's containernetworking-plugins.
 *
 * Registries: containerd may pull only from the local registry on 127.0.0.1. Its
 * `config_path` folder (certs.d) names each local registry host with a hosts.toml that
 * points at 127.0.0.1 over plain HTTP; every other host would be reached through a
 * proxy that does not exist (`CONTAINERD_ENV`: a loopback port nothing listens on), so
 * a pull from docker.io or any other host fails on the machine itself, without even a
 * DNS query leaving it. Go never proxies loopback addresses, so the local registry stays
 * reachable.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The pause image Flotilla builds and imports (images/local.ts); upstream's name and tag. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.9';
export const CNI_BIN_DIR = '/usr/lib/cni';
/**
 * The runtime handler for pods without hostPorts: the same runc, with a CNI chain
 * without portmap (its own conflist folder, noHostPortCniConfDir). portmap does nothing
 * for such a pod but is still a process started at each sandbox's set-up and tear-down;
 * on this kind of machine every process start costs ~10–20 ms of CPU.
 */
export const NO_HOSTPORT_RUNTIME_HANDLER = 'runc-nohostport';
/** The conflist folder of NO_HOSTPORT_RUNTIME_HANDLER, beside the network's own. */
export function noHostPortCniConfDir(cniConfDir: string): string {
  return `${cniConfDir.replace(/\/+$/, '')}-nohostport`;
}
/** The local registry `flotilla up` runs (its default port). */
export const LOCAL_REGISTRY_PORT = 5000;
/** a loopback port nothing listens on (discard): every proxied connection is refused at once */
const DEAD_PROXY = 'http://127.0.0.1:9';

/** containerd's environment additions: any pull not from loopback goes to a dead proxy and fails on this machine. */
export const CONTAINERD_ENV: Readonly<Record<string, string>> = {
  HTTPS_PROXY: DEAD_PROXY,
  HTTP_PROXY: DEAD_PROXY,
  https_proxy: DEAD_PROXY,
  http_proxy: DEAD_PROXY,
  NO_PROXY: '127.0.0.1,localhost,::1',
  no_proxy: '127.0.0.1,localhost,::1',
};

export interface ContainerdPaths {
  /** the folder everything below lives in */
  dir: string;
  config: string;
  root: string;
  state: string;
  /** the gRPC (CRI) socket */
  socket: string;
  ttrpcSocket: string;
  /** the registry hosts folder (CRI registry.config_path): <host>/hosts.toml */
  certsDir: string;
  /** CNI network config folder the CRI plugin reads */
  cniConfDir: string;
  cniBinDir: string;
}

export interface ContainerdConfigOptions {
  /** containerd's folder, e.g. <data>/containerd */
  dir: string;
  /** Flotilla's CNI config folder, e.g. <data>/cni/net.d */
  cniConfDir: string;
  cniBinDir?: string;
  sandboxImage?: string;
  snapshotter?: 'overlayfs' | 'native';
  /** the local registry's port on 127.0.0.1 (default 5000) */
  registryPort?: number;
  /**
   * where exec/attach/port-forward streams are served (default 127.0.0.1): a containerd in a
   * node's network namespace serves on the node's address, which the kubelet outside reaches
   */
  streamServerAddress?: string;
}

export function containerdPaths(dir: string, cniConfDir: string, cniBinDir = CNI_BIN_DIR): ContainerdPaths {
  return {
    dir,
    config: path.join(dir, 'config.toml'),
    root: path.join(dir, 'root'),
    state: path.join(dir, 'state'),
    socket: path.join(dir, 'containerd.sock'),
    ttrpcSocket: path.join(dir, 'containerd.sock.ttrpc'),
    certsDir: path.join(dir, 'certs.d'),
    cniConfDir,
    cniBinDir,
  };
}

/** TOML basic string: JSON's escaping is a subset TOML accepts for these values. */
function q(s: string): string {
  return JSON.stringify(s);
}

export function renderContainerdConfig(p: ContainerdPaths, opts: Pick<ContainerdConfigOptions, 'sandboxImage' | 'snapshotter' | 'streamServerAddress'> = {}): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by Flotilla (services/kubelet/containerd/config.ts); rewritten at each start.
version = 2
root = ${q(p.root)}
state = ${q(p.state)}
# snapshotters this machine has no use for: skipped rather than probed at start
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = ${q(p.socket)}

[ttrpc]
  address = ${q(p.ttrpcSocket)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(path.join(p.dir, 'opt'))}

[${cri}]
  sandbox_image = ${q(opts.sandboxImage ?? PAUSE_IMAGE)}
  restrict_oom_score_adj = true
  # exec/attach/port-forward streams: loopback (or a namespaced node's address) only, on a port of the kernel's choosing
  stream_server_address = ${q(opts.streamServerAddress ?? '127.0.0.1')}
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384

[${cri}.containerd]
  snapshotter = ${q(opts.snapshotter ?? 'overlayfs')}
  default_runtime_name = "runc"
  discard_unpacked_layers = false

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  BinaryName = "/usr/sbin/runc"

# pods without hostPorts (the kubelet picks it): no portmap in their network's chain
[${cri}.containerd.runtimes.${NO_HOSTPORT_RUNTIME_HANDLER}]
  runtime_type = "io.containerd.runc.v2"
  cni_conf_dir = ${q(noHostPortCniConfDir(p.cniConfDir))}
  cni_max_conf_num = 1

[${cri}.containerd.runtimes.${NO_HOSTPORT_RUNTIME_HANDLER}.options]
  SystemdCgroup = false
  BinaryName = "/usr/sbin/runc"

[${cri}.cni]
  bin_dir = ${q(p.cniBinDir)}
  conf_dir = ${q(p.cniConfDir)}
  max_conf_num = 1
  conf_template = ""

[${cri}.registry]
  # hosts.toml per local registry host; containerd reads them at each pull
  config_path = ${q(p.certsDir)}
`;
}

/** hosts.toml for a registry on 127.0.0.1:port: plain HTTP, on loopback. */
export function renderLocalRegistryHosts(port: number): string {
  return `# Written by Flotilla (services/kubelet/containerd/config.ts): the local registry, plain HTTP on loopback.
server = ${q(`http://127.0.0.1:${port}`)}

[host.${q(`http://127.0.0.1:${port}`)}]
  capabilities = ["pull", "resolve"]
`;
}

/**
 * Makes `localhost:port` and `127.0.0.1:port` the local registry on 127.0.0.1:port for
 * the containerd of this folder (read at the next pull: no restart needed).
 */
export function writeLocalRegistryHosts(certsDir: string, port: number): void {
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
    const dir = path.join(certsDir, host);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'hosts.toml'), renderLocalRegistryHosts(port));
  }
}

/** Writes config.toml and the local registry's hosts.toml, creates the folders they name; returns the paths. */
export function writeContainerdConfig(opts: ContainerdConfigOptions): ContainerdPaths {
  const p = containerdPaths(opts.dir, opts.cniConfDir, opts.cniBinDir);
  for (const d of [p.dir, p.root, p.state, p.cniConfDir, noHostPortCniConfDir(p.cniConfDir)]) mkdirSync(d, { recursive: true, mode: 0o711 });
  // a registry port chosen last time is no local registry now
  rmSync(p.certsDir, { recursive: true, force: true });
  writeLocalRegistryHosts(p.certsDir, opts.registryPort ?? LOCAL_REGISTRY_PORT);
  writeFileSync(p.config, renderContainerdConfig(p, opts));
  return p;
}
