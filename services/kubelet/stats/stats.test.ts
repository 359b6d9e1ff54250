import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { testApiServer } from '../../../test/apiserver.js';
import { waitFor } from '../../../test/wait.js';
import { ApiClient, connectNats, Resources } from '../../../lib/client/mod.js';
import { scrapeKubelets, type NodeSample } from '../../../lib/stats/mod.js';
import { startKubelet, type RunningKubelet } from '../server.js';
import { hollowCpuSeconds, HOLLOW_SYSTEM_MEMORY_BYTES } from './hollow.js';

const pod = (name: string, node: string, cpu: string, memory: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'stats' } },
  spec: { nodeName: node, containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu, memory } } }, { name: 'side', image: 'busybox' }] },
});

/** the value of the first sample line of `name` whose labels include every one of `want` */
function sample(text: string, name: string, want: Record<string, string>): { value: number; ts?: number } | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(want).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const parts = (line.includes('}') ? line.slice(line.lastIndexOf('}') + 1) : line.slice(name.length)).trim().split(' ');
    return { value: Number(parts[0]), ts: parts[1] === undefined ? undefined : Number(parts[1]) };
  }
  return undefined;
}

describe('kubelet stats: hollow nodes on /metrics, /metrics/resource, /metrics/cadvisor, /stats/summary and over NATS', function () {
  this.timeout(60_000);
  let api: Awaited<ReturnType<typeof testApiServer>>;
  let kubelet: RunningKubelet;
  let nc: NatsConnection;
  let client: ApiClient;
  let url: string;

  before(async () => {
    api = await testApiServer();
    kubelet = await startKubelet({ natsUrl: api.natsUrl, nodes: 3, namePrefix: 'st-', pod: { flushMs: 20 }, log: () => {} });
    url = kubelet.endpoints!.url;
    nc = await connectNats(api.natsUrl, { name: 'kubelet-stats-test' });
    client = new ApiClient(nc);
    await client.create({ ...Resources.pods, namespace: 'default' }, pod('big', 'st-0', '500m', '256Mi'));
    await client.create({ ...Resources.pods, namespace: 'default' }, pod('small', 'st-1', '100m', '64Mi'));
    await waitFor('both pods running', async () => {
      const l = await client.list<any>({ ...Resources.pods, namespace: 'default' });
      return l.items.filter((p: any) => p.status?.phase === 'Running').length === 2 || undefined;
    });
  });
  after(async () => {
    await kubelet?.stop();
    client?.close();
    await nc?.close();
    await api?.stop();
  });

  it('advertises its read-only port on its nodes', async () => {
    const node = await client.get<any>({ ...Resources.nodes, name: 'st-2' });
    assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, kubelet.endpoints!.port);
  });

  it('serves /metrics/resource with upstream names, a node label per hollow node and timestamps', async () => {
    const before = Date.now();
    const text = await (await fetch(`${url}/metrics/resource`)).text();
    assert.match(text, /# TYPE container_cpu_usage_seconds_total counter/);
    const cpu = sample(text, 'container_cpu_usage_seconds_total', { container: 'main', namespace: 'default', pod: 'big', node: 'st-0' });
    assert.ok(cpu && cpu.value > 0, text);
    assert.ok(cpu.ts! >= before - 1000 && cpu.ts! <= Date.now() + 1000, `timestamp ${cpu.ts}`);
    const mem = sample(text, 'container_memory_working_set_bytes', { container: 'main', pod: 'big' })!;
    // 256Mi times 0.9 ± 0.1
    assert.ok(mem.value >= 0.8 * 256 * 2 ** 20 && mem.value <= 256 * 2 ** 20, String(mem.value));
    const side = sample(text, 'container_memory_working_set_bytes', { container: 'side', pod: 'big' })!;
    assert.ok(side.value > 0 && side.value <= 4 * 2 ** 20, 'a container without requests uses the documented defaults');
    assert.ok(sample(text, 'container_start_time_seconds', { container: 'main', pod: 'small' })!.value > before / 1000 - 120);
    assert.ok(sample(text, 'pod_cpu_usage_seconds_total', { pod: 'small', namespace: 'default' })!.value > 0);
    assert.ok(sample(text, 'pod_memory_working_set_bytes', { pod: 'small' })!.value > 0);
    const idle = sample(text, 'node_memory_working_set_bytes', { node: 'st-2' })!;
    assert.equal(idle.value, HOLLOW_SYSTEM_MEMORY_BYTES);
    assert.ok(sample(text, 'node_memory_working_set_bytes', { node: 'st-0' })!.value > HOLLOW_SYSTEM_MEMORY_BYTES);
    assert.ok(sample(text, 'node_cpu_usage_seconds_total', { node: 'st-1' }));
  });

  it('serves /metrics/cadvisor with namespace, pod, container and image labels', async () => {
    const text = await (await fetch(`${url}/metrics/cadvisor`)).text();
    for (const name of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_memory_rss', 'container_memory_cache', 'container_cpu_cfs_periods_total', 'container_cpu_cfs_throttled_periods_total', 'container_fs_reads_bytes_total', 'container_fs_writes_bytes_total']) {
      assert.ok(sample(text, name, { container: 'main', namespace: 'default', pod: 'big', image: 'docker.io/library/busybox:latest' }), name);
    }
    for (const name of ['container_network_receive_bytes_total', 'container_network_transmit_bytes_total']) assert.ok(sample(text, name, { namespace: 'default', pod: 'small', interface: 'eth0' }), name);
  });

  it('serves the kubelet_* series on /metrics', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.equal(sample(text, 'kubelet_running_pods', {})?.value, 2);
    assert.equal(sample(text, 'kubelet_running_containers', { container_state: 'running' })?.value, 4);
    for (const n of ['st-0', 'st-1', 'st-2']) assert.equal(sample(text, 'kubelet_node_name', { node: n })?.value, 1);
    assert.equal(sample(text, 'kubelet_pod_start_duration_seconds_count', {})?.value, 2);
    assert.equal(sample(text, 'kubelet_pod_worker_duration_seconds_count', { operation_type: 'create' })?.value, 2);
    assert.equal(sample(text, 'kubelet_runtime_operations_total', { operation_type: 'run_podsandbox' })?.value, 2);
    assert.equal(sample(text, 'kubelet_runtime_operations_total', { operation_type: 'start_container' })?.value, 4);
    assert.ok(sample(text, 'kubelet_runtime_operations_duration_seconds_count', { operation_type: 'create_container' }));
    assert.match(text, /# TYPE kubelet_runtime_operations_errors_total counter/);
    assert.match(text, /# TYPE kubelet_pleg_relist_duration_seconds histogram/);
  });

  it('serves /stats/summary per node, with the CPU rate from the previous reading', async () => {
    const first: any = await (await fetch(`${url}/stats/summary?node=st-0`)).json();
    assert.equal(first.node.nodeName, 'st-0');
    assert.equal(first.pods.length, 1);
    assert.deepEqual(first.pods[0].podRef.name, 'big');
    await new Promise((r) => setTimeout(r, 300));
    const second: any = await (await fetch(`${url}/stats/summary?node=st-0`)).json();
    const main = second.pods[0].containers.find((c: any) => c.name === 'main');
    // 500m ± 20 %
    assert.ok(main.cpu.usageNanoCores >= 0.39e9 && main.cpu.usageNanoCores <= 0.61e9, String(main.cpu.usageNanoCores));
    assert.ok(main.memory.workingSetBytes > 0);
    assert.ok(second.node.cpu.usageNanoCores > 0.5e9, 'the node adds its system share');
    assert.equal((await fetch(`${url}/stats/summary?node=nope`)).status, 404);
  });

  it('answers one NATS scrape with every node of the process, in chunks to one inbox', async () => {
    const nodes: NodeSample[] = [];
    const r = await scrapeKubelets(nc, { timeoutMs: 5000, quietMs: 300 }, (ns) => nodes.push(...ns));
    assert.equal(r.processes.get(kubelet.statsProcessId), 3);
    const mine = nodes.filter((n) => n.node.startsWith('st-'));
    assert.deepEqual(mine.map((n) => n.node).sort(), ['st-0', 'st-1', 'st-2']);
    const big = mine.find((n) => n.node === 'st-0')!.pods[0];
    assert.equal(big.name, 'big');
    assert.deepEqual(big.containers.map((c) => c.name).sort(), ['main', 'side']);
    // the scrape waits for the processes it knows without a quiet period guess
    const again = await scrapeKubelets(nc, { timeoutMs: 5000, expected: [kubelet.statsProcessId], quietMs: 50 }, () => {});
    assert.deepEqual(again.missing, []);
  });

  it('integrates the documented CPU variation exactly', () => {
    // a constant-rate integral would be cores·Δt; the sine adds at most 2·0.2/ω core-seconds
    const v = hollowCpuSeconds(1, 0, 1000, 1600);
    assert.ok(Math.abs(v - 600) <= (2 * 0.2 * 300) / (2 * Math.PI) + 1e-9, String(v));
    assert.equal(hollowCpuSeconds(1, 0, 1000, 900), 0);
  });
});
