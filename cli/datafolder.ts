/**
 * The cluster's data folder and the NATS server that lives in it.
 *
 * Layout of a data folder:
 *   cluster.json   what `flotilla up` chose (NATS URL and port, apiserver URL, its pid)
 *   nats/          the nats-server store directory (JetStream data: every object)
 *   kubeconfig     written by `flotilla up`
 *   containerd/    the real node's containerd (config, root, state, socket, certs.d)
 *   registry/      the real node's local registry (config.yml, data/)
 *   kubelet/       the real node's kubelet (image archives, pod logs)
 *
 * The NATS port is remembered in cluster.json so a restart reuses it when it is free;
 * the objects persist either way because JetStream keeps them under nats/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/nats/server.js';
import { containerdPaths } from '../services/kubelet/containerd/config.js';

/** The package root (this file runs as dist/cli/datafolder.js). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The compiled CLI entry point, which supervised services are started through. */
export const CLI_MAIN = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');

export function defaultDataDir(): string {
  return path.resolve(process.env.FLOTILLA_DATA || path.join(PROJECT_ROOT, '.flotilla', 'data'));
}

export function resolveDataDir(flag?: string): string {
  return flag ? path.resolve(flag) : defaultDataDir();
}

export interface ClusterState {
  /** the NATS URL the cluster's services use */
  natsUrl: string;
  /** true when `flotilla up` runs nats-server itself on this data folder */
  managedNats: boolean;
  /** port of the managed nats-server, reused on the next start when free */
  natsPort?: number;
  bucket: string;
  apiserverUrl?: string;
  /** the real node's containerd (CRI endpoint), when the cluster has one */
  containerRuntimeEndpoint?: string;
  /** the Prometheus `up` runs, when it runs one */
  prometheusUrl?: string;
  /** the dashboard's URL, when up runs it */
  dashboardUrl?: string;
  /** pid of the running launcher; absent once it stopped cleanly */
  pid?: number;
  /** real nodes 2..N (up --nodes N): their network namespaces, recorded before they are made (cli/netnsnodes.ts) */
  netnsNodes?: Array<{ name: string; hostInterface: string; linkCIDR: string; dir: string }>;
}

export function statePath(dataDir: string): string {
  return path.join(dataDir, 'cluster.json');
}

/**
 * The CRI endpoint of the real node's containerd on this data folder: the one the last
 * `flotilla up` used, else the one it runs (<data>/containerd, containerd/config.ts).
 */
export function nodeRuntimeEndpoint(dataDir: string): string {
  return readState(dataDir)?.containerRuntimeEndpoint ?? `unix://${containerdPaths(path.join(dataDir, 'containerd'), '').socket}`;
}

export function natsStoreDir(dataDir: string): string {
  return path.join(dataDir, 'nats');
}

export function readState(dataDir: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dataDir), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export function writeState(dataDir: string, state: ClusterState): void {
  mkdirSync(dataDir, { recursive: true });
  const tmp = statePath(dataDir) + '.tmp';
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, statePath(dataDir));
}

/** True when pid is a live flotilla launcher (not some other process that reused the pid). */
export function isLauncherAlive(pid: number | undefined): boolean {
  if (!pid || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('flotilla') || cmd.includes(path.join('dist', 'cli', 'main.js'));
  } catch {
    return true;
  }
}

/** The state of a launcher running on this data folder right now, if any. */
export function runningCluster(dataDir: string): ClusterState | undefined {
  const s = readState(dataDir);
  return s && isLauncherAlive(s.pid) ? s : undefined;
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export async function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** `preferred` when it is free, else a free port; `moved` says which. 0 means any free port. */
export async function choosePort(preferred: number | undefined, host = '127.0.0.1'): Promise<{ port: number; moved: boolean }> {
  if (preferred && (await isPortFree(preferred, host))) return { port: preferred, moved: false };
  return { port: await freePort(host), moved: Boolean(preferred) };
}

/**
 * The nats-server binary: NATS_SERVER_BIN, else PATH, else the sbin folders Debian
 * installs it into (not on a normal user's PATH).
 */
export function natsServerBinary(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of [...dirs, '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const p = path.join(d, 'nats-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* try the next folder */
    }
  }
  throw new Error('nats-server is not installed; install it with: sudo apt-get install -y nats-server');
}

