import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAddons, ADDONS } from '../addons.js';
import { prometheusLayout, renderPrometheusConfig, SCRAPE_JOBS, targetsFile } from './config.js';
import { PROMETHEUS_INSTALL, PrometheusAddon, prometheusBinary } from './addon.js';
import { renderRecordingRules } from './rules.js';
import { targetGroups } from './targets.js';

describe('prometheus config and targets', () => {
  it('--addons: all by default, a list, none; an unknown name lists the known ones', () => {
    assert.deepEqual(parseAddons(undefined), [...ADDONS]);
    assert.deepEqual(parseAddons('prometheus'), ['prometheus']);
    assert.deepEqual(parseAddons('none'), []);
    assert.throws(() => parseAddons('prometheus,grafana'), /unknown addon "grafana" \(known: kube-state-metrics, prometheus, metrics-server, logging, dashboard, dns, or none\)/);
  });

  it('without the binary: one line with the install command, and nothing started', async () => {
    const saved = process.env.PROMETHEUS_BIN;
    process.env.PROMETHEUS_BIN = '/nonexistent/prometheus';
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-prom-missing-'));
    const lines: string[] = [];
    try {
      const addon = new PrometheusAddon({ dataDir: dir, natsUrl: 'nats://127.0.0.1:1', scrapeIntervalMs: 1000, out: { stdout: process.stdout, stderr: process.stderr, log: (l) => lines.push(l) }, prefixWidth: 10 });
      assert.equal(await addon.start(), false);
      assert.deepEqual(lines, [`prometheus is not installed: running without it; install it with: ${PROMETHEUS_INSTALL}`]);
      assert.equal(addon.process, undefined);
      assert.equal(PROMETHEUS_INSTALL, 'sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus');
    } finally {
      if (saved === undefined) delete process.env.PROMETHEUS_BIN;
      else process.env.PROMETHEUS_BIN = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('groups announced targets per job and path; other jobs go to flotilla-addons with their job label', () => {
    const groups = targetGroups([
      { job: 'kubelet', address: '127.0.0.1:10250', paths: ['/metrics', '/metrics/cadvisor'] },
      { job: 'apiserver', address: '127.0.0.1:6443' },
      { job: 'metrics-server', address: '127.0.0.1:4443' },
    ]);
    assert.deepEqual(groups.get('kubelet'), [
      { targets: ['127.0.0.1:10250'], labels: { __metrics_path__: '/metrics' } },
      { targets: ['127.0.0.1:10250'], labels: { __metrics_path__: '/metrics/cadvisor' } },
    ]);
    assert.deepEqual(groups.get('apiserver'), [{ targets: ['127.0.0.1:6443'], labels: { __metrics_path__: '/metrics' } }]);
    assert.deepEqual(groups.get('coredns'), []);
    assert.deepEqual(groups.get('flotilla-addons'), [{ targets: ['127.0.0.1:4443'], labels: { job: 'metrics-server', __metrics_path__: '/metrics' } }]);
  });

  it('writes a configuration promtool accepts, with the jobs the dashboards select', async function () {
    if (!prometheusBinary()) throw new Error(`prometheus is not installed: ${PROMETHEUS_INSTALL}`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-prom-config-'));
    try {
      const layout = prometheusLayout(dir);
      mkdirSync(layout.targets, { recursive: true });
      writeFileSync(layout.config, renderPrometheusConfig(layout, 1500));
      writeFileSync(layout.rules, renderRecordingRules());
      for (const [job, list] of targetGroups([{ job: 'kubelet', address: '127.0.0.1:1', paths: ['/metrics', '/metrics/cadvisor'] }])) writeFileSync(targetsFile(layout, job), JSON.stringify(list));
      const { stdout } = await promisify(execFile)('promtool', ['check', 'config', layout.config]);
      assert.match(stdout, /SUCCESS/);
      const rules = await promisify(execFile)('promtool', ['check', 'rules', layout.rules]);
      assert.match(rules.stdout, /SUCCESS: \d+ rules found/);
      const text = renderPrometheusConfig(layout, 1500);
      for (const job of SCRAPE_JOBS) assert.match(text, new RegExp(`job_name: ${job}\\n`));
      assert.match(text, /scrape_interval: 1500ms/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
