/**
 * `npm run bench:logging`: cluster-level logging end to end on this machine.
 *
 * Its own nats-server (temporary folder) and `flotilla logging` as a separate process; the
 * kubelet's shipper (services/kubelet/logs/shipper.ts) runs in this process, as it runs in
 * the kubelet, over CRI log files written beforehand (P pods × L lines of ~100 bytes of
 * text). It prints:
 *  - ingestion: lines/s and MiB/s from the first read to the last ack (file bytes and
 *    text bytes), then to the logging service's index having read them (queryable);
 *  - query latency: the last 10,000 lines of one pod as a `flotilla logs` query session
 *    over NATS (all NDJSON received), and the last 5,000 over Loki's HTTP query_range
 *    (Loki's per-query maximum), p50 and p99 of 20 runs each.
 * Nothing asserts on speed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectNats } from '../lib/client/mod.js';
import { LOG_QUERY_SUBJECT } from '../lib/logging/mod.js';
import { freePort, startNatsServer } from '../lib/nats/server.js';
import { intFlag } from '../lib/process/flags.js';
import { Channel, openStream } from '../lib/stream/mod.js';
import { LogShipper } from '../services/kubelet/logs/shipper.js';
import { component, stopChild } from '../test/cluster.js';
import { until } from './measure.js';

const USAGE = `usage: node dist/bench/logging.js [--pods 8] [--lines 125000] [--runs 20]`;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** CRI log lines of one pod, ~100 bytes of text each. */
function podLog(pod: number, lines: number, t0: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const ts = new Date(t0 + i).toISOString().replace('Z', '000042Z');
    const status = i % 50 === 0 ? 500 : 200;
    parts.push(`${ts} ${i % 10 === 0 ? 'stderr' : 'stdout'} F ${ts} level=info pod=p${pod} req=${i} method=GET path=/api/v1/items/${i % 997} status=${status} dur=${i % 300}ms user=u${i % 4099}\n`);
  }
  return Buffer.from(parts.join(''));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pods: { type: 'string' }, lines: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const pods = intFlag(values.pods, '--pods', 1, 1000) ?? 8;
  const linesPerPod = intFlag(values.lines, '--lines', 10_000) ?? 125_000;
  const runs = intFlag(values.runs, '--runs', 1) ?? 20;
  const total = pods * linesPerPod;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flt-bench-logging-'));
  const nats = await startNatsServer({ dataDir: path.join(dir, 'nats') });
  const port = await freePort();
  const logging = component(['logging', '--nats', nats.url, '--port', String(port), '--retention-bytes', '8Gi']);
  const nc = await connectNats(nats.url, { name: 'bench-logging' });
  let shipper: LogShipper | undefined;
  try {
    const base = `http://127.0.0.1:${port}`;
    await until('the logging service', () => fetch(`${base}/ready`).then((r) => r.ok, () => false), 30_000);

    // the node's files, written before the shipper starts
    const t0 = Date.now() - 3600_000;
    let fileBytes = 0;
    for (let p = 0; p < pods; p++) {
      const d = path.join(dir, 'pods', `bench_p${p}_uid-${p}`, 'app');
      mkdirSync(d, { recursive: true });
      const b = podLog(p, linesPerPod, t0);
      fileBytes += b.length;
      writeFileSync(path.join(d, '0.log'), b);
    }
    const textBytes = fileBytes - total * (new Date().toISOString().length + 3 + 9);
    console.log(`logging bench: ${pods} pods × ${linesPerPod.toLocaleString()} lines = ${total.toLocaleString()} lines, ${(fileBytes / 2 ** 20).toFixed(1)} MiB of CRI files (~${Math.round(textBytes / total)} bytes of text a line)`);

    const cpu0 = process.cpuUsage();
    const start = performance.now();
    shipper = new LogShipper({ nc, nodeName: 'bench-node', podLogDir: path.join(dir, 'pods'), stateDir: path.join(dir, 'state'), pods: { labels: () => ({ app: 'bench' }) }, pollMs: 100 });
    shipper.start();
    const s = shipper;
    const acked = await until('all lines acked', () => s.stats.lines >= total, 600_000, () => `${s.stats.lines.toLocaleString()} lines`);
    const cpu = process.cpuUsage(cpu0);
    // queryable: the index has read every batch (a query waits for that)
    const last = `req=${linesPerPod - 1} `;
    await until('the last line queryable', async () => {
      const r = await fetch(`${base}/loki/api/v1/query_range?query=${encodeURIComponent(`{pod="p${pods - 1}"} |= "${last}"`)}&start=${t0 - 1000}000000&limit=1`);
      const j = (await r.json()) as { data?: { result?: unknown[] } };
      return (j.data?.result?.length ?? 0) > 0;
    }, 600_000);
    const since = (performance.now() - start) / 1000;
    const mib = (b: number, s: number) => (b / 2 ** 20 / s).toFixed(1);
    console.log(`ingest (read → JetStream ack): ${acked.toFixed(2)} s, ${Math.round(total / acked).toLocaleString()} lines/s, ${mib(fileBytes, acked)} MiB/s of CRI files (${mib(textBytes, acked)} MiB/s of text), ${s.stats.batches} messages`);
    console.log(`  shipper CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (${(((cpu.user + cpu.system) / 1e6 / acked) * 100).toFixed(0)}% of a core)`);
    console.log(`ingest to queryable (index caught up): ${since.toFixed(2)} s, ${Math.round(total / since).toLocaleString()} lines/s, ${mib(fileBytes, since)} MiB/s`);

    // the last 10,000 lines of one pod over NATS (what flotilla logs does)
    const natsTimes: number[] = [];
    let got = 0;
    for (let i = 0; i < runs; i++) {
      const q0 = performance.now();
      const session = await openStream(nc, LOG_QUERY_SUBJECT, { kind: 'log', target: {}, options: { query: '{pod="p0"}', start: t0 - 1000, limit: 10_000 } });
      let lines = 0;
      for await (const chunk of session.channel(Channel.STDOUT)) {
        const b = chunk as Buffer;
        for (let at = b.indexOf(0x0a); at >= 0; at = b.indexOf(0x0a, at + 1)) lines++;
      }
      natsTimes.push(performance.now() - q0);
      got = lines - 2; // the two streams' label lines
    }
    console.log(`last 10,000 lines of one pod over NATS (flotilla logs): ${got.toLocaleString()} lines, p50 ${percentile(natsTimes, 50).toFixed(1)} ms, p99 ${percentile(natsTimes, 99).toFixed(1)} ms (${runs} runs)`);
    const httpTimes: number[] = [];
    let httpLines = 0;
    for (let i = 0; i < runs; i++) {
      const q0 = performance.now();
      const r = await fetch(`${base}/loki/api/v1/query_range?query=${encodeURIComponent('{pod="p0"}')}&start=${t0 - 1000}000000&limit=5000`);
      const j = (await r.json()) as { data: { result: Array<{ values: unknown[] }> } };
      httpTimes.push(performance.now() - q0);
      httpLines = j.data.result.reduce((n, x) => n + x.values.length, 0);
    }
    console.log(`last 5,000 lines of one pod over Loki's query_range: ${httpLines.toLocaleString()} lines, p50 ${percentile(httpTimes, 50).toFixed(1)} ms, p99 ${percentile(httpTimes, 99).toFixed(1)} ms (${runs} runs)`);
  } finally {
    await shipper?.stop();
    await nc.close();
    await stopChild(logging);
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`bench logging: ${e.message}`);
    process.exit(1);
  },
);
