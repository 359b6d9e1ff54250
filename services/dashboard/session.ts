/**
 * One browser tab's WebSocket: every view's data travels on it, each subscription under
 * the id the browser gave it. The browser sends JSON requests:
 *
 *   {op: 'table',   id, gvr, query, offset, limit}  a table: pages of rows, again on change
 *   {op: 'query',   id, query}                      the table's new filter or sort
 *   {op: 'window',  id, offset, limit}              the rows the browser shows moved
 *   {op: 'summary', id}                             the overview's counts, again on change
 *   {op: 'object',  id, ref}                        one whole object, again on change
 *   {op: 'metrics', id, scope, namespace?, name?}   a chart's data, again every tick (metrics.ts)
 *   {op: 'logs',    id, logs}                       live logs (logs.ts): {type: 'streams'} and
 *                                                   {type: 'lines', lines: [[pod/container, text]]}
 *   {op: 'exec',    id, exec}                       a shell (exec.ts): {type: 'stdout', data (base64)},
 *                                                   then {type: 'exit', status, message}
 *   {op: 'stdin',   id, data} / {op: 'resize', id, cols, rows}   the shell's keys and size
 *   {op: 'close',   id}                             ends a subscription
 *   {op: 'call',    id, method, args}               a change or a read (calls.ts, actions.ts): one
 *                                                   {type: 'result', result} or error
 *
 * and gets {id, type: 'columns'|'page'|'summary'|'object'|'metrics'|'error', ...} back. A request
 * the server cannot do answers an error with the reason and keeps the socket open.
 */
import type { WebSocket } from 'ws';
import type { ApiClient, GroupVersionResource } from '../../lib/client/mod.js';
import { StatusError } from '../../lib/client/mod.js';
import { EditError } from './actions.js';
import { call } from './calls.js';
import type { ClusterMetrics, MetricsScope } from './metrics.js';
import type { ApiHttp } from './credentials.js';
import { ExecSession, validExecRequest, type ExecRequest } from './exec.js';
import { LogFollower, validLogRequest, type LogRequest } from './logs.js';
import { watchObject, type ObjectRef } from './objectwatch.js';
import { redactSecret } from './secrets.js';
import type { Overview } from './overview.js';
import { QueryError, TableView, type Tables, type ViewQuery } from './tables.js';

export interface SessionContext {
  client: ApiClient;
  tables: Tables;
  overview: Overview;
  metrics: ClusterMetrics;
  /** the apiserver's HTTP front end for this identity (logs, exec) */
  http(): ApiHttp;
}

interface Request {
  op: string;
  id: string;
  gvr?: GroupVersionResource;
  query?: ViewQuery;
  offset?: number;
  limit?: number;
  ref?: ObjectRef;
  method?: string;
  args?: unknown;
  scope?: string;
  namespace?: string;
  name?: string;
  logs?: LogRequest;
  exec?: ExecRequest;
  data?: string;
  cols?: number;
  rows?: number;
}

interface Subscription {
  close(): void;
  view?: TableView;
  exec?: ExecSession;
}

/** What the browser is told of a failure: the API's Status when there is one. */
export function errorReply(id: string, e: unknown): Record<string, unknown> {
  if (e instanceof EditError) return { id, type: 'error', message: e.message, causes: e.causes, status: e.status?.toStatus() };
  if (e instanceof StatusError) return { id, type: 'error', message: e.message, status: e.toStatus() };
  return { id, type: 'error', message: e instanceof Error ? e.message : String(e) };
}

const validGvr = (g: GroupVersionResource | undefined): g is GroupVersionResource =>
  !!g && typeof g.group === 'string' && typeof g.version === 'string' && typeof g.resource === 'string' && /^[a-z0-9.-]+$/.test(g.resource);

function metricsScope(req: Request): MetricsScope {
  const str = (v: unknown) => typeof v === 'string' && v !== '';
  if (req.scope === 'overview') return { scope: 'overview' };
  if (req.scope === 'nodes') return { scope: 'nodes', name: str(req.name) ? req.name : undefined };
  if (req.scope === 'pod' && str(req.namespace) && str(req.name)) return { scope: 'pod', namespace: req.namespace!, name: req.name! };
  throw new QueryError('metrics: scope overview, nodes [name] or pod namespace name is required');
}
/** a tab whose socket holds more than this unsent has its logs paused (logs.ts) */
const CONGESTED_BYTES = 4 << 20;

