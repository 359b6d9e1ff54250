/**
 * apiserver entry point: `node dist/services/apiserver/main.js --nats URL --port N`.
 */
import { parseArgs } from 'node:util';
import { runUntilStopped } from '../../lib/process/lifecycle.js';
import { startApiServer } from './server.js';

const { values } = parseArgs({
  options: {
    nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
    port: { type: 'string', default: '6443' },
    host: { type: 'string', default: '127.0.0.1' },
    bucket: { type: 'string' },
    replicas: { type: 'string' },
  },
});

const server = await startApiServer({
  natsUrl: values.nats!,
  httpPort: Number(values.port),
  httpHost: values.host,
  bucket: values.bucket,
  replicas: values.replicas ? Number(values.replicas) : undefined,
});
console.log(`apiserver: serving ${server.httpUrl} (NATS ${values.nats})`);

await runUntilStopped('apiserver', () => server.stop());
