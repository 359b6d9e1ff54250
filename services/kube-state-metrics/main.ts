/**
 * `flotilla kube-state-metrics`: the object-state metrics (kube_pod_info, kube_node_status_*,
 * kube_deployment_*, ...) of the cluster on its own /metrics. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { natsFlagUsage, natsUrlFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { DEFAULT_KUBE_STATE_METRICS_PORT, startKubeStateMetrics } from './server.js';

export const KUBE_STATE_METRICS_USAGE = `usage: flotilla kube-state-metrics [--nats URL] [--port N]

  ${natsFlagUsage()}
  --port N             HTTP port of /metrics, /healthz, /readyz (default ${DEFAULT_KUBE_STATE_METRICS_PORT}; 0 = any free port)`;

export async function runKubeStateMetrics(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(KUBE_STATE_METRICS_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const port = portFlag(values.port) ?? DEFAULT_KUBE_STATE_METRICS_PORT;
  return startAndRunUntilStopped(
    'kube-state-metrics',
    () => startOnPort('kube-state-metrics', port, values.port !== undefined, (p) => startKubeStateMetrics({ natsUrl, port: p })),
    (running) => console.log(`kube-state-metrics: serving ${running.metricsUrl} (NATS ${natsUrl})`),
  );
}

runIfEntryPoint(import.meta.url, 'kube-state-metrics', runKubeStateMetrics);
