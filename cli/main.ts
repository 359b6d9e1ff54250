/**
 * The `flotilla` command: one verb per job, and nothing but the dispatch to it. A verb is a
 * function from its arguments to an exit code; a service's verb is its
 * `services/<name>/main.ts`. Adding one is one entry in VERBS. Every verb's module is
 * loaded only when asked for: `up` starts each service as `flotilla <verb>`, and loading
 * up.ts's imports (kubelet, containerd, CNI, ...) cost each of them ~0.4 s CPU.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './datafolder.js';

interface Verb {
  summary: string;
  run: (argv: string[]) => Promise<number>;
}

const VERBS: Record<string, Verb> = {
  up: { summary: 'start an all-in-one cluster (NATS, apiserver, ...) and print its KUBECONFIG', run: async (argv) => (await import('./up.js')).runUp(argv) },
  backup: { summary: 'write every object of the store to FILE', run: async (argv) => (await import('./backup.js')).runBackup(argv) },
  restore: { summary: 'restore a backup FILE into an empty store', run: async (argv) => (await import('./backup.js')).runRestore(argv) },
  image: { summary: 'the real node\'s images: `image import FILE` (OCI or docker archive), `image ls`', run: async (argv) => (await import('./image.js')).runImage(argv) },
  apiserver: {
    summary: 'run one apiserver in this process (what `up` supervises)',
    run: service(async () => (await import('../services/apiserver/main.js')).runApiServer),
  },
  scheduler: {
    summary: 'run one scheduler in this process (what `up` supervises)',
    run: service(async () => (await import('../services/scheduler/main.js')).runScheduler),
  },
  'controller-manager': {
    summary: 'run the controllers in this process (what `up` supervises)',
    run: service(async () => (await import('../services/controller-manager/main.js')).runControllerManager),
  },
  'cloud-controller-manager': {
    summary: 'run the cloud controllers (node initialization and lifecycle, service load balancers, routes) over the `local` cloud (what `up` supervises)',
    run: service(async () => (await import('../services/cloud-controller-manager/main.js')).runCloudControllerManager),
  },
  kubelet: {
    summary: 'run many hollow nodes in this process (`kubelet --runtime hollow --nodes N`)',
    run: service(async () => (await import('../services/kubelet/main.js')).runKubelet),
  },
  proxy: {
    summary: 'program this node\'s Services into nftables, as kube-proxy (what `up` supervises for the real node; `proxy --cleanup` removes its table)',
    run: service(async () => (await import('../services/proxy/main.js')).runProxy),
  },
  logging: {
    summary: 'run the logging service in this process: the log stream, its index, Loki\'s read API (what `up` supervises)',
    run: service(async () => (await import('../services/logging/main.js')).runLogging),
  },
  logs: { summary: 'cluster-level logs in LogQL: `logs \'{namespace="shop",app="web"} |= "error"\' --since 1h -f`', run: async (argv) => (await import('./logs.js')).runLogs(argv) },
  'kube-state-metrics': {
    summary: 'serve the objects\' state as kube_* metrics (what `up` supervises)',
    run: service(async () => (await import('../services/kube-state-metrics/main.js')).runKubeStateMetrics),
  },
  trace: {
    summary: "`trace pod NAME [-n NS]`: the pod's trace from create to started, as a tree with durations",
    run: async (argv) => (await import('./trace.js')).runTrace(argv),
  },
  metrics: {
    summary: 'run the metrics service: resource metrics for `kubectl top` (what `up` supervises)',
    run: service(async () => (await import('../services/metrics/main.js')).runMetrics),
  },
  dns: {
    summary: 'run the cluster DNS: kube-dns at 10.96.0.10, CoreDNS\'s records from Services, EndpointSlices and Pods (what `up` supervises)',
    run: service(async () => (await import('../services/dns/main.js')).runDns),
  },
  dashboard: {
    summary: 'run the web UI on a loopback URL (what `up` supervises)',
    run: service(async () => (await import('../services/dashboard/main.js')).runDashboard),
  },
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

/**
 * A service's `flotilla <verb>`: its main.ts is loaded only when asked for, so one verb
 * does not load every service (the apiserver alone loads every kind's schema).
 */
function service(load: () => Promise<(argv: string[]) => Promise<number>>): (argv: string[]) => Promise<number> {
  return async (argv) => (await load())(argv);
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
