/**
 * The hollow-node benchmark: can one kubelet process carry N hollow nodes (issue 5: 10,000
 * on the development machine)? It prints
 *   - the time until all N Nodes are registered and Ready;
 *   - over a steady-state window: Lease renewals per second, the gap between one Lease's
 *     renewals, and the oldest Lease at any moment against the node-monitor grace period
 *     (40 s: an older Lease would make the node lifecycle controller mark the node Unknown);
 *   - CPU % and resident memory of the kubelet, the apiserver and nats-server (and this
 *     benchmark, which shares the machine) over that window, from /proc;
 *   - the time for P pods bound straight to the nodes (spec.nodeName, no scheduler: this is
 *     about the kubelet) to reach Running and Ready, their create -> Running p50 / p99, and
 *     whether the Leases stayed fresh meanwhile.
 *
 *   node dist/bench/hollow-nodes.js [--nodes 10000] [--window 60] [--pods 10000] [--controller-manager]
 *
 * nats-server, the apiserver and the kubelet each run as their own process; the
 * benchmark follows Nodes, Leases and Pods with informers over the NATS API, as the node
 * lifecycle controller would.
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../lib/api/errors.js';
import { ApiClient, connectNats, Resources, SharedInformer } from '../lib/client/mod.js';
import { freePort } from '../lib/nats/server.js';
import { HOLLOW_LABEL, NODE_LEASE_NAMESPACE } from '../services/kubelet/nodes.js';
import { component, startCluster, stopChild } from '../test/cluster.js';
import { processMemory, until } from './measure.js';
import { processCpuMs } from './cpu.js';
import { isRunningReady } from './pods.js';
import { summarize } from './stats.js';

const USAGE = `usage: node dist/bench/hollow-nodes.js [options]

  --nodes N           hollow nodes the one kubelet process carries (default 10000)
  --window S          steady-state measuring window, seconds (default 60)
  --settle S          wait after the nodes are Ready before measuring, seconds (default 15)
  --pods P            pods bound straight to the nodes, one per node round-robin (default: --nodes; 0 skips)
  --start-delay-ms D  the kubelet's pod start delay (default 0)
  --controller-manager  also run the controller-manager (its node lifecycle controller marks a
                      node whose Lease lapses Unknown: "nodes that left Ready" then means something;
                      its node IPAM gives every node a /24 of 10.0.0.0/8, and the time for that is printed)
  -h, --help          this help`;

/** upstream --node-monitor-grace-period: a Lease older than this gets its node marked Unknown */
const GRACE_SECONDS = 40;
const NS = 'default';
const POD_BATCH = 250;

