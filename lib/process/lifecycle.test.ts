import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** a loopback port nothing listens on, so a service keeps waiting for its NATS there */
async function deadPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

describe('a service process ends on SIGTERM even while it still waits for NATS at start', function () {
  this.timeout(30_000);
  for (const service of ['apiserver', 'scheduler', 'controller-manager', 'kubelet', 'metrics', 'kube-state-metrics', 'logging', 'dns']) {
    it(service, async () => {
      const args = [path.join(DIST, 'services', service, 'main.js'), '--nats', `nats://127.0.0.1:${await deadPort()}`];
      args.push(...(service === 'kubelet' ? ['--nodes', '1'] : ['--port', '0']));
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      try {
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(child.exitCode, null, `${service} ended by itself: ${out}`);
        child.kill('SIGTERM');
        const ended = once(child, 'exit');
        const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`${service} still runs 10 s after SIGTERM: ${out}`)), 10_000));
        const [code] = (await Promise.race([ended, timeout])) as [number | null];
        assert.equal(code, 0);
        assert.match(out, new RegExp(`${service}: stopping \\(SIGTERM\\)`));
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  }
});
