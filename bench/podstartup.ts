/**
 * The real node's pod startup benchmark (issue 11): on a containerd of its own (as the
 * real-node tests run one, test/node.ts), with nats-server and the apiserver as child
 * processes and `flotilla kubelet --runtime cri` as a child process too, it creates P
 * busybox pods bound to the node at once (batch create) and prints
 *   - create -> Running p50 / p99 / max, from a watch (the pod's creation is taken when
 *     its batch create was sent);
 *   - pods started per second (first create to last Running);
 *   - where one pod start spends its time: the median (and p99) of each phase the kubelet
 *     logs per pod ("Observed pod startup duration", podstartlatency.ts): waiting for a
 *     start slot, volumes, sandbox, image, create, start, status reported;
 *   - CPU per pod start of the kubelet, of containerd and of the shims, from /proc/<pid>/stat,
 *     and of containerd with everything it starts (shims, runc, CNI plugins, most of
 *     which live a few ms), from a cgroup the benchmark moves containerd into; the
 *     machine's busy share and load average (other work on the machine shows there);
 *   - the kubelet's CPU % and RSS while the P pods run and nothing changes;
 *   - then, the kubelet stopped, the same pod start done by the benchmark straight
 *     through CRI (RunPodSandbox, CreateContainer, StartContainer; --cri-pods pods, 4 at
 *     a time, as the kubelet starts them, with its runtime handler for pods without
 *     hostPorts): what containerd alone allows on this machine,
 *     with the median of each call.
 * No assertions: figures only. The aim is p99 < 2 s for 100 pods on 2 cores.
 *
 *   npm run bench:podstartup [-- --pods 100 --idle 10]
 *
 * Needs root and the node's packages, like the real-node tests; run it alone
 * (`flock /tmp/flt-containerd.lock` when others run containerd-backed suites).
 */
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { processes } from '../cli/datafolder.js';
import { ApiClient, connectNats, forEachLimited, Resources, SharedInformer } from '../lib/client/mod.js';
import { CriClient } from '../services/kubelet/cri/client.js';
import { NO_HOSTPORT_RUNTIME_HANDLER } from '../services/kubelet/containerd/config.js';
import { BUSYBOX_IMAGE } from '../services/kubelet/images/local.js';
import { component, startCluster, stopChild } from '../test/cluster.js';
import { cleanUpTestNodeHost, startTestNodeHost } from '../test/node.js';
import { CpuAccountingGroup, machineBusy, processCpuMs } from './cpu.js';
import { parseStartupLine, START_PHASES } from '../services/kubelet/podstartlatency.js';
import { processMemory, until } from './measure.js';
import { summarize } from './stats.js';

const USAGE = `usage: node dist/bench/podstartup.js [--pods 100] [--idle 10]

  --pods P   busybox pods created at once, bound to the real node (default 100)
  --idle S   seconds over which the kubelet's idle CPU is measured with the pods running (default 10)
  --cri-pods C  pods then started straight through CRI, without the kubelet (default 20; 0 skips)`;

const NS = 'default';

/** pids of containerd's shims serving the containerd whose socket is given (they outlive their parent) */
function shimPids(socket: string): number[] {
  return processes()
    .filter(({ argv }) => argv[0]?.includes('containerd-shim') && argv.includes(socket))
    .map(({ pid }) => pid);
}

function cpuOf(pids: number[]): number {
  return pids.reduce((sum, p) => sum + (processCpuMs(p) ?? 0), 0);
}

const loads = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const ms = (v: number) => v.toFixed(0);