function isReady(n: Node): boolean {
  return !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The freshness of every Lease, as the node lifecycle controller sees it through its watch. */
class LeaseWatch {
  /** node name -> when its Lease's renewTime last changed (our clock, ms) */
  readonly heard = new Map<string, number>();
  renewals = 0;
  /** ms between two renewals of one Lease, while recording */
  gaps: number[] = [];
  recording = false;
  /** the oldest Lease seen at any sample while tracking, seconds */
  maxAgeSeconds = 0;
  private readonly informer: SharedInformer<Lease>;

  constructor(client: ApiClient, onError: (e: unknown) => void) {
    this.informer = new SharedInformer<Lease>(client, Resources.leases, { namespace: NODE_LEASE_NAMESPACE, onError });
    this.informer.addEventHandler({
      onAdd: (l) => this.heard.set(l.metadata!.name!, performance.now()),
      onUpdate: (o, l) => {
        if (o.spec?.renewTime === l.spec?.renewTime) return;
        const now = performance.now();
        const name = l.metadata!.name!;
        const prev = this.heard.get(name);
        this.heard.set(name, now);
        if (!this.recording) return;
        this.renewals++;
        if (prev !== undefined) this.gaps.push(now - prev);
      },
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  /** The age of the oldest Lease now, seconds; folded into maxAgeSeconds. */
  sample(): number {
    const now = performance.now();
    let oldest = now;
    for (const t of this.heard.values()) if (t < oldest) oldest = t;
    const age = (now - oldest) / 1000;
    this.maxAgeSeconds = Math.max(this.maxAgeSeconds, age);
    return age;
  }

  /** Starts a fresh measurement (counters and the max age). */
  reset(recording: boolean): void {
    this.renewals = 0;
    this.gaps = [];
    this.maxAgeSeconds = 0;
    this.recording = recording;
  }

  get size(): number {
    return this.informer.store.size;
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

/** CPU % (of one core) and resident memory of the processes under test over a window. */
class ProcessWatch {
  private cpu0: Record<string, number | null> = {};
  private t0 = 0;
  readonly peakRss: Record<string, number> = {};
  private timer?: NodeJS.Timeout;

  constructor(readonly pids: Record<string, number | undefined>) {}

  begin(): void {
    this.t0 = performance.now();
    for (const [who, pid] of Object.entries(this.pids)) this.cpu0[who] = processCpuMs(pid);
    for (const who of Object.keys(this.pids)) this.peakRss[who] = 0;
    this.sampleRss();
    this.timer = setInterval(() => this.sampleRss(), 1000);
  }

  private sampleRss(): void {
    for (const [who, pid] of Object.entries(this.pids)) {
      const m = processMemory(pid);
      if (m && !Number.isNaN(m.rss)) this.peakRss[who] = Math.max(this.peakRss[who] ?? 0, m.rss);
    }
  }

  /** Ends the window: CPU % per process, steady-state peak RSS and lifetime peak (VmHWM). */
  end(): Array<{ who: string; cpuPct: number | null; rssMiB: number; hwmMiB: number | null }> {
    if (this.timer) clearInterval(this.timer);
    this.sampleRss();
    const ms = performance.now() - this.t0;
    return Object.entries(this.pids).map(([who, pid]) => {
      const a = processCpuMs(pid);
      const b = this.cpu0[who];
      const hwm = processMemory(pid)?.hwm;
      return {
        who,
        cpuPct: a === null || b === null || b === undefined ? null : ((a - b) / ms) * 100,
        rssMiB: this.peakRss[who]! / 2 ** 20,
        hwmMiB: hwm === undefined || Number.isNaN(hwm) ? null : hwm / 2 ** 20,
      };
    });
  }
}

function formatProcesses(rows: ReturnType<ProcessWatch['end']>): string[] {
  return rows.map(
    (r) =>
      `  ${r.who.padEnd(14)} CPU ${r.cpuPct === null ? '-' : r.cpuPct.toFixed(1).padStart(5)} %   RSS peak ${r.rssMiB.toFixed(0).padStart(5)} MiB   (VmHWM since start ${r.hwmMiB === null ? '-' : r.hwmMiB.toFixed(0)} MiB)`,
  );
}

function positive(v: string | undefined, flag: string, allowZero = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`${flag}: expected a ${allowZero ? 'non-negative' : 'positive'} number, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10000' },
      window: { type: 'string', default: '60' },
      settle: { type: 'string', default: '15' },
      pods: { type: 'string' },
      'start-delay-ms': { type: 'string', default: '0' },
      'controller-manager': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const nodes = positive(values.nodes, '--nodes');
  const windowS = positive(values.window, '--window');
  const settleS = positive(values.settle, '--settle', true);
  const podCount = positive(values.pods ?? values.nodes, '--pods', true);
  const startDelayMs = positive(values['start-delay-ms'], '--start-delay-ms', true);
  process.stderr.write(`hollow-node benchmark: ${nodes} hollow nodes in one kubelet process, ${windowS} s window, ${podCount} pods\n`);

  const cluster = await startCluster();
  const children: ChildProcess[] = [];
  const nc = await connectNats(cluster.natsUrl, { name: 'bench-hollow-nodes' });
  const client = new ApiClient(nc, { requestTimeoutMs: 60_000 });
  const watchErrors: string[] = [];
  const onError = (e: unknown) => {
    const m = (e as Error)?.message ?? String(e);
    watchErrors.push(m);
    process.stderr.write(`  a watch of the benchmark broke (it re-lists): ${m}\n`);
  };
  const nodeInformer = new SharedInformer<Node>(client, Resources.nodes, { labelSelector: `${HOLLOW_LABEL}=true`, onError });
  const leases = new LeaseWatch(client, onError);
  const podInformer = new SharedInformer<Pod>(client, Resources.pods, { namespace: NS, onError });
  let ageTimer: NodeJS.Timeout | undefined;
  try {
    // Ready counted from the watch, and every node that ever left Ready after it got there
    const ready = new Set<string>();
    const lostReady = new Set<string>();
    // node IPAM (with --controller-manager): when the last node got its podCIDR, from the kubelet's start
    const withCIDR = new Set<string>();
    let kubeletStarted = 0;
    let allCIDRsAfter: number | undefined;
    const track = (n: Node) => {
      const name = n.metadata!.name!;
      if (n.spec?.podCIDR && !withCIDR.has(name)) {
        withCIDR.add(name);
        if (withCIDR.size === nodes) allCIDRsAfter = (performance.now() - kubeletStarted) / 1000;
      }
      if (isReady(n)) ready.add(name);
      else if (ready.delete(name)) lostReady.add(name);
    };
    nodeInformer.addEventHandler({ onAdd: track, onUpdate: (_o, n) => track(n) });
    nodeInformer.start();
    await nodeInformer.waitForSync();
    await leases.start();

    let controllerManager: ChildProcess | undefined;
    if (values['controller-manager']) {
      // node IPAM over 10.0.0.0/8: a /24 for each of up to 65,536 nodes
      controllerManager = component(['controller-manager', '--nats', cluster.natsUrl, '--port', String(await freePort()), '--leader-elect=false', '--allocate-node-cidrs', '--cluster-cidr', '10.0.0.0/8']);
      children.push(controllerManager);
    }
    const kubeletArgs = ['kubelet', '--nats', cluster.natsUrl, '--runtime', 'hollow', '--nodes', String(nodes), '--start-delay-ms', String(startDelayMs)];
    kubeletStarted = performance.now();
    const kubelet = component(kubeletArgs);
    children.push(kubelet);
    const exited = new Promise<never>((_, reject) =>
      kubelet.once('exit', (code, sig) => reject(new Error(`the kubelet exited (${sig ?? code}) during the benchmark`))),
    );
    exited.catch(() => undefined);
    const registered = await Promise.race([
      exited,
      until(
        'Nodes registered and Ready',
        () => ready.size >= nodes && leases.size >= nodes,
        600_000,
        () => `${ready.size}/${nodes} Ready, ${leases.size} Leases`,
      ),
    ]);

    const pids: Record<string, number | undefined> = { kubelet: kubelet.pid, apiserver: cluster.apiserver.pid, 'nats-server': cluster.nats.process.pid };
    if (controllerManager) pids['controller-mgr'] = controllerManager.pid;
    pids.benchmark = process.pid;
    // without the node lifecycle controller nothing marks a node Unknown: the Lease age is the measure
    const lost = (n: number) => (controllerManager ? String(n) : `${n} (no controller-manager running: see the Lease age)`);
    // the Lease ages are looked at every second from here to the end
    ageTimer = setInterval(() => leases.sample(), 1000);

    process.stderr.write(`  settling ${settleS} s\n`);
    await new Promise((r) => setTimeout(r, settleS * 1000));
    leases.reset(true);
    const steady = new ProcessWatch(pids);
    steady.begin();
    const w0 = performance.now();
    await Promise.race([
      exited,
      new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const s = (performance.now() - w0) / 1000;
          if (s >= windowS) {
            clearInterval(tick);
            resolve();
          } else if (Math.floor(s) % 10 === 0) process.stderr.write(`  window ${s.toFixed(0)}/${windowS} s: ${leases.renewals} renewals, oldest Lease ${leases.sample().toFixed(1)} s\n`);
        }, 1000);
      }),
    ]);
    const windowSeconds = (performance.now() - w0) / 1000;
    leases.sample();
    const steadyProcs = steady.end();
    const renewals = leases.renewals;
    const gaps = summarize(leases.gaps);
    const steadyMaxAge = leases.maxAgeSeconds;
    const lostInSteady = lostReady.size;

    const out = [
      '',
      `hollow nodes: ${nodes} in one kubelet process`,
      `  registered and Ready           ${registered.toFixed(1)} s (${(nodes / registered).toFixed(0)} nodes/s)`,
      ...(controllerManager
        ? [`  podCIDR from node IPAM         ${withCIDR.size}/${nodes} nodes${allCIDRsAfter === undefined ? '' : `, the last ${allCIDRsAfter.toFixed(1)} s after the kubelet started`}`]
        : []),
      `steady state, ${windowSeconds.toFixed(0)} s window after ${settleS} s settling:`,
      `  Lease renewals                 ${(renewals / windowSeconds).toFixed(0)} /s (expected ${(nodes / 10).toFixed(0)} /s: every Lease every 10 s)`,
      `  gap between renewals of a Lease  p50 ${(gaps.p50 / 1000).toFixed(2)} s, p99 ${(gaps.p99 / 1000).toFixed(2)} s, max ${(gaps.max / 1000).toFixed(2)} s`,
      `  oldest Lease at any second     ${steadyMaxAge.toFixed(1)} s (grace period ${GRACE_SECONDS} s): ${steadyMaxAge < GRACE_SECONDS ? 'every Lease stayed fresh' : 'SOME LEASE WENT STALE'}`,
      `  nodes that left Ready          ${lost(lostInSteady)}`,
      ...formatProcesses(steadyProcs),
    ];

    if (podCount > 0) {
      // pod startup: sent -> first seen Running and Ready, by the benchmark's clock
      const sentAt = new Map<string, number>();
      const seenAt = new Map<string, number>();
      const startup: number[] = [];
      const kubeletPart: number[] = [];
      const running = new Set<string>();
      const observe = (p: Pod) => {
        const name = p.metadata!.name!;
        const now = performance.now();
        if (!seenAt.has(name)) seenAt.set(name, now);
        if (running.has(name) || !isRunningReady(p)) return;
        running.add(name);
        const sent = sentAt.get(name);
        if (sent !== undefined) startup.push(now - sent);
        kubeletPart.push(now - seenAt.get(name)!);
      };
      podInformer.addEventHandler({ onAdd: observe, onUpdate: (_o, p) => observe(p) });
      podInformer.start();
      await podInformer.waitForSync();

      leases.reset(false);
      const podsPhase = new ProcessWatch(pids);
      podsPhase.begin();
      const p0 = performance.now();
      const names = Array.from({ length: podCount }, (_, i) => `hollow-bench-${String(i).padStart(6, '0')}`);
      const pod = (i: number): Pod => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: names[i], namespace: NS, labels: { app: 'hollow-bench' } },
        spec: {
          nodeName: `hollow-${i % nodes}`,
          containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
        },
      });
      // batches of POD_BATCH, a few requests in flight, as a controller's slow start would
      let next = 0;
      const createErrors: string[] = [];
      const sender = async () => {
        while (next < podCount) {
          const from = next;
          next = Math.min(podCount, next + POD_BATCH);
          const batch: number[] = [];
          for (let i = from; i < next; i++) batch.push(i);
          const now = performance.now();
          for (const i of batch) sentAt.set(names[i]!, now);
          const results = await client.batchCreate(batch.map((i) => ({ ...Resources.pods, namespace: NS, body: pod(i) })));
          results.forEach((r) => r instanceof StatusError && createErrors.push(r.message));
        }
      };
      await Promise.all([sender(), sender(), sender(), sender()]);
      if (createErrors.length) throw new Error(`${createErrors.length} pod creates failed; first: ${createErrors[0]}`);
      const created = (performance.now() - p0) / 1000;
      await Promise.race([exited, until('pods Running', () => running.size >= podCount, 1_800_000, () => `${running.size}/${podCount} Running`)]);
      const allRunning = (performance.now() - p0) / 1000;
      leases.sample();
      const podProcs = podsPhase.end();
      const s = summarize(startup);
      const k = summarize(kubeletPart);
      out.push(
        `${podCount} pods bound with spec.nodeName (${Math.ceil(podCount / nodes)} a node at most), no scheduler:`,
        `  created                        ${created.toFixed(1)} s`,
        `  all Running and Ready          ${allRunning.toFixed(1)} s after the first create (${(podCount / allRunning).toFixed(0)} pods/s)`,
        `  create -> Running+Ready        p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (from sending its batch create)`,
        `  first seen -> Running+Ready    p50 ${k.p50.toFixed(0)} ms, p99 ${k.p99.toFixed(0)} ms, max ${k.max.toFixed(0)} ms (the kubelet's part, as a watcher sees it)`,
        `  oldest Lease meanwhile         ${leases.maxAgeSeconds.toFixed(1)} s (grace period ${GRACE_SECONDS} s): ${leases.maxAgeSeconds < GRACE_SECONDS ? 'every Lease stayed fresh' : 'SOME LEASE WENT STALE'}`,
        `  nodes that left Ready          ${lost(lostReady.size - lostInSteady)}`,
        `  over that phase (${allRunning.toFixed(0)} s):`,
        ...formatProcesses(podProcs),
      );
    }
    if (watchErrors.length) out.push(`(the benchmark's watches broke and re-listed ${watchErrors.length} time(s); first: ${watchErrors[0]})`);
    out.push('(2 shared cores: other engineers\' work shows up in these figures; CPU % is of one core)', '');
    process.stdout.write(out.join('\n'));
  } finally {
    if (ageTimer) clearInterval(ageTimer);
    await Promise.all([nodeInformer.stop(), leases.stop(), podInformer.stop()]);
    client.close();
    await nc.close();
    await Promise.all(children.map(stopChild));
    await cluster.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`hollow-node benchmark failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