export class Session {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    ws.on('message', (data) => {
      let req: Request;
      try {
        req = JSON.parse(data.toString());
      } catch {
        this.send({ type: 'error', message: 'not JSON' });
        return;
      }
      try {
        this.handle(req);
      } catch (e) {
        this.send(errorReply(req.id, e));
      }
    });
    ws.on('close', () => this.close());
  }

  send(msg: Record<string, unknown>): void {
    this.sendText(JSON.stringify(msg));
  }

  private sendText(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  private handle(req: Request): void {
    const { id } = req;
    if (typeof id !== 'string' || !id) throw new QueryError('a request needs an id');
    switch (req.op) {
      case 'table': {
        if (!validGvr(req.gvr)) throw new QueryError('table: gvr {group, version, resource} is required');
        this.drop(id);
        const table = this.ctx.tables.get(req.gvr);
        this.send({ id, type: 'columns', columns: table.columns });
        // the page object is spliced in as encoded: {"id":…,"type":"page",<its fields>}
        const view = new TableView(table, req.query ?? {}, (pageJson) => this.sendText(`{"id":${JSON.stringify(id)},"type":"page",${pageJson.slice(1)}`));
        view.setWindow(req.offset ?? 0, req.limit ?? 50);
        this.subs.set(id, { view, close: () => view.close() });
        return;
      }
      case 'query':
        this.view(id).setQuery(req.query ?? {});
        return;
      case 'window':
        this.view(id).setWindow(req.offset ?? 0, req.limit ?? 50);
        return;
      case 'summary': {
        this.drop(id);
        const stop = this.ctx.overview.subscribe((s) => this.send({ id, type: 'summary', ...s }));
        this.subs.set(id, { close: stop });
        return;
      }
      case 'object': {
        const ref = req.ref;
        if (!ref || !validGvr(ref) || typeof ref.name !== 'string' || !ref.name) throw new QueryError('object: ref {group, version, resource, namespace, name} is required');
        this.drop(id);
        const w = watchObject(
          this.ctx.client,
          ref,
          (object) => this.send({ id, type: 'object', object: redactSecret(ref, object) ?? null }),
          (e) => this.send(errorReply(id, e)),
        );
        this.subs.set(id, { close: () => w.stop() });
        return;
      }
      case 'metrics': {
        const scope = metricsScope(req);
        this.drop(id);
        const stop = this.ctx.metrics.subscribe(scope, (json) => this.sendText(`{"id":${JSON.stringify(id)},${json.slice(1)}`));
        this.subs.set(id, { close: stop });
        return;
      }
      case 'logs': {
        if (!validLogRequest(req.logs)) throw new QueryError('logs: {namespace, pod or selector} is required');
        this.drop(id);
        const f = new LogFollower(this.ctx.client, this.ctx.http(), req.logs, {
          lines: (lines) => this.send({ id, type: 'lines', lines }),
          streams: (streams) => this.send({ id, type: 'streams', streams }),
          error: (e) => this.send(errorReply(id, e)),
          congested: () => this.ws.bufferedAmount > CONGESTED_BYTES,
        });
        this.subs.set(id, { close: () => f.stop() });
        return;
      }
      case 'exec': {
        if (!validExecRequest(req.exec)) throw new QueryError('exec: {namespace, pod} is required');
        this.drop(id);
        // a request sent again after a reconnect carries the last size at its top level
        const exec = new ExecSession(this.ctx.http(), { ...req.exec, cols: req.cols ?? req.exec.cols, rows: req.rows ?? req.exec.rows }, {
          output: (data) => this.send({ id, type: 'stdout', data }),
          exit: (status, message) => this.send({ id, type: 'exit', status, message }),
          error: (e) => this.send(errorReply(id, e)),
        });
        this.subs.set(id, { exec, close: () => exec.stop() });
        return;
      }
      case 'stdin':
        this.exec(id).stdin(req.data as string);
        return;
      case 'resize':
        this.exec(id).resize(req.cols, req.rows);
        return;
      case 'close':
        this.drop(id);
        return;
      case 'call':
        call(this.ctx, String(req.method), req.args).then(
          (result) => this.send({ id, type: 'result', result }),
          (e) => this.send(errorReply(id, e)),
        );
        return;
      default:
        throw new QueryError(`unknown op "${req.op}"`);
    }
  }

  private view(id: string): TableView {
    const v = this.subs.get(id)?.view;
    if (!v) throw new QueryError(`no table subscription "${id}"`);
    return v;
  }

  private exec(id: string): ExecSession {
    const e = this.subs.get(id)?.exec;
    if (!e) throw new QueryError(`no exec subscription "${id}"`);
    return e;
  }

  private drop(id: string): void {
    this.subs.get(id)?.close();
    this.subs.delete(id);
  }

  close(): void {
    for (const s of this.subs.values()) s.close();
    this.subs.clear();
  }
}
