/**
 * Publishes batches of log lines into the log stream (lib/logging) until JetStream acks
 * them: the same message (same Nats-Msg-Id) is sent again while NATS or the stream is
 * away, so a batch stored before a lost ack is not stored twice. Used by the shipper
 * (real containers' files) and by the hollow nodes' synthetic lines.
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_HEADERS, type LogBatch } from '../../../lib/logging/mod.js';

export interface BatchMeta {
  node: string;
  uid: string;
  labels: Record<string, string>;
  /** where in the node's files the batch came from (the shipper's resume) */
  source?: string;
  msgID: string;
}

export class LogPublisher {
  private readonly js: JetStreamClient;
  /** what was stored (for tests, benchmarks and metrics) */
  readonly stats = { lines: 0, bytes: 0, batches: 0, retries: 0 };

  constructor(
    nc: NatsConnection,
    private readonly signal: AbortSignal,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.js = jetstream(nc);
  }

  /** Publishes one batch until it is acked (a duplicate counts: it was stored before); false when stopped first. */
  async publish(subject: string, batch: LogBatch, meta: BatchMeta): Promise<boolean> {
    const h = headers();
    h.set(LOG_HEADERS.node, meta.node);
    h.set(LOG_HEADERS.podUid, meta.uid);
    h.set(LOG_HEADERS.labels, JSON.stringify(meta.labels));
    h.set(LOG_HEADERS.lines, String(batch.lines));
    h.set(LOG_HEADERS.first, String(batch.first));
    h.set(LOG_HEADERS.last, String(batch.last));
    if (meta.source) h.set(LOG_HEADERS.source, meta.source);
    const body = batch.body();
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.js.publish(subject, body, { headers: h, msgID: meta.msgID, timeout: 5000 });
        if (!ack.duplicate) {
          this.stats.lines += batch.lines;
          this.stats.bytes += body.length;
          this.stats.batches++;
        }
        return true;
      } catch (e) {
        if (this.signal.aborted) return false;
        this.stats.retries++;
        // quiet for the first seconds: the stream may be on its way (its service starts after the kubelets)
        if (attempt === 5 || (attempt > 5 && attempt % 20 === 0)) this.log(`log shipper: publishing to ${subject}: ${(e as Error).message}; trying again`);
        await sleep(Math.min(5000, 100 * 2 ** attempt), undefined, { signal: this.signal }).catch(() => undefined);
        if (this.signal.aborted) return false;
      }
    }
  }
}
