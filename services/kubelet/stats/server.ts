/**
 * The kubelet's read-only HTTP endpoints (upstream's --read-only-port): /metrics (the
 * kubelet's own series), /metrics/resource, /metrics/cadvisor, /stats/summary and
 * /healthz. A hollow process serves every node it carries on its one port; /stats/summary
 * takes `?node=NAME` there (default: its first node).
 */
import { createServer, type Server } from 'node:http';
import { listenHttp, renderMetrics } from '../../../lib/metrics/mod.js';
import { cadvisorText, resourceMetricsText } from './exposition.js';
import type { KubeletMetrics } from './kubeletmetrics.js';
import type { StatsProvider } from './provider.js';
import { SummaryBuilder } from './summary.js';

export interface KubeletEndpoints {
  port: number;
  url: string;
  /** the stats source, once the kubelet has its nodes and pods (until then the stats endpoints answer 503) */
  provider?: StatsProvider;
  stop(): Promise<void>;
}

const TEXT_FORMAT = 'text/plain; version=0.0.4; charset=utf-8';

export async function serveKubeletEndpoints(port: number, host: string, metrics: KubeletMetrics, memoryCapacity?: () => number | undefined): Promise<KubeletEndpoints> {
  const summaries = new SummaryBuilder();
  const endpoints = {} as KubeletEndpoints;
  const handle = async (path: string, q: URLSearchParams): Promise<[number, string, string]> => {
    if (path === '/healthz') return [200, 'text/plain', 'ok'];
    if (path === '/metrics') {
      const m = await renderMetrics(metrics.registry);
      return [200, m.contentType, m.body];
    }
    const provider = endpoints.provider;
    if (!provider) {
      if (path === '/metrics/resource' || path === '/metrics/cadvisor' || path === '/stats/summary') return [503, 'text/plain', 'the kubelet has not started its pods yet\n'];
      return [404, 'text/plain', '404 page not found\n'];
    }
    if (path === '/metrics/resource') return [200, TEXT_FORMAT, resourceMetricsText(await provider.read(), provider.isHollow)];
    if (path === '/metrics/cadvisor') {
      const samples = await provider.read();
      return [200, TEXT_FORMAT, cadvisorText({ samples, extras: await provider.extras(samples), identities: provider.identities(), hollow: provider.isHollow })];
    }
    if (path === '/stats/summary') {
      const want = q.get('node') ?? provider.nodeNames()[0];
      const n = (await provider.read()).find((s) => s.node === want);
      if (!n) return [404, 'text/plain', `node "${want}" is not carried by this kubelet\n`];
      return [200, 'application/json', JSON.stringify(summaries.build(n, await provider.extras([n]), memoryCapacity?.()))];
    }
    return [404, 'text/plain', '404 page not found\n'];
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    handle(url.pathname, url.searchParams).then(
      ([code, type, body]) => {
        res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      (e: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`reading stats failed: ${e.message}\n`);
      },
    );
  });
  const { port: actual, url, stop } = await listenHttp(server, port, host);
  return Object.assign(endpoints, { port: actual, url, stop });
}
