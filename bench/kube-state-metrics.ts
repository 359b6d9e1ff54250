/**
 * `npm run bench:ksm`: kube-state-metrics at scale. A control plane of its own (nats-server
 * and an apiserver, child processes), N pods (default 100,000, requests and limits, spread
 * over nodes that exist as Node objects) and `flotilla kube-state-metrics` as a separate
 * process. It prints:
 *  - how long kube-state-metrics takes to list everything and be ready;
 *  - a full scrape of /metrics (the HTTP GET to its last byte), p50 and max of --runs, with
 *    the body's size and series count;
 *  - its resident memory after the scrapes;
 *  - in this process, the rendering a change costs (MetricsStore.set per pod).
 * Nothing asserts on speed.
 */
import { get } from 'node:http';
import { parseArgs } from 'node:util';
import { ApiClient, connectNats, Resources } from '../lib/client/mod.js';
import { freePort } from '../lib/nats/server.js';
import { intFlag } from '../lib/process/flags.js';
import { RESOURCE_FAMILIES } from '../services/kube-state-metrics/families.js';
import { MetricsStore } from '../services/kube-state-metrics/store.js';
import { component, startCluster, stopChild } from '../test/cluster.js';
import { createBoundPods } from './pods.js';
import { processMemory, until } from './measure.js';

const USAGE = 'usage: node dist/bench/kube-state-metrics.js [--pods 100000] [--nodes 1000] [--runs 5]';
const NS = 'ksm-bench';

/** GET url to its last byte, as Prometheus reads it: bytes and kube_* lines counted, nothing decoded. */
function scrape(url: string): Promise<{ bytes: number; series: number }> {
  const marker = Buffer.from('\nkube_');
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let bytes = 0;
      let series = 0;
      let tail = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // a marker split across two chunks is found in the kept edge (shorter than a marker: nothing counted twice)
        const b = Buffer.concat([tail, chunk]);
        for (let i = b.indexOf(marker); i >= 0; i = b.indexOf(marker, i + 1)) series++;
        tail = b.subarray(Math.max(0, b.length - marker.length + 1));
      });
      res.on('end', () => resolve({ bytes, series }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pods: { type: 'string' }, nodes: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const podCount = intFlag(values.pods, '--pods', 1) ?? 100_000;
  const nodeCount = intFlag(values.nodes, '--nodes', 1) ?? 1000;
  const runs = intFlag(values.runs, '--runs', 1) ?? 5;
  const cluster = await startCluster();
  let ksm: ReturnType<typeof component> | undefined;
  const nc = await connectNats(cluster.natsUrl, { name: 'bench-ksm' });
  const client = new ApiClient(nc, { requestTimeoutMs: 120_000 });
  try {
    const t0 = performance.now();
    await createBoundPods(client, { namespace: NS, nodePrefix: 'ksm-node', nodes: nodeCount, pods: podCount });
    const created = (performance.now() - t0) / 1000;

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    ksm = component(['kube-state-metrics', '--nats', cluster.natsUrl, '--port', String(port)]);
    const ready = await until('kube-state-metrics ready', async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, 600_000);
    const times: number[] = [];
    let bytes = 0;
    let series = 0;
    for (let r = 0; r < runs; r++) {
      const s0 = performance.now();
      const got = await scrape(`${url}/metrics`);
      times.push(performance.now() - s0);
      bytes = got.bytes;
      series = got.series;
    }
    const mem = processMemory(ksm.pid);
    times.sort((a, b) => a - b);

    // the work a change costs: every pod family rendered for one pod, over all pods
    const pods = [];
    let cont: string | undefined;
    do {
      const page = await client.list({ ...Resources.pods, namespace: NS }, { limit: 1000, continue: cont });
      pods.push(...page.items);
      cont = page.metadata.continue || undefined;
    } while (cont);
    const store = new MetricsStore(RESOURCE_FAMILIES.find((f) => f.gvr.resource === 'pods')!.families);
    const r0 = performance.now();
    for (const p of pods) store.set(p);
    const renderUs = ((performance.now() - r0) * 1000) / pods.length;

    console.log(
      [
        `kube-state-metrics over ${podCount} pods (Pending, one container with requests and limits) on ${nodeCount} nodes:`,
        `  objects created                ${created.toFixed(1)} s`,
        `  listed and ready               ${ready.toFixed(1)} s after its start`,
        `  full scrape of /metrics        p50 ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, max ${times[times.length - 1]!.toFixed(0)} ms (${runs} runs)`,
        `  body                           ${(bytes / 2 ** 20).toFixed(1)} MiB, ${series} kube_* series`,
        `  resident memory                ${mem ? (mem.rss / 2 ** 20).toFixed(0) : '?'} MiB (peak ${mem ? (mem.hwm / 2 ** 20).toFixed(0) : '?'} MiB)`,
        `  rendering on change            ${renderUs.toFixed(1)} µs per pod (all pod families, this process)`,
      ].join('\n'),
    );
  } finally {
    await stopChild(ksm);
    client.close();
    await nc.close();
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`bench:ksm: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
