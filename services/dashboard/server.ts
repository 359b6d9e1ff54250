/**
 * The dashboard: an HTTP server on loopback that serves the browser's files (assets.ts)
 * and one WebSocket per tab (/ws, session.ts) over which every view lists and watches.
 * It reads the cluster through the apiserver over NATS (lib/client): informers keep the
 * tables (tables.ts), so a list is followed by a watch and nothing polls. Every API
 * request goes through credentials.ts.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { WebSocketServer } from 'ws';
import { connectNats, NODES, PODS, EVENTS } from '../../lib/client/mod.js';
import { announceTargets, listenHttp, newRegistry, renderMetrics, targetAddress } from '../../lib/metrics/mod.js';
import { Assets, contentSecurityPolicy } from './assets.js';
import { CredentialedClients, credentialsOf } from './credentials.js';
import { Allocation } from './allocation.js';
import { ClusterMetrics } from './metrics.js';
import { registerExecMetrics } from './exec.js';
import { registerLogMetrics } from './logs.js';
import { Overview } from './overview.js';
import { Session } from './session.js';
import { Tables } from './tables.js';

export const DEFAULT_DASHBOARD_PORT = 8090;

export interface StartDashboardOptions {
  natsUrl: string;
  /** default 8090; 0 = any free port */
  port?: number;
  /** a loopback address (default 127.0.0.1): there is no login yet, so it never listens elsewhere */
  host?: string;
  /** the Prometheus the charts ask; false: none (the components' own endpoints); default: the one announced over NATS */
  prometheusUrl?: string | false;
  /** how often the charts get a point (default 5 s) */
  metricsIntervalMs?: number;
  /** the apiserver's HTTP URL: followed logs and shells go there (NATS's API answers a log whole) */
  apiserverUrl?: string;
}

export interface RunningDashboard {
  readonly url: string;
  hasSynced(): boolean;
  stop(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Host header names this server by a loopback name: a page of another site reached through DNS rebinding is refused. */
function loopbackHost(req: IncomingMessage): boolean {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return LOOPBACK.test(host);
}

/** A WebSocket from a page this server served (not from another site the browser has open). */
function sameOrigin(req: IncomingMessage): boolean {
  return req.headers.origin === `http://${req.headers.host}`;
}


export async function startDashboard(opts: StartDashboardOptions): Promise<RunningDashboard> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.test(host)) throw new Error(`--host ${host}: the dashboard listens on loopback only until the cluster has authentication`);
  const registry = newRegistry('dashboard');
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `dashboard/${hostname()}` });
  const clients = new CredentialedClients(nc, registry, opts.apiserverUrl);
  registerLogMetrics(registry);
  registerExecMetrics(registry);
  // the tables are shared by every tab of one identity; until login there is one
  const perUser = new Map<string, { tables: Tables; overview: Overview; metrics: ClusterMetrics; allocation: Allocation }>();
  const contextFor = (req: IncomingMessage) => {
    const creds = credentialsOf(req);
    const client = clients.clientFor(creds);
    let c = perUser.get(creds.user);
    if (!c) {
      const tables = new Tables(client);
      const allocation = new Allocation(tables.get(NODES), tables.get(PODS));
      const metrics = new ClusterMetrics({ nc, allocation, prometheusUrl: opts.prometheusUrl, intervalMs: opts.metricsIntervalMs });
      c = { tables, overview: new Overview(tables.get(NODES), tables.get(PODS)), metrics, allocation };
      perUser.set(creds.user, c);
    }
    return { client, http: () => clients.httpFor(creds), ...c };
  };
  // the lists a first page load shows are warm before any browser asks
  const admin = contextFor({ headers: {} } as IncomingMessage);
  admin.tables.get(EVENTS);

  const assets = new Assets();
  const csp = contentSecurityPolicy();
  const server = createServer((req, res) => {
    if (!loopbackHost(req)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('the dashboard answers to loopback host names only\n');
      return;
    }
    const url = (req.url ?? '/').split('?')[0]!;
    if (url === '/healthz' || url === '/livez') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (url === '/readyz') {
      const ok = admin.tables.get(PODS).hasSynced() && admin.tables.get(NODES).hasSynced();
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'caches not synced');
    }
    if (url === '/metrics') {
      renderMetrics(registry).then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`rendering metrics failed: ${e.message}\n`),
      );
      return;
    }
    const asset = req.method === 'GET' || req.method === 'HEAD' ? assets.get(url) : undefined;
    if (!asset) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    res.writeHead(200, { 'content-type': asset.type, 'content-security-policy': csp, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/ws' || !loopbackHost(req) || !sameOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => new Session(ws, contextFor(req)));
  });

  let http;
  try {
    http = await listenHttp(server, opts.port ?? DEFAULT_DASHBOARD_PORT, host);
  } catch (e) {
    for (const c of perUser.values()) c.overview.close(), c.allocation.close(), await c.metrics.close(), await c.tables.stop();
    clients.close();
    await nc.close();
    throw e;
  }
  const announced = announceTargets(nc, () => [{ job: 'dashboard', address: targetAddress(http.url) }]);
  return {
    url: `${http.url}/`,
    hasSynced: () => admin.tables.get(PODS).hasSynced() && admin.tables.get(NODES).hasSynced(),
    async stop() {
      announced.stop();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await http.stop();
      for (const c of perUser.values()) {
        c.overview.close();
        c.allocation.close();
        await c.metrics.close();
        await c.tables.stop();
      }
      clients.close();
      await nc.close();
    },
  };
}
