/**
 * The store peer of the API benchmark: Debian's `etcd-server` (3.4), started on loopback
 * ports with a temporary data folder, written to through its gRPC KV.Put with the same
 * pod-sized values and the same number in flight as the raw JetStream KV phase. It
 * answers "is our store the right etcd?" with figures from the same run on the same
 * machine. etcd is not a dependency of Flotilla: when it is not installed the phase says
 * how to install it and is not measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { freePort } from '../lib/nats/server.js';
import { runLoad } from './load.js';
import { podName, storedPodBytes } from './pods.js';
import { phaseResult, type PhaseResult } from './stats.js';

export const ETCD_BINARY = '/usr/bin/etcd';
export const ETCD_INSTALL = 'sudo apt-get install -y etcd-server';

/** kv.proto sits in the source tree; from dist/ climb to the repository root to find it. */
function protoPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    const p = path.join(dir, 'bench', 'etcd', 'kv.proto');
    if (existsSync(p)) return p;
    if (path.dirname(dir) === dir) throw new Error(`etcd schema bench/etcd/kv.proto not found above ${here}`);
  }
}

type PutCall = (req: { key: Buffer; value: Uint8Array }, cb: (err: grpc.ServiceError | null) => void) => void;

export class EtcdServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly endpoint: string,
    private readonly kv: grpc.Client,
    private readonly output: () => string,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts etcd on free loopback ports; resolves once a Put succeeds. */
  static async start(timeoutMs = 20_000): Promise<EtcdServer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flt-bench-etcd-'));
    const [client, peer] = [await freePort(), await freePort()];
    const clientUrl = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const child = spawn(ETCD_BINARY, [
      '--name', 'bench', '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `bench=${peerUrl}`, '--initial-cluster-state', 'new',
      '--log-level', 'warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => (out = (out + d.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath(), { keepCase: false, longs: String, defaults: true }));
    const Kv = (pkg.etcdserverpb as grpc.GrpcObject).KV as grpc.ServiceClientConstructor;
    const kv = new Kv(`127.0.0.1:${client}`, grpc.credentials.createInsecure());
    const server = new EtcdServer(child, dir, clientUrl, kv, () => out);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await server.put('bench-ready', new Uint8Array([1]));
        return server;
      } catch (e) {
        if (child.exitCode !== null || Date.now() > deadline) {
          await server.stop();
          throw new Error(`etcd at ${clientUrl} did not answer a Put within ${timeoutMs} ms (${(e as Error).message}); its output:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  put(key: string, value: Uint8Array): Promise<void> {
    const call = (this.kv as unknown as Record<string, PutCall>).Put!;
    return new Promise((resolve, reject) =>
      call.call(this.kv, { key: Buffer.from(key), value }, (err) => (err ? reject(new Error(`etcd Put ${key}: ${err.details || err.message}`)) : resolve())),
    );
  }

  async stop(): Promise<void> {
    this.kv.close();
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** the last lines etcd wrote, for a failure message */
  recentOutput(): string {
    return this.output();
  }
}

/** Puts of the raw KV phase's values under `/<prefix>/`, `window` in flight. */
export async function etcdPutPhase(etcd: EtcdServer, n: number, window: number, prefix: string, maxSeconds?: number): Promise<PhaseResult> {
  const value = storedPodBytes('bench', 0);
  const r = await runLoad(n, { concurrency: window, maxSeconds }, (i) => etcd.put(`/${prefix}/${podName(i)}`, value));
  const label = window > 1 ? `etcd put (${window} in flight)` : 'etcd put (serial)';
  return phaseResult(label, 'etcd', r.ops, r.seconds, r.latenciesMs, r.errors, { valueBytes: value.length, window, firstError: r.firstError });
}
