/**
 * `flotilla scheduler`: one scheduler process. Stops on SIGINT/SIGTERM (giving up the
 * lease so a standby takes over at once), or when its supervising launcher is gone.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isCoreKind } from './core/mod.js';
import { DEFAULT_SCHEDULER_PORT, startScheduler } from './server.js';
import { boolFlag, natsFlagUsage, natsUrlFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { TRACING_FLAG_OPTIONS, tracingFlags, tracingFlagsUsage } from '../../lib/tracing/mod.js';

export const SCHEDULER_USAGE = `usage: flotilla scheduler [--nats URL] [--config FILE] [--port N] [--leader-elect=false] [--core reference|wasm|wasm-simd] [--tracing-* ...]

  ${natsFlagUsage()}
  --config FILE        a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) file
  --port N             HTTP port of /metrics, /healthz, /readyz (default ${DEFAULT_SCHEDULER_PORT}; 0 = any free port)
  --leader-elect BOOL  campaign for the Lease kube-system/kube-scheduler first (default true)
  --core KIND          the scheduling core (default wasm-simd, or $FLOTILLA_SCHEDULER_CORE)
${tracingFlagsUsage()}`;

export async function runScheduler(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      config: { type: 'string' },
      port: { type: 'string' },
      'leader-elect': { type: 'string' },
      core: { type: 'string' },
      ...TRACING_FLAG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(SCHEDULER_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const configText = values.config ? readFileSync(values.config, 'utf8') : undefined;
  const port = portFlag(values.port) ?? DEFAULT_SCHEDULER_PORT;
  const tracing = tracingFlags(values);
  if (values.core !== undefined && !isCoreKind(values.core)) throw new Error(`--core: expected reference, wasm or wasm-simd, got "${values.core}"`);
  const start = (p: number) =>
    startScheduler({
      natsUrl,
      configText,
      port: p,
      leaderElect: boolFlag(values['leader-elect'], '--leader-elect'),
      coreKind: values.core as Parameters<typeof startScheduler>[0]['coreKind'],
      tracing,
    });
  return startAndRunUntilStopped(
    'scheduler',
    () => startOnPort('scheduler', port, values.port !== undefined, start),
    (running) =>
      console.log(`scheduler: ${running.identity} serving ${running.metricsUrl} (NATS ${natsUrl}; profiles ${running.config.profiles.map((p) => p.schedulerName).join(', ')})`),
  );
}

runIfEntryPoint(import.meta.url, 'scheduler', runScheduler);
