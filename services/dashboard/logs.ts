/**
 * Live logs for the browser: one pod's containers, or every pod a label selector picks
 * (a workload's pods together), each container's log a `pods/log` request to the
 * apiserver's HTTP front end (`follow=true` keeps it open, as `kubectl logs -f`). The
 * NATS API answers a log whole, so a followed one goes over HTTP, with the address and
 * headers credentials.ts gives.
 *
 * The pods are followed with an informer of their own (the namespace and the selector or
 * the name): while following, a pod that starts matching joins once its container runs,
 * and a restarted container's new log is read from its start. Lines go to the browser in
 * batches at most every 50 ms; when the tab's socket has a backlog the HTTP answers are
 * paused, so the apiserver and the kubelet wait (lib/stream's credit) instead of this
 * process buffering. Stopping the subscription aborts every request.
 */
import http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Registry } from 'prom-client';
import { client as prom } from '../../lib/metrics/mod.js';
import { PODS, SharedInformer, type ApiClient } from '../../lib/client/mod.js';
import type { ApiHttp } from './credentials.js';

export interface LogRequest {
  namespace: string;
  /** one pod by name ... */
  pod?: string;
  /** ... or the pods this label selector picks */
  selector?: string;
  /** one container by name; empty: every container of each pod */
  container?: string;
  follow?: boolean;
  /** the log of the container's previous attempt (upstream `previous=true`); never followed */
  previous?: boolean;
  /** lines from the end of each log when it opens (default 1000) */
  tailLines?: number;
}

export type StreamState = 'waiting' | 'open' | 'ended' | 'error' | 'skipped';

export interface StreamInfo {
  /** `pod/container`: what the browser prefixes lines with when there are several */
  key: string;
  pod: string;
  container: string;
  state: StreamState;
  message?: string;
}

export interface LogSink {
  lines(lines: Array<[key: string, text: string]>): void;
  streams(streams: StreamInfo[]): void;
  error(e: Error): void;
  /** true while the browser's socket has more queued than it should */
  congested(): boolean;
}

/** More logs than this at once is a selector to narrow, not a view to read. */
export const MAX_STREAMS = 50;
const DEFAULT_TAIL = 1000;
const FLUSH_MS = 50;
const MAX_BATCH = 2000;
/** a longer line is cut (CRI splits long lines too, at 16 KiB) */
const MAX_LINE = 16 * 1024;

let streamsGauge: prom.Gauge | undefined;

/** dashboard_log_streams: pods/log requests open now (a closed view leaves none). */
export function registerLogMetrics(registry: Registry): void {
  streamsGauge = new prom.Gauge({ name: 'dashboard_log_streams', help: 'pods/log requests the dashboard has open for browser views', registers: [registry] });
}

export function validLogRequest(r: Partial<LogRequest> | undefined): r is LogRequest {
  return !!r && typeof r.namespace === 'string' && !!r.namespace && (typeof r.pod === 'string' ? !!r.pod : typeof r.selector === 'string');
}

interface OpenLog extends StreamInfo {
  /** the container instance this log belongs to (its CRI id from the status) */
  containerId?: string;
  req?: http.ClientRequest;
  res?: http.IncomingMessage;
}

export class LogFollower {
  private readonly informer: SharedInformer<Pod>;
  private readonly logs = new Map<string, OpenLog>();
  private pending: Array<[string, string]> = [];
  private flushTimer?: NodeJS.Timeout;
  private pauseTimer?: NodeJS.Timeout;
  private streamsChanged = false;
  private stopped = false;

  constructor(
    client: ApiClient,
    private readonly api: ApiHttp,
    private readonly req: LogRequest,
    private readonly sink: LogSink,
  ) {
    const follow = this.following();
    this.informer = new SharedInformer<Pod>(client, PODS, {
      namespace: req.namespace,
      labelSelector: req.pod ? undefined : req.selector || undefined,
      fieldSelector: req.pod ? `metadata.name=${req.pod}` : undefined,
      onError: (e) => sink.error(e as Error),
    });
    this.informer.addEventHandler({
      // without follow the view is the logs of the pods there are now
      onAdd: (p, initial) => (follow || initial) && this.consider(p),
      onUpdate: (_o, p) => follow && this.consider(p),
      onDelete: (p) => {
        const name = (p as Pod).metadata?.name ?? '';
        for (const l of this.logs.values()) if (l.pod === name && l.state !== 'open') this.logs.delete(l.key), this.changed();
      },
    });
    this.informer.start();
    void this.informer.waitForSync().then(() => this.changed(), () => undefined);
  }

  private following(): boolean {
    return !!this.req.follow && !this.req.previous;
  }

