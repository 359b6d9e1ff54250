/**
 * The resource metrics pipeline benchmark (issue 12: 10,000 hollow nodes and 100,000
 * pods, a scrape cycle under 5 s and under 0.5 MiB per node in the metrics service).
 * It prints the metrics service's scrape cycle time (p50, max over the cycles measured:
 * from its one NATS request to the last kubelet process's answer stored, quiet period
 * included), its resident memory and memory per node, and the kubelet processes' CPU
 * spent answering.
 *
 *   node dist/bench/metrics.js [--nodes 10000] [--pods 100000] [--processes 10] [--cycles 4] [--resolution 10]
 *
 * Its own nats-server; K kubelet-side processes, each carrying nodes/K hollow nodes with
 * their share of the pods as a hollow kubelet does (the real HollowRuntime holding every
 * sandbox and container, the real hollow stats and the real NATS stats responder), but
 * without the apiserver and the pod lifecycle, which `npm run bench:hollow` measures;
 * and the metrics service as its own process (`flotilla metrics`), scraping every
 * --resolution seconds. Figures come from the service's /metrics
 * (metrics_server_manager_tick_duration_seconds, metrics_server_storage_points) and /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { connectNats } from '../lib/client/mod.js';
import { serveKubeletStats } from '../lib/stats/mod.js';
import { startNatsServer } from '../lib/nats/server.js';
import { HollowRuntime } from '../services/kubelet/hollow.js';
import type { ActivePod } from '../services/kubelet/pods.js';
import { HollowStats } from '../services/kubelet/stats/hollow.js';
import { spawnFlotilla, stopChild } from '../test/cluster.js';
import { processCpuMs } from './cpu.js';
import { processMemory, until } from './measure.js';

const USAGE = `usage: node dist/bench/metrics.js [options]

  --nodes N        hollow nodes in all (default 10000)
  --pods P         pods spread evenly over them, one container each (default 100000)
  --processes K    kubelet processes carrying the nodes (default 10)
  --cycles C       scrape cycles measured after the first two (default 4)
  --resolution S   the metrics service's --metric-resolution, seconds (default 10, the least it takes)`;

const SELF = fileURLToPath(import.meta.url);

/** A kubelet-side process: `--role kubelets --first F --nodes N --pods-per-node P --nats URL`. */
async function runKubelets(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string' }, first: { type: 'string' }, nodes: { type: 'string' }, 'pods-per-node': { type: 'string' }, nats: { type: 'string' } } });
  const first = Number(values.first);
  const count = Number(values.nodes);
  const perNode = Number(values['pods-per-node']);
  const runtime = new HollowRuntime();
  const pods: ActivePod[] = [];
  const names: string[] = [];
  for (let n = first; n < first + count; n++) {
    const nodeName = `hollow-${n}`;
    names.push(nodeName);
    for (let i = 0; i < perNode; i++) {
      const name = `pod-${n}-${i}`;
      const uid = `00000000-0000-4000-8000-${String(n * 1000 + i).padStart(12, '0')}`;
      const pod: Pod = {
        metadata: { name, namespace: `ns-${n % 100}`, uid },
        spec: { nodeName, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
      };
      const sandboxId = await runtime.runPodSandbox({ metadata: { name, namespace: pod.metadata!.namespace!, uid, attempt: 0 } });
      const id = await runtime.createContainer(sandboxId, { metadata: { name: 'app', attempt: 0 }, image: 'registry.k8s.io/pause:3.9' });
      await runtime.startContainer(id);
      pods.push({ namespace: pod.metadata!.namespace!, name, uid, nodeName, pod, sandboxId, containers: [{ name: 'app', id }] });
    }
  }
  const stats = new HollowStats(runtime);
  const nc = await connectNats(values.nats!, { name: `bench-kubelets-${first}` });
  serveKubeletStats(nc, `bench-${first}`, async () => stats.read(names, pods));
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void nc.close().then(() => process.exit(0)));
}

function kubeletProcess(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--max-old-space-size=4096', SELF, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`kubelet-side process exited with ${code} before it was ready`)));
  });
}

