/**
 * A shell in the browser: `pods/exec` on the apiserver's HTTP front end, as kubectl
 * dials it (SPDY/3.1, `v4.channel.k8s.io`, lib/spdy's client), with stdin, stdout and a
 * TTY, so stderr arrives on stdout and the terminal's size travels on the resize stream.
 * The browser's keys come as `{op: 'stdin'}` and its size as `{op: 'resize'}` on the
 * tab's WebSocket; the output goes back base64-encoded (the bytes as the pod wrote them,
 * a UTF-8 character split between two chunks included). Stopping the subscription ends
 * the exec's connection, and with it the process in the pod (its TTY hangs up).
 */
import type { Registry } from 'prom-client';
import { BadRequestError, StatusError } from '../../lib/api/errors.js';
import { client as prom } from '../../lib/metrics/mod.js';
import { dialSpdy, openRemoteCommandStreams, SpdyDialError, type RemoteCommandStreams, type SpdySession } from '../../lib/spdy/mod.js';
import type { ApiHttp } from './credentials.js';
import { statusMessage } from './logs.js';

export interface ExecRequest {
  namespace: string;
  pod: string;
  /** default: the pod's only container (the apiserver refuses a choice it cannot make) */
  container?: string;
  /** default ['sh'] */
  command?: string[];
  cols?: number;
  rows?: number;
}

export interface ExecSink {
  output(base64: string): void;
  /** the command ended: its metav1.Status (Success, or Failure with the exit code) */
  exit(status: Record<string, unknown> | undefined, message: string): void;
  error(e: Error): void;
}

let execGauge: prom.Gauge | undefined;

/** dashboard_exec_sessions: shells open now (a closed view leaves none). */
export function registerExecMetrics(registry: Registry): void {
  execGauge = new prom.Gauge({ name: 'dashboard_exec_sessions', help: 'pods/exec connections the dashboard has open for browser terminals', registers: [registry] });
}

export function validExecRequest(r: Partial<ExecRequest> | undefined): r is ExecRequest {
  return (
    !!r && typeof r.namespace === 'string' && !!r.namespace && typeof r.pod === 'string' && !!r.pod &&
    (r.command === undefined || (Array.isArray(r.command) && r.command.length > 0 && r.command.every((c) => typeof c === 'string')))
  );
}

const size = (n: unknown, fallback: number) => (Number.isInteger(n) && (n as number) > 0 && (n as number) < 10_000 ? (n as number) : fallback);

/** The words an exec Status ends with: exit code 0, N, or why it failed. */
export function exitMessage(status: Record<string, unknown> | undefined): string {
  if (!status || status.status === 'Success') return 'exited with code 0';
  const causes = ((status.details as { causes?: Array<{ reason?: string; message?: string }> } | undefined)?.causes ?? []);
  const code = causes.find((c) => c.reason === 'ExitCode')?.message;
  return code ? `exited with code ${code}` : `ended: ${String(status.message ?? 'unknown error')}`;
}

export class ExecSession {
  private session?: SpdySession;
  private streams?: RemoteCommandStreams;
  private stopped = false;
  private size: { cols: number; rows: number };

  constructor(
    private readonly api: ApiHttp,
    private readonly req: ExecRequest,
    private readonly sink: ExecSink,
  ) {
    this.size = { cols: size(req.cols, 80), rows: size(req.rows, 24) };
    this.start().catch((e) => !this.stopped && sink.error(asStatusError(e)));
  }

  private async start(): Promise<void> {
    const q = new URLSearchParams();
    for (const c of this.req.command ?? ['sh']) q.append('command', c);
    if (this.req.container) q.set('container', this.req.container);
    for (const f of ['stdin', 'stdout', 'tty']) q.set(f, 'true');
    const url = `${this.api.url}/api/v1/namespaces/${encodeURIComponent(this.req.namespace)}/pods/${encodeURIComponent(this.req.pod)}/exec?${q}`;
    const { session } = await dialSpdy(url, ['v4.channel.k8s.io'], { peer: 'the apiserver', headers: this.api.headers });
    this.session = session;
    execGauge?.inc();
    session.once('close', () => execGauge?.dec());
    session.on('error', () => undefined);
    if (this.stopped) return void session.destroy();
    const streams = (this.streams = await openRemoteCommandStreams(session, { stdin: true, stdout: true, stderr: false, tty: true }));
    for (const s of [streams.error, streams.stdin, streams.stdout, streams.resize]) s?.on('error', () => undefined);
    this.sendSize();
    streams.stdout!.on('data', (c: Buffer) => this.sink.output(c.toString('base64')));
    const status: Buffer[] = [];
    streams.error.on('data', (c: Buffer) => status.push(c));
    const ended = (s: NodeJS.ReadableStream) => new Promise<void>((r) => (s.once('end', r), s.once('close', r)));
    await Promise.all([ended(streams.stdout!), ended(streams.error)]);
    if (this.stopped) return;
    let parsed: Record<string, unknown> | undefined;
    const text = Buffer.concat(status).toString();
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = { status: 'Failure', message: text };
    }
    this.sink.exit(parsed, exitMessage(parsed));
    session.close();
  }

  private sendSize(): void {
    this.streams?.resize?.write(JSON.stringify({ Width: this.size.cols, Height: this.size.rows }));
  }

  stdin(data: string): void {
    if (typeof data !== 'string') throw new BadRequestError('stdin: data must be a string');
    this.streams?.stdin?.write(data);
  }

  resize(cols: unknown, rows: unknown): void {
    this.size = { cols: size(cols, this.size.cols), rows: size(rows, this.size.rows) };
    this.sendSize();
  }

  stop(): void {
    this.stopped = true;
    this.session?.destroy();
  }
}

/** A refusal from the apiserver (its Status) as the typed error the browser is shown. */
function asStatusError(e: unknown): Error {
  if (e instanceof SpdyDialError && e.statusCode && e.body) {
    try {
      return StatusError.fromStatus(JSON.parse(e.body));
    } catch {
      return new StatusError(e.statusCode, 'InternalError', statusMessage(e.body, e.statusCode));
    }
  }
  return e as Error;
}
