import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { natsMaxProcsEnv, natsMemoryLimitEnv, natsServerEnv, startNatsServer } from './server.js';

describe('lib/nats/server: a started nats-server', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-test-natsmem-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs with the memory limit it was given as its GOMEMLIMIT, and serves', async () => {
    const h = await startNatsServer({ dataDir: dir, memoryLimit: '512MiB' });
    try {
      const environ = readFileSync(`/proc/${h.process.pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.includes('GOMEMLIMIT=512MiB'), `GOMEMLIMIT not in nats-server's environment: ${environ.filter((e) => e.startsWith('GO')).join(' ')}`);
      const procs = natsMaxProcsEnv().GOMAXPROCS;
      assert.ok(environ.includes(`GOMAXPROCS=${procs}`), `GOMAXPROCS=${procs} not in nats-server's environment: ${environ.filter((e) => e.startsWith('GO')).join(' ')}`);
      const nc = await connect({ servers: h.url });
      assert.equal(nc.info?.jetstream, true);
      await nc.close();
    } finally {
      await h.stop();
    }
  });

  it('refuses a limit Go would not take, naming it, before starting anything', async () => {
    await assert.rejects(startNatsServer({ dataDir: dir, memoryLimit: '2GB' }), /invalid nats-server memory limit "2GB".*GiB/);
    assert.throws(() => natsMemoryLimitEnv('-1'), /"-1"/);
    assert.throws(() => natsMemoryLimitEnv('1.5GiB'), /"1.5GiB"/);
  });

  it('leaves the environment as it is without a limit, and adds only GOMEMLIMIT with one', () => {
    const base = { PATH: '/usr/bin', GOGC: '100' };
    assert.equal(natsMemoryLimitEnv(undefined, base), base);
    assert.deepEqual(natsMemoryLimitEnv('2GiB', base), { PATH: '/usr/bin', GOGC: '100', GOMEMLIMIT: '2GiB' });
    assert.deepEqual(natsMemoryLimitEnv('1073741824', base).GOMEMLIMIT, '1073741824');
  });

  it('gives nats-server half the cores as GOMAXPROCS, at least one, unless the environment sets it', () => {
    const base = { PATH: '/usr/bin' };
    assert.deepEqual(natsMaxProcsEnv(base, 2), { PATH: '/usr/bin', GOMAXPROCS: '1' });
    assert.deepEqual(natsMaxProcsEnv(base, 1), { PATH: '/usr/bin', GOMAXPROCS: '1' });
    assert.deepEqual(natsMaxProcsEnv(base, 9), { PATH: '/usr/bin', GOMAXPROCS: '4' });
    const set = { PATH: '/usr/bin', GOMAXPROCS: '3' };
    assert.equal(natsMaxProcsEnv(set, 2), set);
    assert.equal('GOMAXPROCS' in base, false, 'the caller\'s environment is left as it was');
    assert.equal(natsServerEnv('1GiB', set).GOMEMLIMIT, '1GiB');
    assert.equal(natsServerEnv('1GiB', set).GOMAXPROCS, '3');
  });
});
