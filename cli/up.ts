/**
 * `flotilla up`: a whole cluster on one machine. Joins the NATS server it is given, or
 * runs `nats-server -js` on the data folder; then runs each service as its own supervised
 * process, waits for the apiserver to be ready, writes a kubeconfig and prints
 * `export KUBECONFIG=<path>`. SIGINT/SIGTERM stop the services (in reverse start order)
 * and then nats-server, leaving no process behind.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BUCKET } from '../lib/store/kvstore.js';
import {
  CLI_MAIN,
  choosePort,
  natsServerArgs,
  natsServerBinary,
  natsStoreDir,
  readState,
  resolveDataDir,
  runningCluster,
  strayNatsServers,
  terminate,
  waitForListener,
  writeState,
  type ClusterState,
} from './datafolder.js';
import { serverUrl, writeKubeconfig } from './kubeconfig.js';
import { SupervisedProcess, type SupervisorOutput } from './supervisor.js';
import { APISERVER_NODE_FLAGS } from '../services/apiserver/nodeflags.js';
import { portFlag } from '../lib/process/flags.js';

export const DEFAULT_API_PORT = 6443;

/** What a service's command line may depend on. */
export interface ServiceContext {
  natsUrl: string;
  bucket: string;
  /** the apiserver's HTTP bind address and port */
  host: string;
  apiPort: number;
  dataDir: string;
  /** dist/cli/main.js: services run as `node <cli> <verb> ...` */
  cli: string;
  /** how many hollow nodes the kubelet process carries (0: no kubelet) */
  hollowNodes: number;
}

export interface ServiceDef {
  name: string;
  /** arguments to `node` */
  args: (c: ServiceContext) => string[];
  /** run only when this says so (default: always) */
  enabled?: (c: ServiceContext) => boolean;
}

/** The cluster's services in start order (stopped in reverse). Later components add one line each. */
export const SERVICES: ServiceDef[] = [
  {
    name: 'apiserver',
    args: (c) => [...APISERVER_NODE_FLAGS, c.cli, 'apiserver', '--nats', c.natsUrl, '--bucket', c.bucket, '--host', c.host, '--port', String(c.apiPort)],
  },
  { name: 'scheduler', args: (c) => [c.cli, 'scheduler', '--nats', c.natsUrl] },
  { name: 'controller-manager', args: (c) => [c.cli, 'controller-manager', '--nats', c.natsUrl] },
  {
    name: 'kubelet',
    enabled: (c) => c.hollowNodes > 0,
    args: (c) => [c.cli, 'kubelet', '--nats', c.natsUrl, '--runtime', 'hollow', '--nodes', String(c.hollowNodes)],
  },
];

export interface UpOptions {
  dataDir: string;
  /** join this NATS instead of running nats-server */
  natsUrl?: string;
  /** apiserver HTTP port; undefined = 6443, 0 = any free port; a busy port is replaced by a free one */
  port?: number;
  host?: string;
  bucket?: string;
  /** simulated nodes run by a `kubelet --runtime hollow` process (default 0: none) */
  hollowNodes?: number;
  /** how long to wait for the apiserver's /readyz */
  readyTimeoutMs?: number;
  out?: SupervisorOutput;
}

export const stdOutput: SupervisorOutput = {
  stdout: process.stdout,
  stderr: process.stderr,
  log: (line) => process.stderr.write(`flotilla: ${line}\n`),
};

export class Launcher {
  readonly dataDir: string;
  readonly host: string;
  readonly bucket: string;
  natsUrl = '';
  apiserverUrl = '';
  kubeconfig = '';
  nats: SupervisedProcess | undefined;
  readonly services: SupervisedProcess[] = [];
  private readonly out: SupervisorOutput;
  private stopping: Promise<void> | undefined;
  private state: ClusterState | undefined;

  constructor(private readonly opts: UpOptions) {
    this.dataDir = path.resolve(opts.dataDir);
    this.host = opts.host ?? '127.0.0.1';
    this.bucket = opts.bucket ?? DEFAULT_BUCKET;
    this.out = opts.out ?? stdOutput;
  }

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  async start(): Promise<void> {
    const log = this.out.log;
    mkdirSync(this.dataDir, { recursive: true });
    const other = runningCluster(this.dataDir);
    if (other) throw new Error(`a cluster is already running on data folder ${this.dataDir} (launcher pid ${other.pid}); stop it first`);
    const previous = readState(this.dataDir);
    const width = Math.max('nats-server'.length, ...SERVICES.map((s) => s.name.length));

    if (this.opts.natsUrl) {
      await checkNats(this.opts.natsUrl);
      this.natsUrl = this.opts.natsUrl;
      this.state = { natsUrl: this.natsUrl, managedNats: false, natsPort: previous?.natsPort, bucket: this.bucket, pid: process.pid };
      writeState(this.dataDir, this.state);
      log(`joining NATS at ${this.natsUrl}`);
    } else {
      const bin = natsServerBinary();
      for (const stray of strayNatsServers(this.dataDir)) {
        log(`stopping nats-server pid ${stray.pid}, left running on this data folder by a launcher that was killed`);
        await terminate(stray.pid);
      }
      const { port, moved } = await choosePort(previous?.natsPort ?? 0);
      if (moved) log(`NATS port ${previous?.natsPort} (used last time) is busy; using ${port}`);
      this.natsUrl = `nats://127.0.0.1:${port}`;
      this.state = { natsUrl: this.natsUrl, managedNats: true, natsPort: port, bucket: this.bucket, pid: process.pid };
      // Written before nats-server starts so a second launcher on this folder refuses to start.
      writeState(this.dataDir, this.state);
      mkdirSync(natsStoreDir(this.dataDir), { recursive: true });
      this.nats = new SupervisedProcess({ name: 'nats-server', command: bin, args: natsServerArgs(this.dataDir, port) }, this.out, width);
      this.nats.start();
      await waitForListener(port, this.nats.child, 'nats-server');
      log(`nats-server listening on ${this.natsUrl} with its data in ${natsStoreDir(this.dataDir)}`);
    }
    this.throwIfStopping();

    const wanted = this.opts.port ?? DEFAULT_API_PORT;
    const { port: apiPort, moved } = await choosePort(wanted, this.host);
    if (moved) log(`port ${wanted} is busy; the apiserver uses port ${apiPort}`);
    const ctx: ServiceContext = {
      natsUrl: this.natsUrl,
      bucket: this.bucket,
      host: this.host,
      apiPort,
      dataDir: this.dataDir,
      cli: CLI_MAIN,
      hollowNodes: this.opts.hollowNodes ?? 0,
    };
    this.apiserverUrl = serverUrl(this.host, apiPort);
    // the apiserver first: the components after it talk to it from their first moment
    for (const [i, def] of SERVICES.filter((d) => d.enabled?.(ctx) ?? true).entries()) {
      const p = new SupervisedProcess({ name: def.name, command: process.execPath, args: def.args(ctx) }, this.out, width);
      this.services.push(p);
      p.start();
      if (i === 0) {
        await this.waitReady(this.opts.readyTimeoutMs ?? 120_000);
        this.throwIfStopping();
      }
    }

    this.kubeconfig = writeKubeconfig(path.join(this.dataDir, 'kubeconfig'), this.apiserverUrl);
    this.state = { ...this.state, apiserverUrl: this.apiserverUrl };
    writeState(this.dataDir, this.state);
    log(`cluster ready: apiserver ${this.apiserverUrl}, NATS ${this.natsUrl}, bucket ${this.bucket}`);
  }

