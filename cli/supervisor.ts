/**
 * Supervised child processes for `flotilla up`: each runs in its own process group (so
 * a stop reaches everything it spawned, and the terminal's Ctrl-C reaches only the
 * launcher, which then stops the children in order), its output lines are prefixed with
 * its name, and it is restarted with exponential backoff when it dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import type { Writable } from 'node:stream';
import { SUPERVISOR_PID_ENV } from '../lib/process/lifecycle.js';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface SupervisorOutput {
  stdout: Writable;
  stderr: Writable;
  /** the launcher's own messages */
  log: (line: string) => void;
}

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/** a child that ran this long is considered healthy again: its next crash restarts fast */
const STABLE_AFTER_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** a stop that took this long is reported with its time */
const SLOW_STOP_MS = 1000;

export class SupervisedProcess {
  child: ChildProcess | undefined;
  restarts = 0;
  private stopping = false;
  private failures = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: ProcessSpec,
    private readonly out: SupervisorOutput,
    private readonly prefixWidth = spec.name.length,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  start(): void {
    this.stopping = false;
    this.spawnChild();
  }

  private spawnChild(): void {
    const { name, command, args, env } = this.spec;
    // a Flotilla component watches this pid, not whatever parent it finds once it runs
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...(env ?? process.env), [SUPERVISOR_PID_ENV]: String(process.pid) } });
    this.child = child;
    this.startedAt = Date.now();
    const prefix = `${name.padEnd(this.prefixWidth)} | `;
    readline.createInterface({ input: child.stdout! }).on('line', (l) => this.out.stdout.write(prefix + l + '\n'));
    readline.createInterface({ input: child.stderr! }).on('line', (l) => this.out.stderr.write(prefix + l + '\n'));
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (e) => {
        this.out.log(`${name}: cannot start ${command}: ${e.message}`);
        if (child.pid === undefined) {
          resolve();
          this.onExit(null, null);
        }
      });
      child.once('exit', (code, signal) => {
        // Reap whatever the child left in its group (grandchildren) before moving on.
        killGroup(child, 'SIGKILL');
        resolve();
        this.onExit(code, signal);
      });
    });
    if (child.pid !== undefined) this.out.log(`started ${name} (pid ${child.pid})`);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const ranMs = Date.now() - this.startedAt;
    this.failures = ranMs >= STABLE_AFTER_MS ? 1 : this.failures + 1;
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.failures - 1));
    const how = signal ? `signal ${signal}` : `code ${code}`;
    this.out.log(`${this.spec.name} exited with ${how}; restarting in ${delay / 1000}s`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.spawnChild();
    }, delay);
  }

  /** SIGTERM to the process group, SIGKILL after a grace period; resolves when it is gone. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child || !this.running) return;
    const since = Date.now();
    killGroup(child, 'SIGTERM');
    const t = setTimeout(() => {
      this.out.log(`${this.spec.name} did not stop within ${graceMs / 1000}s; killing it`);
      killGroup(child, 'SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(t);
    // a slow stop is named with its time: Ctrl-C waits on each component in turn
    const tookMs = Date.now() - since;
    this.out.log(`stopped ${this.spec.name}${tookMs >= SLOW_STOP_MS ? ` (after ${(tookMs / 1000).toFixed(1)} s)` : ''}`);
  }

  /** Last resort when the launcher itself is exiting: synchronous SIGKILL of the group. */
  killNow(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.child && this.running) killGroup(this.child, 'SIGKILL');
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* the group is already gone */
  }
}
