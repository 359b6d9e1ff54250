/**
 * Starts containerd with Flotilla's config (config.ts), waits until its CRI answers, and
 * stops it. Two ways to run it: `processSpec()` gives the command line for `flotilla up`'s
 * supervisor (cli/supervisor.ts restarts it when it dies), and `start()`/`stop()` run it
 * directly (tests, or a kubelet started on its own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CriClient, type VersionResponse } from '../cri/client.js';
import { CONTAINERD_ENV, writeContainerdConfig, type ContainerdConfigOptions, type ContainerdPaths } from './config.js';

export const CONTAINERD_BIN = '/usr/bin/containerd';
export const NSENTER_BIN = '/usr/bin/nsenter';

export interface ContainerdLauncherOptions extends ContainerdConfigOptions {
  /**
   * run containerd in this network namespace (/run/netns/NAME, `ip netns add`), so the pod
   * network it sets up (bridge, pods' veths) hangs off that namespace: a second node on one
   * machine. Only the network namespace changes (nsenter --net): `ip netns exec` would also
   * remount /sys, hiding /sys/fs/cgroup from runc.
   */
  netns?: string;
}
const STOP_GRACE_MS = 10_000;

export class ContainerdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerdError';
  }
}

/** The supervisor's ProcessSpec shape (cli/supervisor.ts), without importing the cli. */
export interface ContainerdProcessSpec {
  name: string;
  command: string;
  args: string[];
  /** the whole environment: this process's plus CONTAINERD_ENV (no pull leaves the machine) */
  env: NodeJS.ProcessEnv;
}

/**
 * Polls the CRI Version call until it answers (containerd creates the socket before the
 * CRI plugin serves on it) or the deadline passes.
 */
export async function waitForCri(socket: string, timeoutMs = 20_000, isAlive: () => boolean = () => true): Promise<VersionResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new ContainerdError(`containerd exited before its CRI answered on ${socket}`);
    const client = new CriClient(socket);
    try {
      return await client.version(1000);
    } catch (e) {
      last = e;
    } finally {
      client.close();
    }
    await sleep(100);
  }
  throw new ContainerdError(`containerd's CRI did not answer on ${socket} within ${timeoutMs} ms: ${(last as Error)?.message ?? 'no answer'}`);
}

export class ContainerdLauncher {
  readonly paths: ContainerdPaths;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** containerd's own log lines */
  readonly logFile: string;

  constructor(readonly opts: ContainerdLauncherOptions) {
    this.paths = writeContainerdConfig(opts);
    this.logFile = path.join(opts.dir, 'containerd.log');
  }

  processSpec(): ContainerdProcessSpec {
    const env = { ...process.env, ...CONTAINERD_ENV };
    const args = ['--config', this.paths.config];
    // nsenter execs containerd: same pid, and its command line is containerd's (cli/up.ts strayContainerds)
    if (this.opts.netns) return { name: 'containerd', command: NSENTER_BIN, args: [`--net=/run/netns/${this.opts.netns}`, CONTAINERD_BIN, ...args], env };
    return { name: 'containerd', command: CONTAINERD_BIN, args, env };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** how the last containerd run ended: its exit code, or the signal that ended it */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    const c = this.child;
    return c && (c.exitCode !== null || c.signalCode !== null) ? { code: c.exitCode, signal: c.signalCode } : undefined;
  }

  get running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  /** Starts containerd (output to logFile) and resolves once its CRI answers. */
  async start(timeoutMs = 20_000): Promise<VersionResponse> {
    if (this.running) throw new ContainerdError(`containerd is already running (pid ${this.child!.pid})`);
    const spec = this.processSpec();
    const log = openSync(this.logFile, 'a');
    try {
      // its own process group: a stop reaches containerd only, never the shims, which must
      // outlive it (pods keep running across a containerd restart)
      this.child = spawn(spec.command, spec.args, { stdio: ['ignore', log, log], detached: true, env: spec.env });
    } finally {
      closeSync(log);
    }
    const child = this.child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    try {
      return await waitForCri(this.paths.socket, timeoutMs, () => this.running);
    } catch (e) {
      await this.stop();
      throw new ContainerdError(`${(e as Error).message} (see ${this.logFile})`);
    }
  }

  /** SIGTERM, then SIGKILL after the grace period. Idempotent. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (killed) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }
}
