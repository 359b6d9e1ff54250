/**
 * `flotilla dashboard`: the web UI on a loopback URL it prints. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { natsFlagUsage, natsUrlFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { DEFAULT_DASHBOARD_PORT, startDashboard } from './server.js';

export const DASHBOARD_USAGE = `usage: flotilla dashboard [--nats URL] [--port N] [--host ADDR]

  ${natsFlagUsage()}
  --port N             HTTP port of the UI (default ${DEFAULT_DASHBOARD_PORT}; 0 = any free port)
  --host ADDR          a loopback address to listen on (default 127.0.0.1)`;

export async function runDashboard(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DASHBOARD_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const port = portFlag(values.port) ?? DEFAULT_DASHBOARD_PORT;
  return startAndRunUntilStopped(
    'dashboard',
    () => startOnPort('dashboard', port, values.port !== undefined, (p) => startDashboard({ natsUrl, port: p, host: values.host })),
    (running) => console.log(`dashboard: serving ${running.url} (NATS ${natsUrl})`),
  );
}

runIfEntryPoint(import.meta.url, 'dashboard', runDashboard);
