/**
 * Clusters for tests and benchmarks, each part a child process as in production:
 *  - a whole cluster as a user starts it: `flotilla up` (its own nats-server on a fresh
 *    data folder), the stock kubectl against its kubeconfig, and the processes below it
 *    read from /proc;
 *  - a control plane for benchmarks: its own nats-server (free port, temporary data
 *    folder), apiserver replicas and optionally a scheduler, reached only over NATS and
 *    HTTP as an outside user would, so the benchmark client never shares their event loop;
 *  - single components (`flotilla <verb>`) and stopping any of them.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../cli/datafolder.js';
import { freePort, startNatsServer, type NatsServerHandle } from '../lib/nats/server.js';
import { APISERVER_NODE_FLAGS } from '../services/apiserver/nodeflags.js';
import { SCHEDULER_NODE_FLAGS } from '../services/scheduler/nodeflags.js';

/** The build's entry points: the CLI and the scheduler service. */
const CLI_MAIN = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
export const SCHEDULER_MAIN = path.join(PROJECT_ROOT, 'dist', 'services', 'scheduler', 'main.js');

/** old-space limit of benchmarked server processes, MiB */
const SERVER_HEAP_MB = 12288;

const exec = promisify(execFile);

export interface Launch {
  child: ChildProcess;
  kubeconfig: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** The environment every child gets: no inherited cluster, no rebuild on start. */
export const CHILD_ENV = { ...process.env, NATS_URL: '', FLOTILLA_DATA: '', FLOTILLA_SKIP_BUILD: '1' };

/** Another user to run a process as (a test that is root checks what an ordinary user sees). */
export interface RunAs {
  uid: number;
  gid: number;
  /** the checkout to run (default PROJECT_ROOT): one this user can reach */
  projectRoot?: string;
}

/** A `flotilla <verb> ...` process as a user starts it, its output collected. */
export function spawnFlotilla(args: string[], as?: RunAs): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const root = as?.projectRoot ?? PROJECT_ROOT;
  const child = spawn(process.execPath, [path.join(root, 'bin', 'flotilla.js'), ...args], {
    cwd: root,
    env: CHILD_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(as && { uid: as.uid, gid: as.gid }),
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/**
 * Stops a child (a process, or what spawnFlotilla/launchUp returned): SIGTERM (servers shut
 * down cleanly and write their CPU profiles), SIGKILL if it hangs; resolves once it exited.
 */
export async function stopChild(l: ChildProcess | { child: ChildProcess } | undefined): Promise<void> {
  const child = l && 'child' in l ? l.child : l;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** A cluster component (`flotilla <args>`) as a child process; its stderr is passed on, labelled. */
export function component(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => process.stderr.write(`[${args[0]}] ${chunk}`));
  return child;
}

/** `flotilla up --data dataDir --port 0 ...extra`, resolved once it printed the export line. */
export async function launchUp(dataDir: string, extra: string[] = [], as?: RunAs): Promise<Launch> {
  const up = spawnFlotilla(['up', '--data', dataDir, '--port', '0', ...extra], as);
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

// ---- a control plane for benchmarks ----

export interface Cluster {
  natsUrl: string;
  /** nats-server's HTTP monitoring (/varz): benchmarks read its message and byte counters */
  natsMonitorUrl?: string;
  httpUrl: string;
  nats: NatsServerHandle;
  /** the first apiserver */
  apiserver: ChildProcess;
  apiservers: ChildProcess[];
  dataDir: string;
  /** the scheduler's /metrics, when the cluster runs one */
  schedulerMetricsUrl?: string;
  /** the processes whose memory a benchmark reports, by role */
  pids: Record<string, number | undefined>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** write a V8 CPU profile of the apiserver into this folder when it exits */
  profileDir?: string;
  /** leave the data folder in place (for looking at the bucket afterwards) */
  keepData?: boolean;
  /** apiserver replicas (default 1) */
  apiservers?: number;
  /** nats-server's soft memory limit (GOMEMLIMIT, e.g. "2GiB"; default none) */
  natsMemoryLimit?: string;
  /** how long each process may take to say it serves */
  startTimeoutMs?: number;
  /** --tracing-* flags for the apiserver and the scheduler (default: none, their default rate) */
  tracingArgs?: string[];
  /** more apiserver flags (e.g. --service-cluster-ip-range) */
  apiserverArgs?: string[];
  /** run a scheduler too (one, as upstream's scheduler_perf runs it: no leader election) */
  scheduler?: {
    /** KubeSchedulerConfiguration file (a test case's schedulerConfigPath) */
    configPath?: string;
    /** pass its logs through */
    verbose?: boolean;
  };
}

const SERVING = /apiserver: serving (https?:\/\/\S+)/;

/** A fresh nats-server and apiserver replicas (and a scheduler when asked), each a child process. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  if (opts.scheduler && !existsSync(SCHEDULER_MAIN)) throw new Error(`no scheduler in the build (${SCHEDULER_MAIN}); run "npx tsc -p ." or pass --nats URL for a running cluster`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-bench-'));
  const nats = await startNatsServer({ dataDir: path.join(dataDir, 'nats'), monitorPort: 0, memoryLimit: opts.natsMemoryLimit });
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all(children.map(stopChild));
    await nats.stop();
  };
  try {
    // the million-pod workloads hold every pod in the watch cache: allow a large heap
    const profile = opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : [];
    const nodeArgs = [`--max-old-space-size=${SERVER_HEAP_MB}`, ...APISERVER_NODE_FLAGS, ...profile];
    // replicas share the NATS queue group and the bucket, as a production control plane would
    const apiservers: ChildProcess[] = [];
    const urls: string[] = [];
    for (let i = 0; i < Math.max(1, opts.apiservers ?? 1); i++) {
      const child = spawn(process.execPath, [...nodeArgs, CLI_MAIN, 'apiserver', '--nats', nats.url, '--port', '0', ...(opts.tracingArgs ?? []), ...(opts.apiserverArgs ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
      apiservers.push(child);
      children.push(child);
      urls.push(await waitForServing(child, opts.startTimeoutMs ?? 30_000));
    }
    let scheduler: ChildProcess | undefined;
    let schedulerMetricsUrl: string | undefined;
    if (opts.scheduler) {
      const port = await freePort();
      const args = ['--nats', nats.url, '--port', String(port), '--leader-elect=false', ...(opts.tracingArgs ?? [])];
      if (opts.scheduler.configPath) args.push('--config', opts.scheduler.configPath);
      scheduler = spawn(process.execPath, [`--max-old-space-size=${SERVER_HEAP_MB}`, ...SCHEDULER_NODE_FLAGS, ...profile, CLI_MAIN, 'scheduler', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(scheduler);
      const origin = `http://127.0.0.1:${port}`;
      await waitForScheduler(scheduler, `${origin}/readyz`, opts.startTimeoutMs ?? 30_000, opts.scheduler.verbose ?? false);
      schedulerMetricsUrl = `${origin}/metrics`;
    }
    return {
      natsUrl: nats.url,
      natsMonitorUrl: nats.monitorUrl,
      httpUrl: urls[0]!,
      nats,
      apiserver: apiservers[0]!,
      apiservers,
      dataDir,
      schedulerMetricsUrl,
      pids: { 'nats-server': nats.process.pid, apiserver: apiservers[0]!.pid, ...(scheduler ? { scheduler: scheduler.pid } : {}) },
      async stop() {
        // the scheduler first, then the apiservers, as a cluster winds down
        if (scheduler) await stopChild(scheduler);
        await stopAll();
        if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stopAll();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** Resolves to the URL from the apiserver's "serving" line; its other output goes to our stderr. */
export function waitForServing(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let done = false;
    const finish = (e?: Error, url?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(url!);
    };
    const timer = setTimeout(
      () => finish(new Error(`the apiserver did not say it serves within ${timeoutMs} ms; its stderr:\n${err.slice(-2000)}`)),
      timeoutMs,
    );
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (done) return void process.stderr.write(`[apiserver] ${chunk}`);
      out += chunk;
      const m = SERVING.exec(out);
      if (m) finish(undefined, m[1]);
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (done) process.stderr.write(`[apiserver] ${chunk}`);
      else err += chunk;
    });
    child.once('exit', (code, sig) => finish(new Error(`the apiserver exited (${sig ?? code}) before serving; its stderr:\n${err.slice(-2000)}`)));
    child.once('error', (e) => finish(new Error(`cannot start the apiserver: ${e.message}`)));
  });
}

/** Ready once its /readyz answers 200 (caches synced); its output is kept for an error message (or shown with verbose). */
async function waitForScheduler(child: ChildProcess, readyUrl: string, timeoutMs: number, verbose: boolean): Promise<void> {
  let tail = '';
  const keep = (chunk: string) => {
    if (verbose) process.stderr.write(`[scheduler] ${chunk}`);
    tail = (tail + chunk).slice(-4000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, sig) => (exited = `${sig ?? code}`));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`the scheduler exited (${exited}) before serving ${readyUrl}; its output:\n${tail}`);
    try {
      const res = await fetch(readyUrl);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the scheduler did not answer ${readyUrl} within ${timeoutMs} ms; its output:\n${tail}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