/** Starts pods straight through CRI, `parallel` at a time: containerd's own pace. */
async function criOnly(socket: string, dir: string, count: number, parallel = 4): Promise<{ podsPerSecond: number; p50: number; p99: number; calls: Record<'sandbox' | 'create' | 'start', number> }> {
  const cri = new CriClient(socket);
  try {
    const took: number[] = [];
    const calls = { sandbox: [] as number[], create: [] as number[], start: [] as number[] };
    const t0 = performance.now();
    await forEachLimited(Array.from({ length: count }, (_, i) => i), parallel, async (i) => {
      const s0 = performance.now();
      const name = `cri-${i}`;
      const config = { metadata: { name, namespace: NS, uid: `bench-cri-${i}-${process.pid}`, attempt: 0 }, hostname: name, logDirectory: path.join(dir, 'cri-logs', name), labels: {}, annotations: {}, linux: {} };
      // the handler the kubelet gives pods without hostPorts (no portmap in the CNI chain)
      const sb = await cri.runPodSandbox(config, NO_HOSTPORT_RUNTIME_HANDLER);
      const s1 = performance.now();
      const id = await cri.createContainer(sb, { metadata: { name: 'app', attempt: 0 }, image: { image: BUSYBOX_IMAGE }, command: ['sleep', '36000'], args: [], logPath: 'app.log', linux: {} } as never, config);
      const s2 = performance.now();
      await cri.startContainer(id);
      const s3 = performance.now();
      calls.sandbox.push(s1 - s0);
      calls.create.push(s2 - s1);
      calls.start.push(s3 - s2);
      took.push(s3 - s0);
    });
    const s = summarize(took);
    return { podsPerSecond: count / ((performance.now() - t0) / 1000), p50: s.p50, p99: s.p99, calls: { sandbox: summarize(calls.sandbox).p50, create: summarize(calls.create).p50, start: summarize(calls.start).p50 } };
  } finally {
    cri.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pods: { type: 'string', default: '100' }, idle: { type: 'string', default: '10' }, 'cri-pods': { type: 'string', default: '20' }, help: { type: 'boolean', short: 'h' } } });
  const criPods = Number(values['cri-pods']);
  if (values.help) return console.log(USAGE);
  const count = Number(values.pods);
  const idleSeconds = Number(values.idle);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--pods: not a pod count: ${values.pods}`);

  const host = await startTestNodeHost('bench/podstartup');
  const cluster = await startCluster().catch(async (e) => {
    await cleanUpTestNodeHost(host);
    throw e;
  });
  const nodeName = `flt-bench-${host.suffix}`;
  const socket = host.launcher.paths.socket;
  const loadAtStart = loads();
  // containerd and all it starts from now on (shims, runc, CNI plugins)
  const containerdTree = CpuAccountingGroup.create(`flt-bench-${host.suffix}`, host.launcher.pid!);
  const nc = await connectNats(cluster.natsUrl, { name: 'bench-podstartup' });
  const client = new ApiClient(nc);
  const kubelet = component(['kubelet', '--nats', cluster.natsUrl, '--runtime', 'cri', '--container-runtime-endpoint', `unix://${socket}`, '--root-dir', path.join(host.dir, 'kubelet'),
    '--cni-conf-dir', host.cniConfDir, '--pod-cidr', host.subnet, '--hostname-override', nodeName, '--cni-network', host.network, '--cni-bridge', host.bridge]);
  // the kubelet's "Observed pod startup duration" lines: each pod's start, phase by phase
  const starts = new Map<string, NonNullable<ReturnType<typeof parseStartupLine>>>();
  let partial = '';
  kubelet.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      const got = parseStartupLine(l);
      if (got) starts.set(got.pod, got);
    }
  });
  const informer = new SharedInformer<Pod>(client, Resources.pods, { namespace: NS });
  try {
    await until('the real node Ready', async () => {
      const n = await client.get<Node>({ ...Resources.nodes, name: nodeName }).catch(() => undefined);
      return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    }, 120_000);
    const created = new Map<string, number>();
    const running = new Map<string, number>();
    informer.addEventHandler({
      onAdd: (p) => seen(p),
      onUpdate: (_o, p) => seen(p),
    });
    const seen = (p: Pod) => {
      const name = p.metadata!.name!;
      if (p.status?.phase === 'Running' && !running.has(name)) running.set(name, performance.now());
    };
    informer.start();
    await informer.waitForSync();
    // one pod first, so the image is in the page cache and the kubelet's code is warm
    const pod = (name: string): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS },
      spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '36000'] }] },
    });
    await client.create({ ...Resources.pods, namespace: NS }, pod('warm-up'));
    await until('the warm-up pod Running', () => running.has('warm-up'), 60_000);

    const containerdPid = host.launcher.pid;
    // the control plane shares the two cores: its CPU per pod is told too
    const sample = () => ({
      kubelet: processCpuMs(kubelet.pid) ?? 0,
      containerd: processCpuMs(containerdPid) ?? 0,
      shims: cpuOf(shimPids(socket)),
      apiserver: processCpuMs(cluster.apiserver.pid) ?? 0,
      'nats-server': processCpuMs(cluster.nats.process.pid) ?? 0,
      containerdTree: containerdTree?.cpuMs() ?? NaN,
    });
    const before = sample();
    const busy = machineBusy();
    const createdWall = new Map<string, number>();
    const names = Array.from({ length: count }, (_, i) => `ps-${i}`);
    const t0 = performance.now();
    for (let i = 0; i < names.length; i += 250) {
      const batch = names.slice(i, i + 250);
      const at = performance.now();
      const wall = Date.now();
      for (const n of batch) {
        created.set(n, at);
        createdWall.set(n, wall);
      }
      const results = await client.batchCreate(batch.map((n) => ({ ...Resources.pods, namespace: NS, body: pod(n) })));
      const bad = results.find((r) => r instanceof Error);
      if (bad) throw bad;
    }
    await until(`${count} pods Running`, () => names.every((n) => running.has(n)), 300_000, () => `${names.filter((n) => running.has(n)).length}/${count} Running`);
    const tEnd = Math.max(...names.map((n) => running.get(n)!));
    // the shims of the new pods: counted whole (each started during the phase)
    const after = sample();
    const busyDuringStarts = busy();
    const loadAfterStarts = loads();
    const lat = summarize(names.map((n) => running.get(n)! - created.get(n)!).sort((a, b) => a - b));

    await new Promise((r) => setTimeout(r, 3000));
    const idle0 = processCpuMs(kubelet.pid) ?? 0;
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleCpuPct = (((processCpuMs(kubelet.pid) ?? 0) - idle0) / (performance.now() - w0)) * 100;
    const mem = processMemory(kubelet.pid);

    const perPod = (k: keyof typeof before) => ((after[k] - before[k]) / count).toFixed(1);
    console.log(`pods: ${count} busybox pods created at once on the real node ${nodeName} (${host.subnet})`);
    console.log(`create -> Running: p50 ${lat.p50.toFixed(0)} ms, p99 ${lat.p99.toFixed(0)} ms, max ${lat.max.toFixed(0)} ms`);
    console.log(`pods started per second: ${(count / ((tEnd - t0) / 1000)).toFixed(1)} (${((tEnd - t0) / 1000).toFixed(2)} s for all)`);
    const phases = names.map((n) => starts.get(`${NS}/${n}`)).filter((p) => p !== undefined);
    const med = (f: (p: (typeof phases)[number]) => number) => summarize(phases.map(f));
    const phaseText = [...START_PHASES, 'reportedMs' as const].map((k) => {
      const s = med((p) => p[k]);
      return `${k.replace(/Ms$/, '')} ${ms(s.p50)}/${ms(s.p99)}`;
    });
    const watched = med((p) => p.admittedAt - createdWall.get(p.pod.slice(NS.length + 1))!);
    console.log(`kubelet's phases per pod, median/p99 ms (${phases.length} pods logged): created -> admitted ${ms(watched.p50)}/${ms(watched.p99)}, ${phaseText.join(', ')}`);
    console.log(`CPU per pod start: kubelet ${perPod('kubelet')} ms, containerd ${perPod('containerd')} ms, shims ${perPod('shims')} ms (apiserver ${perPod('apiserver')} ms, nats-server ${perPod('nats-server')} ms)`);
    console.log(`CPU per pod start of containerd with all it ran (shims, runc, CNI plugins; cgroup): ${perPod('containerdTree')} ms; machine busy ${(busyDuringStarts * 100).toFixed(0)} % of ${cpus().length} CPUs meanwhile; load average ${loadAtStart} before, ${loadAfterStarts} after`);
    console.log(`kubelet with ${count + 1} pods running, idle: CPU ${idleCpuPct.toFixed(2)} % over ${idleSeconds} s, RSS ${((mem?.rss ?? NaN) / 1024 / 1024).toFixed(1)} MiB`);
    if (criPods > 0) {
      await stopChild(kubelet);
      const cpu0 = containerdTree?.cpuMs() ?? NaN;
      const busyCri = machineBusy();
      const r = await criOnly(socket, host.dir, criPods);
      const criCpu = ((containerdTree?.cpuMs() ?? NaN) - cpu0) / criPods;
      console.log(`containerd alone (the benchmark's CRI calls, ${criPods} pods, 4 at a time): ${r.podsPerSecond.toFixed(1)} pods/s, one pod start p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms; median RunPodSandbox ${ms(r.calls.sandbox)} ms, CreateContainer ${ms(r.calls.create)} ms, StartContainer ${ms(r.calls.start)} ms; containerd tree CPU ${criCpu.toFixed(1)} ms per pod, machine busy ${(busyCri() * 100).toFixed(0)} %`);
    }
    console.log(`BENCH_JSON ${JSON.stringify({ phase: 'podstartup', pods: count, p50Ms: lat.p50, p99Ms: lat.p99, maxMs: lat.max, podsPerSecond: count / ((tEnd - t0) / 1000), cpuMsPerPod: Object.fromEntries(Object.keys(before).map((k) => [k, +perPod(k as keyof typeof before)])), kubeletIdleCpuPct: idleCpuPct, kubeletRssBytes: mem?.rss, machineBusy: busyDuringStarts, phaseMediansMs: Object.fromEntries([...START_PHASES, 'reportedMs'].map((k) => [k, med((p) => p[k as 'reportedMs']).p50])) })}`);
  } finally {
    await informer.stop().catch(() => undefined);
    await stopChild(kubelet);
    client.close();
    await nc.close().catch(() => undefined);
    await cluster.stop();
    await cleanUpTestNodeHost(host);
    containerdTree?.remove();
  }
}

main().catch((e) => {
  console.error(`bench/podstartup: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
