/**
 * The node's local image registry: Debian's `docker-registry` (the CNCF distribution
 * registry) on 127.0.0.1 only, with a config file written here and its storage under the
 * data folder. Images pushed to it (`skopeo copy oci-archive:FILE
 * docker://localhost:5000/NAME --dest-tls-verify=false`) run as `localhost:5000/NAME`:
 * containerd reaches it over plain HTTP on loopback (containerd/config.ts), and it is
 * the only registry the kubelet ever pulls from (puller.ts). It is no pull-through cache
 * (no `proxy` section), so it never fetches anything itself.
 *
 * `processSpec()` is for `flotilla up`'s supervisor; `start()`/`stop()` run it directly
 * (tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
const STOP_GRACE_MS = 10_000;

export class RegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

export interface LocalRegistryPaths {
  dir: string;
  config: string;
  /** the registry's storage (filesystem driver root) */
  data: string;
  log: string;
}

export function renderRegistryConfig(p: LocalRegistryPaths, port: number): string {
  return `# Written by Flotilla (services/kubelet/images/registry.ts); rewritten at each start.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${JSON.stringify(p.data)}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  # loopback only: the registry is this machine's, plain HTTP
  addr: 127.0.0.1:${port}
  # upload sessions are signed with it; one registry, so any value made here will do
  secret: ${randomBytes(16).toString('hex')}
  headers:
    X-Content-Type-Options: [nosniff]
`;
}

/** Resolves once GET /v2/ answers 200 on 127.0.0.1:port. */
export async function waitForRegistry(port: number, timeoutMs = 15_000, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (!isAlive()) throw new RegistryError(`docker-registry exited before answering on 127.0.0.1:${port}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new RegistryError(`docker-registry does not answer GET /v2/ on 127.0.0.1:${port} after ${timeoutMs} ms: ${last}`);
    await sleep(100);
  }
}

export class LocalRegistry {
  readonly paths: LocalRegistryPaths;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  static configPath(dir: string): string {
    return path.join(dir, 'config.yml');
  }

  /** Writes the config for a registry on 127.0.0.1:port keeping its data under dir. */
  constructor(
    dir: string,
    readonly port: number,
  ) {
    this.paths = { dir, config: LocalRegistry.configPath(dir), data: path.join(dir, 'data'), log: path.join(dir, 'registry.log') };
    mkdirSync(this.paths.data, { recursive: true });
    writeFileSync(this.paths.config, renderRegistryConfig(this.paths, port));
  }

  processSpec(): { name: string; command: string; args: string[] } {
    return { name: 'registry', command: REGISTRY_BIN, args: ['serve', this.paths.config] };
  }

  get running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  /** Runs it (output to registry.log) and resolves once /v2/ answers. */
  async start(timeoutMs = 15_000): Promise<void> {
    const spec = this.processSpec();
    const log = openSync(this.paths.log, 'a');
    try {
      this.child = spawn(spec.command, spec.args, { stdio: ['ignore', log, log], detached: true });
    } finally {
      closeSync(log);
    }
    const child = this.child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    try {
      await waitForRegistry(this.port, timeoutMs, () => this.running);
    } catch (e) {
      await this.stop();
      throw new RegistryError(`${(e as Error).message} (see ${this.paths.log})`);
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
