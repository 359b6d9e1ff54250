import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONTAINERD_ENV, PAUSE_IMAGE, writeContainerdConfig } from './config.js';
import { ContainerdLauncher } from './launcher.js';

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
        // pods without hostPorts: a runtime handler whose chain has no portmap
        ['cni_conf_dir', path.join(dir, 'net.d-nohostport')],
      ]) {
        assert.ok(toml.includes(`${key} = ${JSON.stringify(value)}`), `${key} = ${value}`);
      }
      assert.match(toml, /^\s*SystemdCgroup = false$/m);
      assert.match(toml, /^\s*restrict_oom_score_adj = true$/m);
      assert.ok(p.socket.startsWith(dir) && existsSync(p.root) && existsSync(p.state));
      assert.match(toml, /^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc-nohostport\]$/m);
      assert.ok(existsSync(path.join(dir, 'net.d-nohostport')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets containerd pull from the local registry on loopback only: hosts.toml per local host, a dead proxy for every other', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-ctd-conf-'));
    try {
      writeContainerdConfig({ dir: path.join(dir, 'containerd'), cniConfDir: path.join(dir, 'net.d') });
      const launcher = new ContainerdLauncher({ dir: path.join(dir, 'containerd'), cniConfDir: path.join(dir, 'net.d'), registryPort: 5123 });
      const p = launcher.paths;
      assert.ok(readFileSync(p.config, 'utf8').includes(`config_path = ${JSON.stringify(p.certsDir)}`));
      assert.deepEqual(readdirSync(p.certsDir).sort(), ['127.0.0.1:5123', 'localhost:5123'], 'the previous port is forgotten');
      for (const host of ['127.0.0.1:5123', 'localhost:5123']) {
        const toml = readFileSync(path.join(p.certsDir, host, 'hosts.toml'), 'utf8');
        assert.match(toml, /^server = "http:\/\/127\.0\.0\.1:5123"$/m);
        assert.match(toml, /^\[host\."http:\/\/127\.0\.0\.1:5123"\]$/m);
      }
      const env = launcher.processSpec().env;
      assert.equal(env.HTTPS_PROXY, 'http://127.0.0.1:9');
      assert.equal(env.HTTP_PROXY, 'http://127.0.0.1:9');
      assert.match(env.NO_PROXY ?? '', /127\.0\.0\.1/);
      assert.deepEqual(Object.keys(CONTAINERD_ENV).sort(), ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a namespaced node\'s containerd in its network namespace (nsenter --net), serving streams on the node\'s address', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-ctd-conf-'));
    try {
      const plain = new ContainerdLauncher({ dir: path.join(dir, 'a'), cniConfDir: path.join(dir, 'a-net.d') });
      assert.equal(plain.processSpec().command, '/usr/bin/containerd');
      assert.match(readFileSync(plain.paths.config, 'utf8'), /^\s*stream_server_address = "127\.0\.0\.1"$/m);
      const launcher = new ContainerdLauncher({ dir: path.join(dir, 'b'), cniConfDir: path.join(dir, 'b-net.d'), netns: 'flt-node2', streamServerAddress: '10.250.0.2' });
      const { command, args } = launcher.processSpec();
      assert.deepEqual([command, ...args], ['/usr/bin/nsenter', '--net=/run/netns/flt-node2', '/usr/bin/containerd', '--config', launcher.paths.config]);
      assert.match(readFileSync(launcher.paths.config, 'utf8'), /^\s*stream_server_address = "10\.250\.0\.2"$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
