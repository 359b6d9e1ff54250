/** Starts and stops a real containerd under a temporary folder: needs root and the node's packages. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CriClient } from '../cri/client.js';
import { requireNodeHost } from '../host/prerequisites.js';
import { ContainerdLauncher } from './launcher.js';
import { mountsUnder } from '../../../test/node.js';

describe('containerd launcher (needs root)', function () {
  this.timeout(60_000);
  let dir = '';
  let launcher: ContainerdLauncher | undefined;

  before(() => {
    requireNodeHost('the containerd launcher suite');
    dir = mkdtempSync('/tmp/flt-ctd-test-');
  });

  after(async () => {
    await launcher?.stop();
    if (dir && mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  });

  it('starts containerd on its own socket under the data folder, answers CRI, stops on SIGTERM and starts again', async () => {
    launcher = new ContainerdLauncher({ dir: path.join(dir, 'containerd'), cniConfDir: path.join(dir, 'net.d') });
    const { env, ...spec } = launcher.processSpec();
    assert.deepEqual(spec, { name: 'containerd', command: '/usr/bin/containerd', args: ['--config', path.join(dir, 'containerd', 'config.toml')] });
    assert.equal(env.HTTPS_PROXY, 'http://127.0.0.1:9', 'pulls from other hosts go to a dead proxy');
    const v = await launcher.start();
    assert.equal(v.runtimeName, 'containerd');
    assert.equal(v.runtimeApiVersion, 'v1');
    assert.ok(launcher.running);
    const client = new CriClient(launcher.paths.socket);
    try {
      const conditions = (await client.status()).conditions;
      assert.equal(conditions.find((c) => c.type === 'RuntimeReady')?.status, true);
    } finally {
      client.close();
    }
    await launcher.stop();
    assert.equal(launcher.running, false);
    assert.deepEqual(launcher.exit, { code: 0, signal: null });
    // same folder, same store: a restart (as the supervisor does) comes back
    assert.equal((await launcher.start()).runtimeName, 'containerd');
    await launcher.stop();
    assert.match(readFileSync(launcher.logFile, 'utf8'), /containerd successfully booted/);
  });
});