/** A sample's value in Prometheus text, e.g. metric("x_sum"). */
function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function main(): Promise<void> {
  if (process.argv.includes('--role')) return runKubelets(process.argv.slice(2));
  const { values } = parseArgs({ options: { nodes: { type: 'string' }, pods: { type: 'string' }, processes: { type: 'string' }, cycles: { type: 'string' }, resolution: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return void console.log(USAGE);
  const nodes = Number(values.nodes ?? 10_000);
  const pods = Number(values.pods ?? 100_000);
  const processes = Math.min(nodes, Number(values.processes ?? 10));
  const cycles = Number(values.cycles ?? 4);
  const resolution = Number(values.resolution ?? 10);
  const perNode = Math.round(pods / nodes);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-bench-metrics-'));
  const nats = await startNatsServer({ dataDir });
  const children: ChildProcess[] = [];
  let metrics: ChildProcess | undefined;
  try {
    const service = spawnFlotilla(['metrics', '--nats', nats.url, '--port', '0', '--metric-resolution', `${resolution}s`]);
    metrics = service.child;
    const served = /serving metrics\.k8s\.io\/v1beta1 on (http:\/\/\S+),/;
    await until('the metrics service listens', () => served.test(service.output()), 30_000);
    const url = served.exec(service.output())![1];
    // its memory with nothing to scrape: what a node costs is measured above this
    await new Promise((r) => setTimeout(r, 3000));
    const idleRss = processMemory(metrics.pid)!.rss;
    const t0 = Date.now();
    const share = Math.ceil(nodes / processes);
    for (let first = 0; first < nodes; first += share) {
      children.push(await kubeletProcess(['--role', 'kubelets', '--first', String(first), '--nodes', String(Math.min(share, nodes - first)), '--pods-per-node', String(perNode), '--nats', nats.url]));
    }
    console.log(`${nodes} hollow nodes with ${nodes * perNode} pods in ${children.length} kubelet processes, ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const scrape = async () => (await fetch(`${url}/metrics`)).text();
    const cpuBefore = children.map((c) => processCpuMs(c.pid!) ?? 0);
    const durations: number[] = [];
    let seen = 0;
    let sum = 0;
    let peakRss = 0;
    const started = Date.now();
    // the cycles that ran while the kubelet processes were starting are not counted
    seen = metric(await scrape(), 'metrics_server_manager_tick_duration_seconds_count') ?? 0;
    sum = metric(await scrape(), 'metrics_server_manager_tick_duration_seconds_sum') ?? 0;
    while (durations.length < cycles + 2) {
      await new Promise((r) => setTimeout(r, 500));
      const m = processMemory(metrics.pid);
      if (m) peakRss = Math.max(peakRss, m.rss);
      const text = await scrape().catch(() => '');
      const count = metric(text, 'metrics_server_manager_tick_duration_seconds_count') ?? 0;
      const total = metric(text, 'metrics_server_manager_tick_duration_seconds_sum') ?? 0;
      if (count > seen) {
        // one cycle per poll at most: the resolution is seconds, the poll half a second
        durations.push(((total - sum) / (count - seen)) * 1000);
        const stored = metric(text, 'metrics_server_storage_points', '{type="node"}');
        const storedPods = metric(text, 'metrics_server_storage_points', '{type="pod"}');
        console.log(`cycle ${count}: ${durations.at(-1)!.toFixed(0)} ms, ${stored} nodes and ${storedPods} pods stored, metrics service RSS ${((m?.rss ?? 0) / 2 ** 20).toFixed(0)} MiB`);
        seen = count;
        sum = total;
      }
      if (Date.now() - started > (cycles + 4) * resolution * 1000 + 60_000) throw new Error('the metrics service stopped finishing scrapes');
    }
    const measured = durations.slice(2).sort((a, b) => a - b);
    const rss = processMemory(metrics.pid)!.rss;
    const cpuAfter = children.map((c) => processCpuMs(c.pid!) ?? 0);
    const kubeletCpu = cpuAfter.reduce((s, v, i) => s + v - cpuBefore[i], 0);
    console.log('');
    console.log(`scrape cycle (${measured.length} cycles after the first two): p50 ${measured[Math.floor(measured.length / 2)].toFixed(0)} ms, max ${measured.at(-1)!.toFixed(0)} ms   (goal < 5000 ms)`);
    console.log(`metrics service memory: RSS idle ${(idleRss / 2 ** 20).toFixed(0)} MiB, now ${(rss / 2 ** 20).toFixed(0)} MiB, peak ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    console.log(`  per node: ${((peakRss - idleRss) / 2 ** 20 / nodes).toFixed(3)} MiB above idle at the peak, ${(peakRss / 2 ** 20 / nodes).toFixed(3)} MiB all included   (goal < 0.5 MiB; metrics-server is sized at 2 MiB per node)`);
    console.log(`kubelet processes answering scrapes: ${(kubeletCpu / durations.length).toFixed(0)} ms CPU per cycle in all`);
  } finally {
    await stopChild(metrics);
    await Promise.all(children.map((c) => stopChild(c)));
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
