/**
 * `flotilla metrics`: the metrics service (metrics-server's role). Scrapes every kubelet
 * process over NATS and serves metrics.k8s.io/v1beta1 for `kubectl top`; with
 * --register-apiservice it makes the apiserver route that group here. Stops on
 * SIGINT/SIGTERM, or when its supervising launcher is gone.
 */
import { parseArgs } from 'node:util';
import { durationFlag, natsFlagUsage, natsUrlFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { DEFAULT_METRIC_RESOLUTION_MS, DEFAULT_METRICS_PORT, MIN_METRIC_RESOLUTION_MS, startMetricsServer } from './server.js';

export const METRICS_USAGE = `usage: flotilla metrics [--nats URL] [--port ${DEFAULT_METRICS_PORT}] [--metric-resolution 15s] [--register-apiservice]

  ${natsFlagUsage()}
  --port N               HTTP port of metrics.k8s.io/v1beta1, /metrics, /healthz, /readyz on 127.0.0.1
                         (default ${DEFAULT_METRICS_PORT}, a free one when that is taken; 0 = any free port)
  --metric-resolution D  how often every kubelet process is scraped (default 15s, at least 10s)
  --register-apiservice  register Service and EndpointSlice kube-system/metrics-server and the APIService
                         v1beta1.metrics.k8s.io for this server, so \`kubectl top\` reaches it (flotilla up does)`;

export async function runMetrics(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      'metric-resolution': { type: 'string' },
      'register-apiservice': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(METRICS_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const resolutionMs = durationFlag(values['metric-resolution'], '--metric-resolution') ?? DEFAULT_METRIC_RESOLUTION_MS;
  if (resolutionMs < MIN_METRIC_RESOLUTION_MS) throw new Error(`--metric-resolution: at least 10s, got "${values['metric-resolution']}"`);
  const register = values['register-apiservice'] ?? false;
  const port = portFlag(values.port) ?? DEFAULT_METRICS_PORT;
  return startAndRunUntilStopped(
    'metrics',
    () => startOnPort('metrics', port, values.port !== undefined, (p) => startMetricsServer({ natsUrl, port: p, resolutionMs, register })),
    (running) =>
      console.log(`metrics: serving metrics.k8s.io/v1beta1 on ${running.url}, scraping every ${resolutionMs / 1000}s (NATS ${natsUrl})${register ? '; APIService v1beta1.metrics.k8s.io registered' : ''}`),
  );
}

runIfEntryPoint(import.meta.url, 'metrics', runMetrics);