  private throwIfStopping(): void {
    if (this.stopping) throw new Error('stopped while starting');
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.throwIfStopping();
      try {
        const res = await fetch(this.apiserverUrl + '/readyz', { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`the apiserver at ${this.apiserverUrl} is not ready after ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Services in reverse start order, then nats-server. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const p of [...this.services].reverse()) await p.stop();
      await this.nats?.stop();
      if (this.state) writeState(this.dataDir, { ...this.state, pid: undefined });
    })();
    return this.stopping;
  }

  /** Synchronous last resort for process exit paths. */
  killNow(): void {
    for (const p of this.services) p.killNow();
    this.nats?.killNow();
  }
}

/** Fails with the reason when url is not a reachable NATS server with JetStream. */
async function checkNats(url: string): Promise<void> {
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 5000, maxReconnectAttempts: 0, name: 'flotilla-up-check' });
  } catch (e) {
    throw new Error(`cannot connect to NATS at ${url}: ${(e as Error).message}`);
  }
  try {
    await jetstreamManager(nc);
  } catch (e) {
    throw new Error(`NATS at ${url} has no JetStream (start it with -js): ${(e as Error).message}`);
  } finally {
    await nc.close();
  }
}

export const UP_USAGE = `usage: flotilla up [--data DIR] [--nats URL] [--port N] [--host ADDR] [--bucket NAME] [--hollow-nodes N]

Starts an all-in-one cluster and prints "export KUBECONFIG=<path>". Ctrl-C stops it.

  --data DIR     data folder (default $FLOTILLA_DATA or <project>/.flotilla/data)
  --nats URL     join this NATS server (default $NATS_URL) instead of running nats-server
  --port N       apiserver HTTP port (default ${DEFAULT_API_PORT}; a busy port is replaced by a free one; 0 = any)
  --host ADDR    apiserver bind address (default 127.0.0.1)
  --bucket NAME  JetStream KV bucket holding the objects (default ${DEFAULT_BUCKET})
  --hollow-nodes N  also run N simulated nodes in one kubelet process (default 0)`;

export async function runUp(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      nats: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      bucket: { type: 'string' },
      'hollow-nodes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(UP_USAGE);
    return 0;
  }
  const port = portFlag(values.port);
  const hollowNodes = values['hollow-nodes'] === undefined ? 0 : Number(values['hollow-nodes']);
  if (!Number.isInteger(hollowNodes) || hollowNodes < 0) throw new Error(`--hollow-nodes: not a node count: ${values['hollow-nodes']}`);
  const launcher = new Launcher({
    dataDir: resolveDataDir(values.data),
    natsUrl: values.nats ?? (process.env.NATS_URL || undefined),
    port,
    host: values.host,
    bucket: values.bucket,
    hollowNodes,
  });

  let firstSignalAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (firstSignalAt) {
      // `npm start` forwards the terminal's Ctrl-C that also reached us: a duplicate.
      if (Date.now() - firstSignalAt < 2000) return;
      stdOutput.log(`${sig} again: killing everything now`);
      launcher.killNow();
      process.exit(130);
    }
    firstSignalAt = Date.now();
    stdOutput.log(`${sig}: stopping the cluster`);
    launcher.stop().then(
      () => process.exit(0),
      (e) => {
        stdOutput.log(`stop failed: ${(e as Error).message}`);
        launcher.killNow();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', () => launcher.killNow());

  try {
    await launcher.start();
  } catch (e) {
    if (launcher.stopped) return await new Promise<number>(() => undefined); // the signal handler exits
    stdOutput.log(`cannot start the cluster: ${(e as Error).message}`);
    await launcher.stop();
    return 1;
  }
  console.log(`export KUBECONFIG=${launcher.kubeconfig}`);
  // Runs until a signal: the supervised children keep the event loop alive.
  return await new Promise<number>(() => undefined);
}
