/**
 * `flotilla controller-manager`: one controller-manager process. Stops on SIGINT/SIGTERM
 * (giving up the lease so a standby takes over at once), or when its launcher is gone.
 */
import { parseArgs } from 'node:util';
import { runUntilStopped } from '../../lib/process/lifecycle.js';
import { CONTROLLERS, DEFAULT_CONTROLLER_MANAGER_PORT, startControllerManager } from './manager.js';

export const CONTROLLER_MANAGER_USAGE = `usage: flotilla controller-manager [--nats URL] [--port N] [--leader-elect=false] [--controllers '*,-foo']

  --nats URL           NATS server(s), comma-separated (default $NATS_URL or nats://127.0.0.1:4222)
  --port N             HTTP port of /metrics, /healthz, /readyz (default ${DEFAULT_CONTROLLER_MANAGER_PORT}; 0 = any free port)
  --leader-elect BOOL  campaign for the Lease kube-system/kube-controller-manager first (default true)
  --controllers LIST   controllers to run: '*' for all, 'name' to enable, '-name' to disable
                       (${CONTROLLERS.map((c) => c.name).join(', ')})`;

function parseBool(v: string | undefined, flag: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === '') return true;
  if (v === 'false') return false;
  throw new Error(`${flag}: expected true or false, got "${v}"`);
}

export async function runControllerManager(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      'leader-elect': { type: 'string' },
      controllers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(CONTROLLER_MANAGER_USAGE);
    return 0;
  }
  const natsUrl = values.nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const port = values.port !== undefined ? Number(values.port) : DEFAULT_CONTROLLER_MANAGER_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  const controllers = values.controllers?.split(',').map((s) => s.trim()).filter(Boolean);
  const start = (p: number) => startControllerManager({ natsUrl, port: p, leaderElect: parseBool(values['leader-elect'], '--leader-elect'), controllers });
  let running: Awaited<ReturnType<typeof startControllerManager>>;
  try {
    running = await start(port);
  } catch (e) {
    // the default port taken (another cluster's controller-manager): serve on a free one
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || values.port !== undefined) throw e;
    console.log(`controller-manager: port ${port} is busy; serving metrics on a free port`);
    running = await start(0);
  }
  console.log(`controller-manager: ${running.identity} serving ${running.metricsUrl} (NATS ${natsUrl}; controllers ${running.controllers.join(', ')})`);
  return runUntilStopped('controller-manager', () => running.stop());
}
