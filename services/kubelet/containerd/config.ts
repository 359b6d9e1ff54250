/**
 * containerd's configuration for a Flotilla node: every path containerd owns (root,
 * state, sockets, the opt plugin's folder) under one data folder, so several clusters or
 * tests on one machine never share a store. The CRI plugin is set for this kind of
 * machine: the sandbox image is the locally built pause (never pulled: the default
 * would fetch registry.k8s.io/pause), runc with cgroupfs (cgroups v1 here; crun fails in
 * hybrid mode), restrict_oom_score_adj (root lacks CAP_SYS_RESOURCE, so runc cannot lower
 * oom_score_adj), overlayfs, and CNI from Flotilla's network config folder with the
 * plugins of Debian's containernetworking-plugins.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The pause image Flotilla builds and imports (images/local.ts); upstream's name and tag. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.9';
export const CNI_BIN_DIR = '/usr/lib/cni';

export interface ContainerdPaths {
  /** the folder everything below lives in */
  dir: string;
  config: string;
  root: string;
  state: string;
  /** the gRPC (CRI) socket */
  socket: string;
  ttrpcSocket: string;
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
}

export function containerdPaths(dir: string, cniConfDir: string, cniBinDir = CNI_BIN_DIR): ContainerdPaths {
  return {
    dir,
    config: path.join(dir, 'config.toml'),
    root: path.join(dir, 'root'),
    state: path.join(dir, 'state'),
    socket: path.join(dir, 'containerd.sock'),
    ttrpcSocket: path.join(dir, 'containerd.sock.ttrpc'),
    cniConfDir,
    cniBinDir,
  };
}

/** TOML basic string: JSON's escaping is a subset TOML accepts for these values. */
function q(s: string): string {
  return JSON.stringify(s);
}

export function renderContainerdConfig(p: ContainerdPaths, opts: Pick<ContainerdConfigOptions, 'sandboxImage' | 'snapshotter'> = {}): string {
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
  # exec/attach/port-forward streams: loopback only, on a port of the kernel's choosing
  stream_server_address = "127.0.0.1"
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

[${cri}.cni]
  bin_dir = ${q(p.cniBinDir)}
  conf_dir = ${q(p.cniConfDir)}
  max_conf_num = 1
  conf_template = ""

[${cri}.registry]
  config_path = ""
`;
}

/** Writes config.toml and creates the folders it names; returns the paths. */
export function writeContainerdConfig(opts: ContainerdConfigOptions): ContainerdPaths {
  const p = containerdPaths(opts.dir, opts.cniConfDir, opts.cniBinDir);
  for (const d of [p.dir, p.root, p.state, p.cniConfDir]) mkdirSync(d, { recursive: true, mode: 0o711 });
  writeFileSync(p.config, renderContainerdConfig(p, opts));
  return p;
}
