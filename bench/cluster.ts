/**
 * What the benchmark measures, started fresh for each run: its own nats-server (free
 * port, temporary data folder) and an apiserver in a separate process, reached only
 * over NATS and HTTP, as an outside user would. The benchmark client and the server
 * never share an event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNatsServer, type NatsServerHandle } from '../lib/nats/server.js';
import { APISERVER_NODE_FLAGS } from '../services/apiserver/runtime.js';

export interface BenchCluster {
  natsUrl: string;
  httpUrl: string;
  nats: NatsServerHandle;
  /** the first apiserver */
  apiserver: ChildProcess;
  apiservers: ChildProcess[];
  dataDir: string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** write a V8 CPU profile of the apiserver into this folder when it exits */
  profileDir?: string;
  /** leave the data folder in place (for looking at the bucket afterwards) */
  keepData?: boolean;
  /** apiserver replicas (default 1) */
  apiservers?: number;
  /** how long the apiserver may take to say it serves */
  startTimeoutMs?: number;
}

/** old-space limit of benchmarked server processes, MiB */
export const BENCH_HEAP_MB = 12288;

const SERVING = /apiserver: serving (https?:\/\/\S+)/;

export async function startBenchCluster(opts: ClusterOptions = {}): Promise<BenchCluster> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-bench-'));
  const nats = await startNatsServer({ dataDir: path.join(dataDir, 'nats') });
  const apiservers: ChildProcess[] = [];
  try {
    const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../services/apiserver/main.js');
    // the million-pod workloads hold every pod in the watch cache: allow a large heap
    const nodeArgs = [`--max-old-space-size=${BENCH_HEAP_MB}`, ...APISERVER_NODE_FLAGS, ...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : [])];
    // replicas share the NATS queue group and the bucket, as a production control plane would
    const urls: string[] = [];
    for (let i = 0; i < Math.max(1, opts.apiservers ?? 1); i++) {
      const child = spawn(process.execPath, [...nodeArgs, main, '--nats', nats.url, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      apiservers.push(child);
      urls.push(await waitForServing(child, opts.startTimeoutMs ?? 30_000));
    }
    return {
      natsUrl: nats.url,
      httpUrl: urls[0]!,
      nats,
      apiserver: apiservers[0]!,
      apiservers,
      dataDir,
      async stop() {
        await Promise.all(apiservers.map(stopChild));
        await nats.stop();
        if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(apiservers.map(stopChild));
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** Resolves to the URL from the apiserver's "serving" line; its other output goes to our stderr. */
function waitForServing(child: ChildProcess, timeoutMs: number): Promise<string> {
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

const CLI_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/main.js');

/** A cluster component (`flotilla <args>`) as a child process; its stderr is passed on, labelled. */
export function component(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => process.stderr.write(`[${args[0]}] ${chunk}`));
  return child;
}

/**
 * Seconds until check() holds, polled every 100 ms; throws after timeoutMs. progress(),
 * when given, is printed to stderr once a second while waiting.
 */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, progress?: () => string): Promise<number> {
  const start = performance.now();
  let lastPrint = start;
  for (;;) {
    if (await check()) return (performance.now() - start) / 1000;
    const now = performance.now();
    if (now - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    if (progress && now - lastPrint >= 1000) {
      lastPrint = now;
      process.stderr.write(`  ${what}: ${progress()}\n`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM (the apiserver shuts down cleanly and writes its CPU profile), SIGKILL if it hangs. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}
