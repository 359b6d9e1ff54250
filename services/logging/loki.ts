/**
 * The read side of Loki's HTTP API, so tools that speak Loki (Grafana's Loki data source,
 * logcli) read Flotilla's logs:
 *   GET /loki/api/v1/query_range  query, start, end, since, limit, direction → streams
 *   GET /loki/api/v1/labels, /loki/api/v1/label/<name>/values  start, end (or since)
 *   GET /loki/api/v1/series  match[] (selectors), start, end
 *   GET /loki/api/v1/tail  (WebSocket) query, start, limit, delay_for
 *   GET /ready, /metrics, /healthz
 * with Loki's JSON shapes; a bad request is a 400 with the reason as text, as Loki's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseDuration } from '../../lib/api/duration.js';
import { listenHttp, renderMetrics } from '../../lib/metrics/mod.js';
import { LogQLParseError, parseLogQL, type LogQuery } from './logql.js';
import { DEFAULT_QUERY_LIMIT, DEFAULT_QUERY_RANGE_MS } from './nats.js';
import type { Direction, LogQuerier, LogResultEntry } from './query.js';

export const DEFAULT_LOKI_PORT = 3100;
/** Loki's max_entries_limit_per_query default */
export const MAX_QUERY_LIMIT = 5000;

class BadRequest extends Error {}

/**
 * A Loki time parameter in ms: an integer is Unix nanoseconds (as Loki sends; 10 or
 * fewer digits are seconds), a decimal is seconds, anything else RFC3339.
 */
export function parseLokiTime(v: string, what: string): number {
  if (/^\d+$/.test(v)) return v.length <= 10 ? Number(v) * 1000 : Number(v.slice(0, -6) || '0') + Number(v.slice(-6)) / 1e6;
  if (/^\d+\.\d*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new BadRequest(`invalid ${what}: cannot parse "${v}" as a timestamp`);
  return t;
}

function timeRange(p: URLSearchParams, now = Date.now()): { start: number; end: number } {
  const end = p.get('end') ? parseLokiTime(p.get('end')!, 'end') : now;
  let start: number;
  if (p.get('start')) start = parseLokiTime(p.get('start')!, 'start');
  else if (p.get('since')) {
    try {
      start = end - parseDuration(p.get('since')!);
    } catch (e) {
      throw new BadRequest(`invalid since: ${(e as Error).message}`);
    }
  } else start = end - DEFAULT_QUERY_RANGE_MS;
  if (end < start) throw new BadRequest('the end timestamp must not be before the start time');
  return { start, end };
}

function queryOf(p: URLSearchParams): LogQuery {
  const q = p.get('query');
  if (!q) throw new BadRequest('query parameter is required');
  try {
    return parseLogQL(q);
  } catch (e) {
    if (e instanceof LogQLParseError) throw new BadRequest(e.message);
    throw e;
  }
}

function limitOf(p: URLSearchParams): number {
  const v = p.get('limit');
  if (v === null) return DEFAULT_QUERY_LIMIT;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new BadRequest('limit must be a positive value');
  if (n > MAX_QUERY_LIMIT) throw new BadRequest(`max entries limit per query exceeded, limit > max_entries_limit (${n} > ${MAX_QUERY_LIMIT})`);
  return n;
}

/** Loki's `streams` result: entries grouped by label set, each group in the entries' order. */
export function lokiStreams(entries: LogResultEntry[]): Array<{ stream: Record<string, string>; values: Array<[string, string]> }> {
  const groups = new Map<Readonly<Record<string, string>>, { stream: Record<string, string>; values: Array<[string, string]> }>();
  for (const e of entries) {
    let g = groups.get(e.labels);
    if (!g) groups.set(e.labels, (g = { stream: { ...e.labels }, values: [] }));
    g.values.push([e.ts, e.line]);
  }
  return [...groups.values()];
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body.endsWith('\n') ? body : `${body}\n`);
}

export interface LokiServer {
  url: string;
  stop(): Promise<void>;
}

