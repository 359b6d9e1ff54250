/**
 * Resource metrics of a real node: a busy pod's CPU and memory come from containerd's CRI
 * stats and cgroups through the kubelet's endpoints and the NATS scrape to the metrics
 * service, and `kubectl top` shows them through the apiserver's aggregation. Needs root
 * and the node's packages (run under `flock /tmp/flt-containerd.lock`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeKubeconfig } from '../../cli/kubeconfig.js';
import { call } from '../../test/apiserver.js';
import { startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';
import { startMetricsServer, type MetricsServer } from './server.js';

const run = promisify(execFile);

/** the value of the first sample of `name` whose labels include all of `want` */
function sample(text: string, name: string, want: Record<string, string>): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(want).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf('}') + 1).trim().split(' ')[0]);
}

describe('resource metrics of a real node: CRI stats and cgroups to kubectl top (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode | undefined;
  let metrics: MetricsServer | undefined;
  let kubeconfig: string;

  before(async () => {
    rn = await startRealNode('the resource metrics suite', { prefix: 'rm' });
    kubeconfig = writeKubeconfig(path.join(mkdtempSync(path.join(os.tmpdir(), 'flotilla-top-real-')), 'kubeconfig'), rn.api.httpUrl);
    // a busy loop held to 200m by its CPU limit (so CFS throttles it), and an idle pod
    await Promise.all([
      rn.createPod({ containers: [{ name: 'burn', image: 'busybox', command: ['sh', '-c', 'while true; do :; done'], resources: { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } } }] }, { name: 'busy' }),
      rn.createPod({ containers: [{ name: 'idle', image: 'busybox', command: ['sleep', '3600'] }] }, { name: 'quiet' }),
    ]);
    await Promise.all([rn.podIn('busy', 'Running'), rn.podIn('quiet', 'Running')]);
    metrics = await startMetricsServer({ natsUrl: rn.api.natsUrl, resolutionMs: 1000, register: true, log: () => {} });
  });
  after(async () => {
    await metrics?.stop();
    await rn?.stop();
  });

  it('serves the busy container on /metrics/resource and /metrics/cadvisor without a node label, and /stats/summary', async () => {
    const url = rn!.kubelet!.endpoints!.url;
    const resource = await (await fetch(`${url}/metrics/resource`)).text();
    assert.ok(sample(resource, 'container_cpu_usage_seconds_total', { container: 'burn', namespace: 'default', pod: 'busy' })! > 0, resource);
    assert.ok(sample(resource, 'container_memory_working_set_bytes', { container: 'burn', pod: 'busy' })! > 0);
    assert.doesNotMatch(resource, /node="/);
    assert.match(resource, /^node_cpu_usage_seconds_total [\d.e+]+ \d+$/m);
    assert.match(resource, /^node_memory_working_set_bytes \d+ \d+$/m);
    const throttled = await waitFor('the busy loop throttled by CFS', async () => {
      const cadvisor = await (await fetch(`${url}/metrics/cadvisor`)).text();
      const v = sample(cadvisor, 'container_cpu_cfs_throttled_periods_total', { container: 'burn', pod: 'busy', image: 'docker.io/library/busybox:latest' });
      return v! > 0 ? cadvisor : undefined;
    });
    assert.ok(sample(throttled, 'container_cpu_cfs_periods_total', { container: 'burn' })! > 0);
    assert.ok(sample(throttled, 'container_memory_rss', { container: 'burn' })! > 0);
    assert.ok(sample(throttled, 'container_network_receive_bytes_total', { pod: 'busy', interface: 'eth0' }) !== undefined);
    const summary: any = await (await fetch(`${url}/stats/summary`)).json();
    assert.equal(summary.node.nodeName, rn!.nodeName);
    assert.ok(summary.node.memory.workingSetBytes > 0);
    const busy = summary.pods.find((p: any) => p.podRef.name === 'busy');
    assert.ok(busy.containers[0].cpu.usageCoreNanoSeconds > 0);
  });

  it('kubectl top pod shows the busy pod using CPU and memory, kubectl top node the node', async () => {
    await waitFor('PodMetrics of both pods', async () => {
      const r = await call(rn!.api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
      return r.status === 200 && r.body.items?.length === 2 ? r : undefined;
    }, 60_000);
    const out = (await run('kubectl', ['--kubeconfig', kubeconfig, 'top', 'pod', '--containers', '--no-headers'])).stdout;
    const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
    const burn = rows.find((r) => r[0] === 'busy' && r[1] === 'burn')!;
    assert.ok(burn, out);
    const millicores = Number(burn[2].replace(/m$/, ''));
    // held to 200m by its limit; busy enough to show well above zero even on a loaded machine
    assert.ok(millicores >= 20 && millicores <= 260, out);
    assert.ok(Number(burn[3].replace(/Mi$/, '')) >= 0 && /^\d+Mi$/.test(burn[3]), out);
    const ws = await call(rn!.api.httpUrl, 'GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy');
    assert.ok(Number(ws.body.containers[0].usage.memory.replace(/Ki$/, '')) > 0, JSON.stringify(ws.body));
    const node = (await run('kubectl', ['--kubeconfig', kubeconfig, 'top', 'node', '--no-headers'])).stdout.trim().split(/\s+/);
    assert.equal(node[0], rn!.nodeName);
    assert.ok(Number(node[1].replace(/m$/, '')) > 0, node.join(' '));
    assert.ok(Number(node[3].replace(/Mi$/, '')) > 0, node.join(' '));
  });
});
