/**
 * `flotilla dashboard`: the web UI on a loopback URL it prints. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { natsFlagUsage, natsUrlFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { DEFAULT_DASHBOARD_PORT, startDashboard } from './server.js';

export const DASHBOARD_USAGE = `usage: flotilla dashboard [--nats URL] [--port N] [--host ADDR] [--prometheus-url URL|none] [--apiserver URL]

  ${natsFlagUsage()}
  --port N             HTTP port of the UI (default ${DEFAULT_DASHBOARD_PORT}; 0 = any free port)
  --host ADDR          a loopback address to listen on (default 127.0.0.1)
  --prometheus-url URL the Prometheus the charts read (default: the one \`flotilla up\` runs, found over
                       NATS; none: read the components' own /metrics and the kubelets' readings)
  --apiserver URL      the apiserver's HTTP URL, for followed logs and shells (flotilla up passes it)`;

export async function runDashboard(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'prometheus-url': { type: 'string' },
      apiserver: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DASHBOARD_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const port = portFlag(values.port) ?? DEFAULT_DASHBOARD_PORT;
  const prom = values['prometheus-url'];
  const prometheusUrl = prom === 'none' ? false : prom?.replace(/\/+$/, '');
  if (prometheusUrl && !/^https?:\/\/[^/]+/.test(prometheusUrl)) throw new Error(`--prometheus-url ${prom}: want http://HOST:PORT or none`);
  return startAndRunUntilStopped(
    'dashboard',
    () => startOnPort('dashboard', port, values.port !== undefined, (p) => startDashboard({ natsUrl, port: p, host: values.host, prometheusUrl, apiserverUrl: values.apiserver })),
    (running) => console.log(`dashboard: serving ${running.url} (NATS ${natsUrl})`),
  );
}

runIfEntryPoint(import.meta.url, 'dashboard', runDashboard);
