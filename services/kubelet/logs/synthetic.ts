/**
 * Synthetic log lines for hollow nodes (`flotilla kubelet --runtime hollow
 * --synthetic-log-rate N`): nothing runs in a hollow container, so when asked each running
 * one "prints" N lines a second (every tenth at level=error, on stderr), shipped as a
 * real node's lines are (publisher.ts: one batch per container per second, the pod's
 * labels and node in headers), so the logging pipeline and its queries run at scale.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_LOG_SUBJECT_PREFIX, formatTimestamp, LogBatch, logSubject } from '../../../lib/logging/mod.js';
import { LogPublisher } from './publisher.js';

/** A running hollow container, as the synthetic source needs it. */
export interface SyntheticContainer {
  namespace: string;
  pod: string;
  uid: string;
  container: string;
  /** ms since the epoch */
  startedAt: number;
}

export interface SyntheticLogOptions {
  nc: NatsConnection;
  /** lines a second per running container */
  rate: number;
  containers: () => Iterable<SyntheticContainer>;
  /** the pod's node and labels while the kubelet has it */
  pod: (namespace: string, name: string, uid: string) => { node: string; labels: Record<string, string> } | undefined;
  prefix?: string;
  /** how often batches go out (default 1000 ms) */
  periodMs?: number;
  /** batches in flight at most (default 128) */
  inFlight?: number;
  log?: (line: string) => void;
}

export class SyntheticLogs {
  private readonly abort = new AbortController();
  private readonly publisher: LogPublisher;
  /** per container: lines printed so far, and when it last printed */
  private readonly printed = new Map<string, { n: number; at: number }>();
  private timer?: NodeJS.Timeout;
  private tick?: Promise<void>;
  /** in every Nats-Msg-Id: a restarted kubelet's lines are new ones, not duplicates */
  private readonly run = Date.now().toString(36);

  constructor(private readonly opts: SyntheticLogOptions) {
    this.publisher = new LogPublisher(opts.nc, this.abort.signal, opts.log);
  }

  get stats(): LogPublisher['stats'] {
    return this.publisher.stats;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.tick ??= this.print().finally(() => (this.tick = undefined));
    }, this.opts.periodMs ?? 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.tick;
  }

  /** One round: every running container's lines since its last round, one batch each. */
  private async print(): Promise<void> {
    const now = Date.now();
    const prefix = this.opts.prefix ?? DEFAULT_LOG_SUBJECT_PREFIX;
    const seen = new Set<string>();
    const jobs: Array<() => Promise<unknown>> = [];
    for (const c of this.opts.containers()) {
      const key = `${c.uid}/${c.container}`;
      seen.add(key);
      const p = this.opts.pod(c.namespace, c.pod, c.uid);
      if (!p) continue;
      let st = this.printed.get(key);
      if (!st) this.printed.set(key, (st = { n: 0, at: Math.max(c.startedAt, now - 1000) }));
      const count = Math.min(Math.floor(((now - st.at) / 1000) * this.opts.rate), this.opts.rate * 10);
      if (count <= 0) continue;
      const batch = new LogBatch();
      const from = st.n;
      for (let i = 0; i < count; i++) {
        const t = st.at + ((now - st.at) * (i + 1)) / count;
        const ms = Math.floor(t);
        const n = from + i;
        const error = n % 10 === 9;
        batch.add(formatTimestamp(ms, Math.floor((t - ms) * 1e6)), ms, error ? 'stderr' : 'stdout', false, Buffer.from(`level=${error ? 'error' : 'info'} line=${n} pod=${c.pod} container=${c.container} msg="synthetic line from a hollow container"`));
      }
      st.n += count;
      st.at = now;
      const subject = logSubject(prefix, c);
      jobs.push(() => this.publisher.publish(subject, batch, { node: p.node, uid: c.uid, labels: p.labels, msgID: `${key}/synthetic/${this.run}/${from}` }));
    }
    for (const key of this.printed.keys()) if (!seen.has(key)) this.printed.delete(key);
    // bounded parallel: thousands of containers, one batch each
    let next = 0;
    const worker = async () => {
      while (next < jobs.length && !this.abort.signal.aborted) await jobs[next++]!();
    };
    await Promise.all(Array.from({ length: Math.min(jobs.length, this.opts.inFlight ?? 128) }, worker));
  }
}
