/**
 * The `flotilla` command: one verb per job. A verb is a function from its arguments to an
 * exit code; adding one is one entry in VERBS.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBackup, runRestore } from './backup.js';
import { PROJECT_ROOT } from './datafolder.js';
import { runUp } from './up.js';
import { runUntilStopped } from '../lib/process/lifecycle.js';

interface Verb {
  summary: string;
  run: (argv: string[]) => Promise<number>;
}

const VERBS: Record<string, Verb> = {
  up: { summary: 'start an all-in-one cluster (NATS, apiserver, ...) and print its KUBECONFIG', run: runUp },
  backup: { summary: 'write every object of the store to FILE', run: runBackup },
  restore: { summary: 'restore a backup FILE into an empty store', run: runRestore },
  apiserver: { summary: 'run one apiserver in this process (what `up` supervises)', run: runApiServer },
  scheduler: { summary: 'run one scheduler in this process (what `up` supervises)', run: runSchedulerVerb },
  'controller-manager': { summary: 'run the controllers in this process (what `up` supervises)', run: runControllerManagerVerb },
  kubelet: { summary: 'run many hollow nodes in this process (`kubelet --runtime hollow --nodes N`)', run: runKubeletVerb },
  bench: { summary: 'run a benchmark: `bench scheduler CONFIG.yaml` runs scheduler_perf workloads', run: runBench },
  version: { summary: 'print the version', run: async () => (console.log(`flotilla ${packageVersion()}`), 0) },
};

function usage(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length));
  const lines = Object.entries(VERBS).map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`);
  return `usage: flotilla <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n"flotilla <command> --help" describes a command's options.`;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const APISERVER_USAGE = `usage: flotilla apiserver [--nats URL] [--port N] [--host ADDR] [--bucket NAME] [--replicas N]`;

/** One apiserver in-process; stops on SIGINT/SIGTERM, or when its supervising launcher is gone. */
async function runApiServer(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string', default: '6443' },
      host: { type: 'string', default: '127.0.0.1' },
      bucket: { type: 'string' },
      replicas: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(APISERVER_USAGE);
    return 0;
  }
  const natsUrl = values.nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  // Imported here so the other verbs do not load every kind's schema.
  const { startApiServer } = await import('../services/apiserver/server.js');
  const server = await startApiServer({
    natsUrl,
    httpPort: Number(values.port),
    httpHost: values.host,
    bucket: values.bucket,
    replicas: values.replicas ? Number(values.replicas) : undefined,
  });
  console.log(`apiserver: serving ${server.httpUrl} (NATS ${natsUrl})`);

  return runUntilStopped('apiserver', () => server.stop());
}

const BENCH_USAGE = `usage: flotilla bench scheduler CONFIG.yaml [--workload NAME] [--nats URL] ... ("flotilla bench scheduler --help" for all)`;

/** `bench <kind> ...`: each benchmark is loaded only when asked for. */
async function runBench(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === 'scheduler') {
    const { runBenchScheduler } = await import('../bench/scheduler-perf/main.js');
    return await runBenchScheduler(rest);
  }
  if (!kind || kind === '--help' || kind === '-h') {
    console.log(BENCH_USAGE);
    return kind ? 0 : 2;
  }
  console.error(`flotilla bench: unknown benchmark "${kind}"\n\n${BENCH_USAGE}`);
  return 2;
}

/** `scheduler ...`: loaded only when asked for, so the other verbs do not load the scheduler. */
async function runSchedulerVerb(argv: string[]): Promise<number> {
  const { runScheduler } = await import('../services/scheduler/main.js');
  return await runScheduler(argv);
}

/** `controller-manager ...`: loaded only when asked for. */
async function runControllerManagerVerb(argv: string[]): Promise<number> {
  const { runControllerManager } = await import('../services/controller-manager/main.js');
  return await runControllerManager(argv);
}

/** `kubelet ...`: loaded only when asked for. */
async function runKubeletVerb(argv: string[]): Promise<number> {
  const { runKubelet } = await import('../services/kubelet/main.js');
  return await runKubelet(argv);
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(usage());
    return verb ? 0 : 2;
  }
  if (verb === '--version') return await VERBS.version!.run([]);
  const v = VERBS[verb];
  if (!v) {
    console.error(`flotilla: unknown command "${verb}"\n\n${usage()}`);
    return 2;
  }
  return await v.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`flotilla: ${e.message}`);
    process.exit(1);
  },
);
