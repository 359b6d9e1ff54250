/**
 * The logging service assembled: it owns the log stream's configuration (created, and its
 * limits kept, here), keeps the index of what the stream holds, and answers queries over
 * NATS (`flotilla.logging.query`, nats.ts) and HTTP (Loki's read API, loki.ts). The
 * shippers publish straight into the stream, so this service being down loses nothing.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../lib/client/mod.js';
import { DEFAULT_LOG_STREAM, DEFAULT_LOG_SUBJECT_PREFIX, ensureLogStream, LOG_QUERY_SUBJECT, type LogStreamOptions } from '../../lib/logging/mod.js';
import { announceTargets, client as prom, newRegistry, targetAddress } from '../../lib/metrics/mod.js';
import { serveStreams, type StreamServer } from '../../lib/stream/mod.js';
import { LogIndex } from './index.js';
import { DEFAULT_LOKI_PORT, serveLoki, type LokiServer } from './loki.js';
import { logQueryAcceptor } from './nats.js';
import { LogQuerier } from './query.js';

export interface StartLoggingOptions extends LogStreamOptions {
  natsUrl: string;
  /** HTTP port of Loki's API and /metrics (default 3100; 0 = any free port) */
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export interface RunningLogging {
  readonly url: string;
  readonly querier: LogQuerier;
  readonly index: LogIndex;
  stop(): Promise<void>;
}

/** JetStream answers once nats-server has started it: wait, as every component outlives a NATS restart. */
async function waitForJetStream(nc: NatsConnection, log: (line: string) => void): Promise<JetStreamManager> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await jetstreamManager(nc);
    } catch (e) {
      if (attempt === 0) log(`waiting for JetStream: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}

export async function startLogging(opts: StartLoggingOptions): Promise<RunningLogging> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`logging: ${line}\n`));
  const stream = opts.stream ?? DEFAULT_LOG_STREAM;
  const prefix = opts.prefix ?? DEFAULT_LOG_SUBJECT_PREFIX;
  const nc = await connectNats(opts.natsUrl, { name: 'logging' });
  const parts: { index?: LogIndex; streams?: StreamServer; http?: LokiServer; timer?: NodeJS.Timeout; announced?: { stop(): void } } = {};
  const stop = async () => {
    clearInterval(parts.timer);
    parts.announced?.stop();
    await parts.http?.stop();
    await parts.streams?.stop();
    await parts.index?.stop();
    await nc.close();
  };
  try {
    const jsm = await waitForJetStream(nc, log);
    await ensureLogStream(jsm, opts);
    // a stream deleted by hand (or a NATS started afresh) is made again
    parts.timer = setInterval(() => void ensureLogStream(jsm, opts).catch(() => undefined), 30_000);
    const index = (parts.index = new LogIndex(nc, jsm, stream, prefix, log));
    await index.start();
    const querier = new LogQuerier(nc, jsm, index, stream, prefix);
    parts.streams = await serveStreams(nc, LOG_QUERY_SUBJECT, logQueryAcceptor(querier));
    const registry = newRegistry('logging');
    new prom.Gauge({ name: 'flotilla_logging_indexed_streams', help: 'Container logs (subjects) the log index knows', registers: [registry], collect() { this.set(index.streams.size); } });
    new prom.Gauge({ name: 'flotilla_logging_indexed_sequence', help: 'The last log stream sequence the index has read', registers: [registry], collect() { this.set(index.lastSeq); } });
    parts.http = await serveLoki(querier, registry, opts.port ?? DEFAULT_LOKI_PORT, opts.host);
    // Prometheus scrapes its /metrics under the job "logging" (cli/prometheus: the flotilla-addons scrape config)
    const url = parts.http.url;
    parts.announced = announceTargets(nc, () => [{ job: 'logging', address: targetAddress(url) }]);
    return { url: parts.http.url, querier, index, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
