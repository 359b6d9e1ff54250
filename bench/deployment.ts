/**
 * The workload benchmark: on N hollow nodes, how long a Deployment of R replicas takes to
 * become fully available and to finish a rolling update, and the pod startup latency
 * (pod created -> observed Running and Ready) p50 / p99 over its pods.
 *
 *   node dist/bench/deployment.js [--nodes 1000] [--replicas 10000]
 *
 * Every component runs as its own process (nats-server, apiserver, scheduler,
 * controller-manager, one kubelet carrying the hollow nodes); the benchmark talks to the
 * cluster only through the NATS API, as a user would.
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, Resources, SharedInformer } from '../lib/client/mod.js';
import { freePort } from '../lib/nats/server.js';
import { component, startCluster, stopChild } from '../test/cluster.js';
import { benchClusterEnv, until } from './measure.js';
import { isRunningReady } from './pods.js';
import { summarize } from './stats.js';

const NS = 'default';
const NAME = 'bench-web';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '1000' }, replicas: { type: 'string', default: '10000' } } });
  const nodes = Number(values.nodes);
  const replicas = Number(values.replicas);
  process.stderr.write(`deployment benchmark: ${nodes} hollow nodes, a Deployment of ${replicas} replicas\n`);

  const cluster = await startCluster({ scheduler: {}, ...benchClusterEnv() });
  const children: ChildProcess[] = [];
  const nc = await connectNats(cluster.natsUrl, { name: 'bench-deployment' });
  const client = new ApiClient(nc);
  try {
    children.push(component(['controller-manager', '--nats', cluster.natsUrl, '--port', String(await freePort()), '--leader-elect=false']));
    children.push(component(['kubelet', '--nats', cluster.natsUrl, '--runtime', 'hollow', '--nodes', String(nodes), '--pods', String(Math.max(110, Math.ceil((2 * replicas) / nodes) + 10))]));
    const readyNodes = async () => {
      let ready = 0;
      let cont: string | undefined;
      do {
        const page = await client.list<Node>(Resources.nodes, { limit: 500, continue: cont });
        ready += page.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        cont = page.metadata?.continue || undefined;
      } while (cont);
      return ready;
    };
    let seenNodes = 0;
    const nodesUp = await until('hollow nodes Ready', async () => (seenNodes = await readyNodes()) >= nodes, 300_000, () => `${seenNodes}/${nodes}`);

    // pod startup latency: first sight of a pod (its creation) -> first sight Running and
    // Ready, split at the first sight of its binding (spec.nodeName): scheduling, then the
    // kubelet. Sight, not creationTimestamp, which has whole-second resolution.
    const created = new Map<string, number>();
    const bound = new Map<string, number>();
    const startup: number[] = [];
    const scheduling: number[] = [];
    const kubelet: number[] = [];
    const started = new Set<string>();
    // a re-list means events were missed: pods created and gone in the gap are not counted
    // and the others' times are late, so the figures say how often it happened
    let relists = 0;
    const pods = new SharedInformer<Pod>(client, Resources.pods, {
      namespace: NS,
      labelSelector: `app=${NAME}`,
      onError: (e) => {
        relists++;
        process.stderr.write(`  the benchmark's pod watch failed, re-listing: ${(e as Error).message}\n`);
      },
    });
    const observe = (pod: Pod) => {
      const name = pod.metadata?.name;
      if (!name) return;
      const now = performance.now();
      if (!created.has(name)) created.set(name, now);
      if (pod.spec?.nodeName && !bound.has(name)) bound.set(name, now);
      if (!started.has(name) && isRunningReady(pod)) {
        started.add(name);
        const at = created.get(name)!;
        const boundAt = bound.get(name)!;
        startup.push(now - at);
        scheduling.push(boundAt - at);
        kubelet.push(now - boundAt);
      }
    };
    pods.addEventHandler({ onAdd: observe, onUpdate: (_old, pod) => observe(pod) });
    pods.start();
    await pods.waitForSync();

    const deployment = (image: string): Deployment => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAME, namespace: NS },
      spec: {
        replicas,
        selector: { matchLabels: { app: NAME } },
        template: { metadata: { labels: { app: NAME } }, spec: { containers: [{ name: 'web', image }] } },
      },
    });
    const ref = { ...Resources.deployments, namespace: NS, name: NAME };
    let status: Deployment['status'] = {};
    const rolledOut = async (generation: number) => {
      const d = await client.get<Deployment>(ref);
      status = d.status ?? {};
      return (
        (status.observedGeneration ?? 0) >= generation &&
        status.updatedReplicas === replicas &&
        status.availableReplicas === replicas &&
        status.replicas === replicas
      );
    };
    const show = () => `updated ${status?.updatedReplicas ?? 0}, available ${status?.availableReplicas ?? 0}, total ${status?.replicas ?? 0} of ${replicas}`;

    await client.create({ ...Resources.deployments, namespace: NS }, deployment('web:v1'));
    const available = await until('Deployment available', () => rolledOut(1), 1_800_000, show);
    const startupFirst = summarize(startup);
    const firstCount = startup.length;

    await client.patch(ref, 'strategic', { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:v2' }] } } } });
    const rollout = await until('rolling update finished', () => rolledOut(2), 1_800_000, show);
    pods.stop();
    const all = summarize(startup);
    const update = summarize(startup.slice(firstCount));
    const toBind = summarize(scheduling);
    const toRun = summarize(kubelet);

    const ms = (v: number) => `${v.toFixed(0)} ms`;
    process.stdout.write(
      [
        '',
        `hollow nodes Ready                       ${nodesUp.toFixed(1)} s (${nodes} nodes)`,
        `Deployment of ${replicas} fully available   ${available.toFixed(1)} s`,
        `rolling update (default 25%/25%) done    ${rollout.toFixed(1)} s`,
        `pod startup (create -> Running+Ready), first rollout: p50 ${ms(startupFirst.p50)}, p99 ${ms(startupFirst.p99)} over ${startupFirst.count} pods`,
        `pod startup, rolling update:                          p50 ${ms(update.p50)}, p99 ${ms(update.p99)} over ${update.count} pods`,
        `pod startup, both rollouts:                           p50 ${ms(all.p50)}, p99 ${ms(all.p99)} over ${all.count} pods`,
        `  of which create -> bound (scheduling):              p50 ${ms(toBind.p50)}, p99 ${ms(toBind.p99)}`,
        `  and bound -> Running+Ready (kubelet):               p50 ${ms(toRun.p50)}, p99 ${ms(toRun.p99)}`,
        `the benchmark's pod watch re-listed ${relists} times${relists ? ' (events were missed: figures are skewed)' : ''}`,
        '(upstream SLO: p99 < 5 s; our aim: p99 < 1 s)',
        '',
      ].join('\n'),
    );
  } finally {
    client.close();
    await nc.close();
    await Promise.all(children.map(stopChild));
    await cluster.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`deployment benchmark failed: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
