/**
 * A whole cluster as a user starts it: `flotilla up` as a child process (its own
 * nats-server on a fresh data folder), the stock kubectl against its kubeconfig, and the
 * processes below it read from /proc.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../cli/datafolder.js';

const exec = promisify(execFile);

export interface Launch {
  child: ChildProcess;
  kubeconfig: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** The environment every child gets: no inherited cluster, no rebuild on start. */
export const CHILD_ENV = { ...process.env, NATS_URL: '', FLOTILLA_DATA: '', FLOTILLA_SKIP_BUILD: '1' };

/** A `flotilla <verb> ...` process as a user starts it, its output collected. */
export function spawnFlotilla(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'flotilla.js'), ...args], {
    cwd: PROJECT_ROOT,
    env: CHILD_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** `flotilla up --data dataDir --port 0 ...extra`, resolved once it printed the export line. */
export async function launchUp(dataDir: string, extra: string[] = []): Promise<Launch> {
  const up = spawnFlotilla(['up', '--data', dataDir, '--port', '0', ...extra]);
  const kubeconfig = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /^export KUBECONFIG=(.+)$/m.exec(up.output());
      if (m) resolve(m[1]!);
    };
    up.child.stdout!.on('data', check);
    void up.exited.then((code) => reject(new Error(`flotilla up exited with ${code} before printing KUBECONFIG:\n${up.output()}`)));
  });
  return { ...up, kubeconfig };
}

/** Stops a child with SIGTERM (if still running) and waits for it to exit. */
export async function stopChild(l: { child: ChildProcess; exited: Promise<number | null> } | undefined): Promise<void> {
  if (!l || l.child.exitCode !== null || l.child.signalCode !== null) return;
  l.child.kill('SIGTERM');
  await l.exited;
}

/** The stock kubectl against kubeconfig; rejects with its stderr on a non-zero exit. */
export async function kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await exec('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 180_000, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

/** Every process below pid, from /proc. */
export function descendants(pid: number): Array<{ pid: number; cmdline: string }> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: Array<{ pid: number; cmdline: string }> = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${c}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        /* exited meanwhile */
      }
      out.push({ pid: c, cmdline });
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Running (a zombie whose orphaned parent nobody reaps counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
