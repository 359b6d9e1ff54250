import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PAUSE_IMAGE, writeContainerdConfig } from './config.js';

describe('containerd config for a Flotilla node', () => {
  it('keeps every path under the data folder and sets the CRI plugin for this kind of machine', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-ctd-conf-'));
    try {
      const p = writeContainerdConfig({ dir: path.join(dir, 'containerd'), cniConfDir: path.join(dir, 'net.d') });
      const toml = readFileSync(p.config, 'utf8');
      for (const [key, value] of [
        ['root', p.root],
        ['state', p.state],
        ['address', p.socket],
        ['address', p.ttrpcSocket],
        ['path', path.join(dir, 'containerd', 'opt')],
        ['sandbox_image', PAUSE_IMAGE],
        ['snapshotter', 'overlayfs'],
        ['runtime_type', 'io.containerd.runc.v2'],
        ['bin_dir', '/usr/lib/cni'],
        ['conf_dir', path.join(dir, 'net.d')],
      ]) {
        assert.ok(toml.includes(`${key} = ${JSON.stringify(value)}`), `${key} = ${value}`);
      }
      assert.match(toml, /^\s*SystemdCgroup = false$/m);
      assert.match(toml, /^\s*restrict_oom_score_adj = true$/m);
      assert.ok(p.socket.startsWith(dir) && existsSync(p.root) && existsSync(p.state));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