  /** Opens the logs of the pod's containers that have one and are not read yet. */
  private consider(pod: Pod): void {
    if (this.stopped) return;
    const name = pod.metadata?.name ?? '';
    const names = (pod.spec?.containers ?? []).map((c) => c.name).filter((c) => !this.req.container || c === this.req.container);
    for (const container of names) {
      const key = `${name}/${container}`;
      const known = this.logs.get(key);
      if (known?.state === 'open') continue;
      const cs = pod.status?.containerStatuses?.find((s) => s.name === container);
      const id = this.req.previous ? cs?.lastState?.terminated?.containerID : cs?.state?.running || cs?.state?.terminated ? cs.containerID : undefined;
      if (!known && this.logs.size >= MAX_STREAMS) {
        this.logs.set(key, { key, pod: name, container, state: 'skipped', message: `more than ${MAX_STREAMS} containers: narrow the selector` });
        this.changed();
        continue;
      }
      if (known?.state === 'skipped') continue;
      // without follow the apiserver says why there is no log (waiting, no previous attempt)
      if (!id && this.following()) {
        if (!known) {
          const why = !pod.spec?.nodeName ? 'not scheduled yet' : cs?.state?.waiting?.reason ? `waiting: ${cs.state.waiting.reason}` : 'waiting to start';
          this.logs.set(key, { key, pod: name, container, state: 'waiting', message: why });
          this.changed();
        }
        continue;
      }
      if (known && known.containerId === id) continue;
      // a container that restarted while followed: its new log from the start
      this.open(name, container, id, known?.containerId === undefined ? this.req.tailLines ?? DEFAULT_TAIL : undefined);
    }
  }

  private open(pod: string, container: string, containerId: string | undefined, tailLines: number | undefined): void {
    const key = `${pod}/${container}`;
    const log: OpenLog = { key, pod, container, state: 'open', containerId };
    this.logs.set(key, log);
    this.changed();
    const q = new URLSearchParams({ container });
    if (this.following()) q.set('follow', 'true');
    if (this.req.previous) q.set('previous', 'true');
    if (tailLines !== undefined) q.set('tailLines', String(tailLines));
    const url = `${this.api.url}/api/v1/namespaces/${encodeURIComponent(this.req.namespace)}/pods/${encodeURIComponent(pod)}/log?${q}`;
    const req = http.get(url, { headers: this.api.headers });
    log.req = req;
    streamsGauge?.inc();
    let counted = true;
    const done = (state: StreamState, message?: string) => {
      if (counted) streamsGauge?.dec(), (counted = false);
      if (log.state !== 'open') return;
      log.state = state;
      log.message = message;
      log.req = log.res = undefined;
      this.changed();
      // a followed container that ended may have restarted: its next log
      if (this.following() && !this.stopped) {
        const p = this.informer.store.getByKey(`${this.req.namespace}/${pod}`);
        if (p) this.consider(p);
      }
    };
    req.on('error', (e) => done('error', `pods/log: ${e.message}`));
    req.on('close', () => done('ended'));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => done('error', statusMessage(Buffer.concat(parts).toString(), res.statusCode)));
        return;
      }
      log.res = res;
      const decoder = new StringDecoder('utf8');
      let partial = '';
      res.on('data', (chunk: Buffer) => {
        const parts = (partial + decoder.write(chunk)).split('\n');
        partial = parts.pop()!;
        if (partial.length > MAX_LINE) parts.push(partial), (partial = '');
        for (const l of parts) this.pending.push([key, l.length > MAX_LINE ? l.slice(0, MAX_LINE) : l]);
        this.schedule();
        if (this.sink.congested()) this.pauseAll();
      });
      res.on('end', () => {
        const rest = partial + decoder.end();
        if (rest) this.pending.push([key, rest]), this.schedule();
        done('ended');
      });
      res.on('error', (e) => done('error', `pods/log: ${e.message}`));
    });
  }

  private changed(): void {
    this.streamsChanged = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.pending.length >= MAX_BATCH) return this.flush();
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.stopped) return;
    if (this.streamsChanged && this.informer.hasSynced()) {
      this.streamsChanged = false;
      this.sink.streams([...this.logs.values()].map(({ key, pod, container, state, message }) => ({ key, pod, container, state, message })));
    }
    if (this.pending.length) {
      const lines = this.pending;
      this.pending = [];
      this.sink.lines(lines);
    }
  }

  /** The browser is behind: every answer waits until its socket drained. */
  private pauseAll(): void {
    if (this.pauseTimer) return;
    for (const l of this.logs.values()) l.res?.pause();
    const check = () => {
      if (this.stopped) return;
      if (this.sink.congested()) return void (this.pauseTimer = setTimeout(check, FLUSH_MS));
      this.pauseTimer = undefined;
      for (const l of this.logs.values()) l.res?.resume();
    };
    this.pauseTimer = setTimeout(check, FLUSH_MS);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.pauseTimer);
    for (const l of this.logs.values()) l.req?.destroy();
    void this.informer.stop();
  }
}

/** The message of the metav1.Status an error answer carries, else its text. */
export function statusMessage(body: string, code?: number): string {
  try {
    const s = JSON.parse(body) as { message?: string };
    if (s.message) return s.message;
  } catch {
    /* not a Status */
  }
  return `${code ?? ''} ${body}`.trim();
}
