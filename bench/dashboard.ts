/**
 * `npm run bench:dashboard`: the dashboard at scale, measured in Debian's Chromium. A
 * control plane of its own (nats-server and an apiserver, child processes), N pods
 * (default 100,000, bound to nodes that exist as Node objects, as bench:ksm makes them),
 * and `flotilla dashboard` as a separate process. It prints:
 *  - how long the dashboard takes to list everything (its /readyz);
 *  - the pod list's first render: from navigation to the first rows and the total on screen;
 *  - a pod change reaching the DOM: a status patch of the first row's pod until the page
 *    shows its new IP, p50 and max of --runs (MutationObserver in the page, one clock);
 *  - a jump to the middle of the list: scroll until those rows are on screen;
 *  - the page's memory (CDP Performance.getMetrics: JS heap, DOM nodes) and the
 *    dashboard process's resident memory;
 *  - the nodes list's bars (charts): navigation to the first tick's bars on screen.
 * Nothing asserts on speed.
 */
import { parseArgs } from 'node:util';
import { ApiClient, connectNats, Resources } from '../lib/client/mod.js';
import { freePort } from '../lib/nats/server.js';
import { intFlag } from '../lib/process/flags.js';
import { component, startCluster, stopChild } from '../test/cluster.js';
import { launchChromium } from '../test/browser.js';
import { createBoundPods, podName } from './pods.js';
import { processMemory, until } from './measure.js';

const USAGE = 'usage: node dist/bench/dashboard.js [--pods 100000] [--nodes 1000] [--runs 5]';
const NS = 'dash-bench';

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
  let dashboard: ReturnType<typeof component> | undefined;
  const nc = await connectNats(cluster.natsUrl, { name: 'bench-dashboard' });
  const client = new ApiClient(nc, { requestTimeoutMs: 120_000 });
  const browser = await launchChromium();
  try {
    const t0 = performance.now();
    await createBoundPods(client, { namespace: NS, nodePrefix: 'dash-node', nodes: nodeCount, pods: podCount });
    const created = (performance.now() - t0) / 1000;

    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    dashboard = component(['dashboard', '--nats', cluster.natsUrl, '--port', String(port)]);
    const synced = await until('the dashboard listed everything', async () => (await fetch(`${url}readyz`).catch(() => undefined))?.status === 200, 600_000);

    // the dashboard's CSP forbids eval, which playwright's polling of a string predicate uses
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    // first render: navigation start to the first rows and the total on screen, in the page's clock
    await page.goto(`${url}#/pods`);
    const total = podCount.toLocaleString('en');
    const firstRender = (await (
      await page.waitForFunction(
        `(() => { const g = document.querySelector('[role=grid][aria-label=pods]'); const s = g && g.parentElement.querySelector('[role=status]');
          return g && g.querySelector('[role=row]') && s && s.textContent.includes('${total} pods') ? performance.now() : false; })()`,
        undefined,
        { timeout: 120_000, polling: 'raf' },
      )
    ).jsonValue()) as number;

    // a pod change to the DOM: the first row's pod gets a new IP; the page notes when it shows
    const first = podName(0);
    const latencies: number[] = [];
    for (let r = 0; r < runs; r++) {
      const ip = `10.99.0.${r + 1}`;
      // the comma expression: evaluate must not wait for the promise it stores
      await page.evaluate(`(window.__seen = new Promise((resolve) => {
        const row = () => document.querySelector('[data-key="${NS}/${first}"]');
        const check = () => { const el = row(); if (el && el.textContent.includes('${ip}')) { obs.disconnect(); resolve(performance.timeOrigin + performance.now()); } };
        const obs = new MutationObserver(check); obs.observe(document.body, { subtree: true, childList: true, characterData: true }); check();
      }), 0)`);
      const sent = Date.now();
      await client.patch({ ...Resources.pods, namespace: NS, name: first, subresource: 'status' }, 'merge', { status: { podIP: ip, podIPs: [{ ip }] } });
      const seen = (await page.evaluate('window.__seen')) as number;
      latencies.push(seen - sent);
    }
    latencies.sort((a, b) => a - b);

    // a jump to the middle: the rows there arrive from the server
    const mid = Math.floor(podCount / 2);
    const jump = (await page.evaluate(`new Promise((resolve) => {
      const g = document.querySelector('[role=grid][aria-label=pods]');
      const t = performance.now();
      g.scrollTop = ${mid} * 28;
      const check = () => g.querySelector('[aria-rowindex="${mid + 1}"]') ? resolve(performance.now() - t) : requestAnimationFrame(check);
      check();
    })`)) as number;

    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
    const mem = processMemory(dashboard.pid);
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(
      [
        `dashboard over ${podCount} pods (bound, Pending) on ${nodeCount} nodes, Chromium ${browser.version()}:`,
        `  objects created                ${created.toFixed(1)} s`,
        `  dashboard listed everything    ${synced.toFixed(1)} s after its start`,
        `  pod list first render          ${firstRender.toFixed(0)} ms from navigation (first rows and "${total} pods" on screen)`,
        `  pod change -> DOM              p50 ${latencies[Math.floor(latencies.length / 2)]!.toFixed(0)} ms, max ${latencies[latencies.length - 1]!.toFixed(0)} ms (${runs} status patches)`,
        `  jump to the middle            ${jump.toFixed(0)} ms until row ${mid}'s neighbours are on screen`,
        `  page memory                    JS heap ${mib(metric('JSHeapUsedSize'))} MiB used of ${mib(metric('JSHeapTotalSize'))} MiB, ${metric('Nodes')} DOM nodes`,
        `  dashboard process              ${mem ? mib(mem.rss) : '?'} MiB resident (peak ${mem ? mib(mem.hwm) : '?'} MiB)`,
      ].join('\n'),
    );

    // the nodes' bars: from the route's change to the bars on screen (requests summed over every pod; no Prometheus or kubelet here)
    await page.evaluate(`window.__t0 = performance.now(); location.hash = '#/nodes'`);
    const bars = Math.min(40, nodeCount);
    const barsRender = (await (
      await page.waitForFunction(
        `(() => { const el = document.querySelector('[data-testid="bars-cpu"] .plot'); return el && el.uplot && el.uplot.data[0].length === ${bars} ? performance.now() - window.__t0 : false; })()`,
        undefined,
        { timeout: 60_000, polling: 'raf' },
      )
    ).jsonValue()) as number;
    console.log(`  node bars first render         ${barsRender.toFixed(0)} ms from the route's change (${bars} nodes' bars, requests of ${podCount} pods)`);
  } finally {
    await browser.close();
    await stopChild(dashboard);
    client.close();
    await nc.close();
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
