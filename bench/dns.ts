/**
 * The cluster DNS benchmark (issue 13: at least 50,000 queries/s on 2 cores): queries a
 * second and their p50/p99 latency, from a local load generator against `flotilla dns`
 * running as its own process, and the CPU each side spent.
 *
 *   npm run bench:dns -- [--services 1000] [--headless 100] [--seconds 10] [--inflight 256] [--tcp]
 *
 * Its own nats-server and an apiserver in this process (idle once the DNS server's
 * informers listed); N ClusterIP Services and H headless ones with 10 endpoints each.
 * The generator is one UDP socket with --inflight queries outstanding: each in-flight
 * slot has its own buffer, refilled (no allocation) from pre-encoded queries with the
 * slot as the query ID; a response frees its slot for the next query. The mix: A of
 * ClusterIP and headless Services, SRV of named ports, PTR of Service IPs, and NXDOMAIN
 * names (each a tenth of the cached answers' keys stays the same, so this measures the
 * server's steady state, answers cached). A query unanswered for 1 s counts as lost and
 * its slot goes on.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import * as dnsPacket from 'dns-packet';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, forEachLimited, Resources } from '../lib/client/mod.js';
import { startNatsServer } from '../lib/nats/server.js';
import { intToIp } from '../lib/net/mod.js';
import { startApiServer } from '../services/apiserver/server.js';
import { literalLookup } from '../services/dns/listener.js';
import { spawnFlotilla, stopChild } from '../test/cluster.js';
import { processCpuMs } from './cpu.js';
import { waitFor } from '../test/wait.js';

const USAGE = `usage: npm run bench:dns -- [--services 1000] [--headless 100] [--seconds 10] [--inflight 256]

  --services N   ClusterIP Services (default 1000)
  --headless H   headless Services with 10 ready endpoints each (default 100)
  --seconds S    how long the load runs (default 10), after 2 s of warm-up
  --inflight W   queries outstanding at once from the one generator socket (default 256)`;

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { services: { type: 'string' }, headless: { type: 'string' }, seconds: { type: 'string' }, inflight: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const nServices = Number(values.services ?? 1000);
  const nHeadless = Number(values.headless ?? 100);
  const seconds = Number(values.seconds ?? 10);
  const inflight = Math.min(4096, Number(values.inflight ?? 256));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flt-bench-dns-'));
  const nats = await startNatsServer({ dataDir: path.join(dataDir, 'nats') });
  const api = await startApiServer({ natsUrl: nats.url, httpPort: 0, bucket: 'benchdns' });
  const nc = await connectNats(nats.url, { name: 'bench-dns' });
  const client = new ApiClient(nc);
  let dns: ReturnType<typeof spawnFlotilla> | undefined;
  try {
    const t0 = Date.now();
    const base = 0x0a600000 + 0x1000; // 10.96.16.0: clear of the static band
    await forEachLimited(Array.from({ length: nServices }, (_, i) => i), 32, async (i) => {
      await client.create<Service>({ ...Resources.services, namespace: 'default' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'default' }, spec: { clusterIP: intToIp(base + i), ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    });
    await forEachLimited(Array.from({ length: nHeadless }, (_, i) => i), 32, async (i) => {
      await client.create<Service>({ ...Resources.services, namespace: 'default' }, { apiVersion: 'v1', kind: 'Service', metadata: { name: `hl-${i}`, namespace: 'default' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
      await client.create<EndpointSlice>({ ...Resources.endpointslices, namespace: 'default' }, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `hl-${i}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': `hl-${i}` } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: 10 }, (_, j) => ({ addresses: [intToIp(0x0af40000 + i * 16 + j)], conditions: { ready: true } })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
    });
    console.log(`created ${nServices} ClusterIP and ${nHeadless} headless Services (10 endpoints each) in ${Date.now() - t0} ms`);

    dns = spawnFlotilla(['dns', '--nats', nats.url, '--port', '0', '--bind-address', '127.0.0.1', '--advertise-address', '127.0.0.1', '--metrics-port', '0', '--register=false']);
    const port = await waitFor('flotilla dns to print its port', () => Number(/ port (\d+) \(UDP, TCP\)/.exec(dns!.output())?.[1]) || undefined, 30_000);

    // the query mix, pre-encoded
    const names: Array<[string, dnsPacket.RecordType]> = [];
    for (let i = 0; i < Math.min(nServices, 500); i++) names.push([`svc-${i}.default.svc.cluster.local`, 'A']);
    for (let i = 0; i < Math.min(nHeadless, 100); i++) names.push([`hl-${i}.default.svc.cluster.local`, 'A']);
    for (let i = 0; i < 100; i++) names.push([`_http._tcp.svc-${i % nServices}.default.svc.cluster.local`, 'SRV']);
    for (let i = 0; i < 100; i++) names.push([`${intToIp(base + (i % nServices)).split('.').reverse().join('.')}.in-addr.arpa`, 'PTR']);
    for (let i = 0; i < 100; i++) names.push([`nope-${i}.default.svc.cluster.local`, 'A']);
    const queries = names.map(([name, type]) => dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }));

    const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20, lookup: literalLookup as never });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    // wait until the server's informers listed: the last Service answers
    const probe = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: `svc-${nServices - 1}.default.svc.cluster.local` }] });
    await waitFor('the last Service to answer', () =>
      new Promise<boolean | undefined>((resolve) => {
        const t = setTimeout(() => (sock.off('message', on), resolve(undefined)), 200);
        const on = (m: Buffer) => {
          clearTimeout(t);
          sock.off('message', on);
          resolve((m[3] & 0xf) === 0 && m.readUInt16BE(6) > 0 ? true : undefined);
        };
        sock.on('message', on);
        sock.send(probe, port, '127.0.0.1');
      }), 30_000);

    const slotBuf = Array.from({ length: inflight }, () => Buffer.alloc(512));
    const slotLen = new Uint16Array(inflight);
    const sentAt = new Float64Array(inflight);
    const maxSamples = 4_000_000;
    const lat = new Float64Array(maxSamples);
    let samples = 0;
    let answered = 0;
    let lost = 0;
    let next = 0;
    let measuring = false;
    let running = true;
    const rcodes = new Float64Array(16);
    const send = (slot: number) => {
      const q = queries[next++ % queries.length];
      const buf = slotBuf[slot];
      q.copy(buf, 0);
      buf.writeUInt16BE(slot, 0);
      slotLen[slot] = q.length;
      sentAt[slot] = performance.now();
      sock.send(buf, 0, q.length, port, '127.0.0.1');
    };
    sock.on('message', (m) => {
      const slot = m.readUInt16BE(0);
      if (slot >= inflight || sentAt[slot] === 0) return;
      const ms = performance.now() - sentAt[slot];
      sentAt[slot] = 0;
      if (measuring) {
        answered++;
        rcodes[m[3] & 0xf]++;
        if (samples < maxSamples) lat[samples++] = ms;
      }
      if (running) send(slot);
    });
    const reaper = setInterval(() => {
      const now = performance.now();
      for (let s = 0; s < inflight; s++)
        if (sentAt[s] !== 0 && now - sentAt[s] > 1000) {
          if (measuring) lost++;
          if (running) send(s);
        }
    }, 100);
    for (let s = 0; s < inflight; s++) send(s);
    await new Promise((r) => setTimeout(r, 2000));
    measuring = true;
    const cpu0 = { server: processCpuMs(dns.child.pid) ?? 0, generator: processCpuMs(process.pid) ?? 0 };
    const start = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - start) / 1000;
    measuring = false;
    const cpu1 = { server: processCpuMs(dns.child.pid) ?? 0, generator: processCpuMs(process.pid) ?? 0 };
    running = false;
    clearInterval(reaper);
    sock.close();

    const sorted = lat.slice(0, samples).sort();
    const qps = answered / elapsed;
    console.log(`\nflotilla dns, UDP, ${queries.length} distinct queries (A ClusterIP/headless, SRV, PTR, NXDOMAIN), ${inflight} in flight, ${seconds} s`);
    console.log(`  queries/s      ${qps.toFixed(0)}   (${answered} answered, ${lost} lost)`);
    console.log(`  latency        p50 ${percentile(sorted, 50).toFixed(3)} ms   p99 ${percentile(sorted, 99).toFixed(3)} ms   max ${sorted.length ? sorted[sorted.length - 1].toFixed(3) : 'NaN'} ms`);
    console.log(`  rcodes         NOERROR ${rcodes[0]}  NXDOMAIN ${rcodes[3]}  other ${answered - rcodes[0] - rcodes[3]}`);
    const serverCpu = (cpu1.server - cpu0.server) / 1000 / elapsed;
    const genCpu = (cpu1.generator - cpu0.generator) / 1000 / elapsed;
    console.log(`  CPU            server ${(serverCpu * 100).toFixed(0)} % of a core (${((cpu1.server - cpu0.server) * 1000 / Math.max(1, answered)).toFixed(1)} µs/query), generator ${(genCpu * 100).toFixed(0)} %`);
    console.log(`  machine        ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`SUMMARY dns_qps=${qps.toFixed(0)} dns_p50_ms=${percentile(sorted, 50).toFixed(3)} dns_p99_ms=${percentile(sorted, 99).toFixed(3)}`);
  } finally {
    await stopChild(dns);
    client.close();
    await nc.close();
    await api.stop();
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
