/**
 * Starting a local `nats-server -js` as a child process: used by `flotilla up` when no
 * NATS server is reachable, and by the tests (a fresh server on a free port with a
 * fresh data folder for each run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

export interface NatsServerHandle {
  url: string;
  port: number;
  /** the HTTP monitoring endpoint (`/varz`, `/connz`, ...) when started with monitorPort */
  monitorUrl?: string;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface StartNatsOptions {
  dataDir: string;
  port?: number;
  /** path of the nats-server binary */
  binary?: string;
  /** inherit the child's output (for debugging) */
  verbose?: boolean;
  /** serve nats-server's HTTP monitoring on this port (`-m`; 0 = a free port): benchmarks read /varz */
  monitorPort?: number;
  /** the Go runtime's soft memory limit (GOMEMLIMIT), e.g. "2GiB": see natsMemoryLimitEnv */
  memoryLimit?: string;
}

const GO_MEMORY_LIMIT = /^[0-9]+(B|KiB|MiB|GiB|TiB)?$/;

/**
 * The environment that gives nats-server (a Go program) a soft memory limit. Go's
 * collector otherwise lets the heap grow to twice what is live (GOGC=100), and with a
 * million objects nats-server's file store keeps gigabytes of block caches it could drop:
 * the limit makes it collect harder as it nears the limit instead. A value Go would
 * refuse (it stops at start with a panic) is refused here with the flag's name.
 */
export function natsMemoryLimitEnv(limit: string | undefined, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (limit === undefined) return base;
  if (!GO_MEMORY_LIMIT.test(limit)) throw new Error(`invalid nats-server memory limit "${limit}": give bytes with an optional unit B, KiB, MiB, GiB or TiB (e.g. 2GiB), as Go's GOMEMLIMIT takes`);
  return { ...base, GOMEMLIMIT: limit };
}

/**
 * The environment that gives nats-server (a Go program) half the machine's cores as its
 * GOMAXPROCS, at least one: it shares the machine with the control plane's Node processes
 * (apiserver, scheduler, controllers), and with a processor for every core Go's scheduler
 * keeps threads spinning for work the moment one is idle. On the 2-core machine, one
 * processor cut nats-server's CPU per scheduled pod by ~20% and took the whole benchmark
 * ~9% further (docs/scheduler.md, Dec 6 19:40). A GOMAXPROCS the environment sets is kept.
 */
export function natsMaxProcsEnv(base: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): NodeJS.ProcessEnv {
  if (base.GOMAXPROCS) return base;
  return { ...base, GOMAXPROCS: String(Math.max(1, Math.floor(cores / 2))) };
}

/** nats-server's whole environment: its memory limit (natsMemoryLimitEnv) and its processors (natsMaxProcsEnv). */
export function natsServerEnv(memoryLimit: string | undefined, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return natsMaxProcsEnv(natsMemoryLimitEnv(memoryLimit, base));
}

export async function startNatsServer(opts: StartNatsOptions): Promise<NatsServerHandle> {
  const env = natsServerEnv(opts.memoryLimit);
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const bin = opts.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server';
  const monitorPort = opts.monitorPort === undefined ? undefined : opts.monitorPort || (await freePort());
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', opts.dataDir];
  if (monitorPort !== undefined) args.push('-m', String(monitorPort));
  const child = spawn(bin, args, {
    stdio: opts.verbose ? 'inherit' : 'ignore',
    env,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  try {
    await waitForPort(port);
    if (monitorPort !== undefined) await waitForPort(monitorPort);
  } catch (e) {
    child.kill('SIGKILL');
    if (spawnError) throw new Error(`cannot start ${bin}: ${spawnError.message} (install it: sudo apt-get install -y nats-server)`);
    throw e;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl: monitorPort !== undefined ? `http://127.0.0.1:${monitorPort}` : undefined,
    dataDir: opts.dataDir,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