/** Arguments for a JetStream nats-server on 127.0.0.1:port keeping its data in the data folder. */
export function natsServerArgs(dataDir: string, port: number): string[] {
  return ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', natsStoreDir(dataDir)];
}

/**
 * nats-servers serving this data folder's store that no launcher supervises: left over
 * when a launcher was killed outright (SIGKILL cannot be caught). Found by their
 * command line, which names the store directory.
 */
export function strayNatsServers(dataDir: string): Array<{ pid: number; port: number }> {
  const store = natsStoreDir(dataDir);
  const found: Array<{ pid: number; port: number }> = [];
  for (const { pid, argv } of processes()) {
    if (!argv[0]?.endsWith('nats-server')) continue;
    const sd = argv.indexOf('-sd');
    if (sd < 0 || path.resolve(argv[sd + 1] ?? '') !== store) continue;
    found.push({ pid, port: Number(argv[argv.indexOf('-p') + 1]) });
  }
  return found;
}

/** Every process's pid and command line, from /proc (none where there is no /proc). */
export function processes(): Array<{ pid: number; argv: string[] }> {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const pid of pids) {
    try {
      out.push({ pid: Number(pid), argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** SIGTERM, then SIGKILL after graceMs; resolves once pid is gone (or a zombie nobody reaps). */
export async function terminate(pid: number, graceMs = 10_000): Promise<void> {
  const send = (sig: NodeJS.Signals | 0) => {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  const zombie = () => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return true;
    }
  };
  if (!send('SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (send(0) && !zombie()) {
    if (Date.now() > deadline) send('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once host:port accepts connections; rejects if `child` exits first or after timeoutMs. */
export async function waitForListener(port: number, child: ChildProcess | undefined, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isPortOpen(port))) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what} exited (code ${child.exitCode ?? child.signalCode}) before listening on port ${port}`);
    }
    if (Date.now() > deadline) throw new Error(`${what} is not listening on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Runs `fn` with a NATS URL serving this data folder's store: the running cluster's NATS
 * when a launcher is up on it, else a nats-server started for the duration of `fn`
 * (used by backup and restore, which must not open the store beside a running server).
 */
export async function withDataFolderNats<T>(
  dataDir: string,
  fn: (natsUrl: string, state: ClusterState | undefined) => Promise<T>,
  log: (line: string) => void = () => undefined,
): Promise<T> {
  const running = runningCluster(dataDir);
  if (running) {
    log(`using the running cluster's NATS at ${running.natsUrl} (launcher pid ${running.pid})`);
    return await fn(running.natsUrl, running);
  }
  const state = readState(dataDir);
  if (state && !state.managedNats) {
    log(`using NATS at ${state.natsUrl} (named when the cluster was started)`);
    return await fn(state.natsUrl, state);
  }
  const stray = strayNatsServers(dataDir).find((n) => n.port > 0);
  if (stray && (await isPortOpen(stray.port))) {
    log(`using nats-server pid ${stray.pid} left running on this data folder (port ${stray.port})`);
    return await fn(`nats://127.0.0.1:${stray.port}`, state);
  }
  mkdirSync(natsStoreDir(dataDir), { recursive: true });
  const port = await freePort();
  const bin = natsServerBinary();
  const child = spawn(bin, natsServerArgs(dataDir, port), { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  try {
    await waitForListener(port, child, 'nats-server').catch((e: Error) => {
      throw new Error(`${e.message}\n${stderr}`);
    });
    log(`started nats-server for ${natsStoreDir(dataDir)} on port ${port}`);
    return await fn(`nats://127.0.0.1:${port}`, state);
  } finally {
    if (child.pid !== undefined) await stopGroup(child, exited);
  }
}

/** SIGTERM to the child's process group, SIGKILL after 10 s; resolves once it exited. */
async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const t = setTimeout(() => signal('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}
