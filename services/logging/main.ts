/**
 * `flotilla logging`: the logging service (the log stream's owner, its index and query
 * API). Stops on SIGINT/SIGTERM, or when its supervising launcher is gone.
 */
import { parseArgs } from 'node:util';
import { parseQuantity } from '../../lib/api/quantity.js';
import { DEFAULT_LOG_MAX_AGE_MS, DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_STREAM, DEFAULT_LOG_SUBJECT_PREFIX } from '../../lib/logging/mod.js';
import { checkedFlag, durationFlag, natsFlagUsage, natsUrlFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { DEFAULT_LOKI_PORT } from './loki.js';
import { startLogging } from './server.js';

export const LOGGING_USAGE = `usage: flotilla logging [--nats URL] [--port ${DEFAULT_LOKI_PORT}] [--host ADDR] [--retention-age 168h] [--retention-bytes 1Gi]

  ${natsFlagUsage()}
  --port N             HTTP port of Loki's read API (/loki/api/v1/...), /metrics and /ready
                       (default ${DEFAULT_LOKI_PORT}; a busy default port is replaced by a free one; 0 = any)
  --host ADDR          its bind address (default 127.0.0.1)
  --retention-age D    lines older than this are dropped (default ${DEFAULT_LOG_MAX_AGE_MS / 3600_000}h; 0 = no age limit)
  --retention-bytes Q  the stream's size at most, the oldest lines dropped first (default ${DEFAULT_LOG_MAX_BYTES / 2 ** 30}Gi)

The JetStream stream is ${DEFAULT_LOG_STREAM}, subjects ${DEFAULT_LOG_SUBJECT_PREFIX}.<namespace>.<pod>.<container>, where
the kubelets ship (--ship-logs=true).

Queries: \`flotilla logs '{namespace="shop",app="web"} |= "error"' --since 1h -f\`, or any Loki
client on http://127.0.0.1:${DEFAULT_LOKI_PORT} (docs/monitoring.md#logging).`;

export async function runLogging(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'retention-age': { type: 'string' },
      'retention-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(LOGGING_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const age = values['retention-age'];
  const maxAgeMs = age === undefined ? undefined : age === '0' ? 0 : durationFlag(age, '--retention-age');
  const bytes = checkedFlag(values['retention-bytes'], '--retention-bytes', parseQuantity);
  const maxBytes = bytes === undefined ? undefined : Number(parseQuantity(bytes).value());
  if (maxBytes !== undefined && !(maxBytes > 0)) throw new Error(`--retention-bytes: must be positive, got "${bytes}"`);
  const port = portFlag(values.port) ?? DEFAULT_LOKI_PORT;
  return startAndRunUntilStopped(
    'logging',
    () => startOnPort('logging', port, values.port !== undefined, (p) => startLogging({ natsUrl, port: p, host: values.host, maxAgeMs, maxBytes })),
    (running) => console.log(`logging: Loki's read API on ${running.url} (NATS ${natsUrl}; query sessions on flotilla.logging.query)`),
  );
}

runIfEntryPoint(import.meta.url, 'logging', runLogging);
