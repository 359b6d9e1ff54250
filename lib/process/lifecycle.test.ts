import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A loopback port that accepts connections and never answers, as a NATS server that is
 * not up yet: `connected` resolves when the service first dials it, i.e. once its start
 * (which runs after its signal handlers are in place) is waiting for NATS. A fixed wait
 * would race with module loading, which takes seconds on a loaded machine.
 */
async function silentNats(): Promise<{ port: number; connected: Promise<void>; close: () => void }> {
  const sockets: Socket[] = [];
  let dialled!: () => void;
  const connected = new Promise<void>((r) => (dialled = r));
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    dialled();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { port, connected, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

describe('a service process ends on SIGTERM even while it still waits for NATS at start', function () {
  this.timeout(30_000);
  for (const service of ['apiserver', 'scheduler', 'controller-manager', 'kubelet', 'metrics', 'kube-state-metrics', 'logging', 'dns', 'dashboard']) {
    it(service, async () => {
      const nats = await silentNats();
      const args = [path.join(DIST, 'services', service, 'main.js'), '--nats', `nats://127.0.0.1:${nats.port}`];
      args.push(...(service === 'kubelet' ? ['--nodes', '1'] : ['--port', '0']));
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      try {
        const exited = once(child, 'exit').then(() => new Error(`${service} ended by itself: ${out}`));
        const waited = await Promise.race([nats.connected.then(() => undefined), exited]);
        if (waited) throw waited;
        assert.equal(child.exitCode, null, `${service} ended by itself: ${out}`);
        child.kill('SIGTERM');
        const ended = once(child, 'exit');
        const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`${service} still runs 10 s after SIGTERM: ${out}`)), 10_000));
        const [code] = (await Promise.race([ended, timeout])) as [number | null];
        assert.equal(code, 0);
        assert.match(out, new RegExp(`${service}: stopping \\(SIGTERM\\)`));
      } finally {
        nats.close();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  }
});

describe('a service process whose stop never finishes still exits', function () {
  this.timeout(30_000);
  it('exits 0 once the stop timeout has passed, saying so', async () => {
    const lifecycle = path.join(DIST, 'lib', 'process', 'lifecycle.js');
    const script = `import { runUntilStopped } from ${JSON.stringify(lifecycle)};
const running = runUntilStopped('hanging', () => new Promise(() => undefined), { stopTimeoutMs: 300 });
setInterval(() => undefined, 1000); // a service's servers keep its event loop alive
console.log('ready');
await running;`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = new Promise<void>((resolve) =>
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('ready')) resolve();
      }),
    );
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await ready;
      child.kill('SIGTERM');
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`still runs 10 s after SIGTERM: ${out}`)), 10_000));
      const [code] = (await Promise.race([once(child, 'exit'), timeout])) as [number | null];
      assert.equal(code, 0);
      assert.match(out, /hanging: stopping \(SIGTERM\)/);
      assert.match(out, /hanging: stop did not finish within 0\.3 s; exiting/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('a service process whose supervising launcher died before it ran', function () {
  this.timeout(30_000);
  it('ends at once, taking the launcher named in its environment for its parent, and hides it from its own children', async () => {
    // a pid that is nobody's: a launcher gone before its child read its parent
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    const lifecycle = path.join(DIST, 'lib', 'process', 'lifecycle.js');
    const script = `import { runUntilStopped, SUPERVISOR_PID_ENV } from ${JSON.stringify(lifecycle)};
const running = runUntilStopped('orphan', async () => undefined);
setInterval(() => undefined, 1000);
console.log('inherited: ' + (process.env[SUPERVISOR_PID_ENV] ?? 'nothing'));
await running;`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLOTILLA_SUPERVISOR_PID: String(gone.pid) },
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`still runs after 10 s: ${out}`)), 10_000));
      const [code] = (await Promise.race([once(child, 'exit'), timeout])) as [number | null];
      assert.equal(code, 0, out);
      assert.match(out, new RegExp(`orphan: stopping \\(parent process ${gone.pid} is gone\\)`));
      assert.match(out, /inherited: nothing/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