export async function serveLoki(querier: LogQuerier, registry: Registry, port: number, host = '127.0.0.1', ready: () => boolean = () => true): Promise<LokiServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://loki');
    const p = url.searchParams;
    const route = url.pathname;
    if (route === '/loki/api/v1/query_range') {
      const t0 = performance.now();
      const { start, end } = timeRange(p);
      const dir = p.get('direction') ?? 'backward';
      if (dir !== 'forward' && dir !== 'backward') throw new BadRequest(`invalid direction "${dir}": forward or backward`);
      const r = await querier.query({ query: queryOf(p), startMs: start, endMs: end, limit: limitOf(p), direction: dir as Direction });
      const bytes = r.entries.reduce((n, e) => n + e.line.length, 0);
      const secs = (performance.now() - t0) / 1000;
      return json(res, 200, {
        status: 'success',
        data: {
          resultType: 'streams',
          result: lokiStreams(r.entries),
          stats: { summary: { bytesProcessedPerSecond: Math.round(bytes / (secs || 1e-9)), linesProcessedPerSecond: Math.round(r.entries.length / (secs || 1e-9)), totalBytesProcessed: bytes, totalLinesProcessed: r.entries.length, execTime: secs } },
        },
      });
    }
    if (route === '/loki/api/v1/query') {
      throw new BadRequest('log queries are not supported as an instant query type, please change your query to a range query type');
    }
    if (route === '/loki/api/v1/labels' || route === '/loki/api/v1/label') {
      const { start, end } = timeRange(p);
      return json(res, 200, { status: 'success', data: querier.labelNames(start, end) });
    }
    const values = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(route);
    if (values) {
      const { start, end } = timeRange(p);
      return json(res, 200, { status: 'success', data: querier.labelValues(decodeURIComponent(values[1]!), start, end) });
    }
    if (route === '/loki/api/v1/series') {
      const { start, end } = timeRange(p);
      const matches = p.getAll('match[]').concat(p.getAll('match'));
      if (!matches.length) throw new BadRequest('at least one match[] argument must be provided');
      const selectors = matches.map((m) => {
        try {
          return parseLogQL(m);
        } catch (e) {
          if (e instanceof LogQLParseError) throw new BadRequest(e.message);
          throw e;
        }
      });
      return json(res, 200, { status: 'success', data: querier.series(selectors, start, end) });
    }
    if (route === '/ready') return ready() ? text(res, 200, 'ready') : text(res, 503, 'Ingester not ready: the log index is reading the stream');
    if (route === '/healthz' || route === '/livez') return text(res, 200, 'ok');
    if (route === '/metrics') {
      const m = await renderMetrics(registry);
      res.writeHead(200, { 'content-type': m.contentType });
      return res.end(m.body);
    }
    return text(res, 404, '404 page not found');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (res.headersSent) return res.destroy(e);
      if (e instanceof BadRequest) return text(res, 400, e.message);
      text(res, 500, e.message);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://loki');
    if (url.pathname !== '/loki/api/v1/tail') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    let setup: { query: LogQuery; start: number; limit: number; delayMs: number };
    try {
      const p = url.searchParams;
      const delay = Number(p.get('delay_for') ?? '0');
      if (!Number.isFinite(delay) || delay < 0 || delay > 5) throw new BadRequest('delay_for can\'t be greater than 5');
      setup = { query: queryOf(p), start: p.get('start') ? parseLokiTime(p.get('start')!, 'start') : Date.now() - DEFAULT_QUERY_RANGE_MS, limit: limitOf(p), delayMs: delay * 1000 };
    } catch (e) {
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\n${(e as Error).message}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void tail(ws, setup));
  });
  const tail = async (ws: WebSocket, s: { query: LogQuery; start: number; limit: number; delayMs: number }) => {
    const ac = new AbortController();
    ws.on('close', () => ac.abort());
    ws.on('error', () => ac.abort());
    const send = async (entries: LogResultEntry[]) => {
      if (s.delayMs) await new Promise((r) => setTimeout(r, s.delayMs));
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ streams: lokiStreams(entries), dropped_entries: null }));
    };
    try {
      const r = await querier.query({ query: s.query, startMs: s.start, endMs: Infinity, limit: s.limit, direction: 'backward' });
      if (r.entries.length) await send(r.entries.reverse());
      await querier.follow(s.query, r.lastSeq + 1, send, ac.signal);
    } catch (e) {
      if (!ac.signal.aborted) ws.close(1011, (e as Error).message.slice(0, 120));
    }
  };
  const listening = await listenHttp(server, port, host);
  return {
    url: listening.url,
    stop: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await listening.stop();
    },
  };
}
