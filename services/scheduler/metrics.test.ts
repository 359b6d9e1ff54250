/**
 * The scheduler's per-plugin and per-extension-point metrics as /metrics serves them:
 * scheduler_plugin_execution_duration_seconds (PreFilter sampled per compile, PostFilter on
 * every run), scheduler_framework_extension_point_duration_seconds{extension_point="Filter"}
 * and scheduler_unschedulable_pods{plugin,profile}, after scheduling against a real
 * apiserver.
 */
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { apiNode, mkPod } from './testing/harness.js';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { newRegistry, serveMetrics, type HealthServer } from '../../lib/metrics/mod.js';
import { SchedulerCache } from './backend/cache/cache.js';
import { defaultSchedulerConfiguration, parseSchedulerConfiguration } from './config.js';
import { ReferenceCore } from './core/reference.js';
import { Framework } from './framework/framework.js';
import { inTreeRegistry } from './plugins/registry.js';
import { SchedulerMetrics } from './metrics.js';
import { Scheduler } from './scheduler.js';
import { waitFor } from '../../test/wait.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, one sample a line (label values here hold no quotes or commas). */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const kv of (m[2] ?? '').split(',')) {
      const eq = kv.indexOf('=');
      if (eq > 0) labels[kv.slice(0, eq)] = JSON.parse(kv.slice(eq + 1));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function find(samples: Sample[], name: string, labels: Record<string, string>): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}


const TWO_PROFILES = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: second
`;

describe('scheduler metrics: plugins, extension points and unschedulable pods on /metrics', function () {
  this.timeout(90_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let nc: NatsConnection;
  let client: ApiClient;
  let scheduler: Scheduler;
  let http: HealthServer;
  let loop: Promise<void>;

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url, bucket: 'scheduler-metrics' });
    nc = await connectNats(nats.url, { name: 'scheduler-metrics' });
    client = new ApiClient(nc);
    const metrics = new SchedulerMetrics(newRegistry('scheduler'));
    scheduler = new Scheduler({
      client,
      config: parseSchedulerConfiguration(TWO_PROFILES),
      metrics,
      identity: 'metrics-test',
      coreKind: 'reference',
      registry: inTreeRegistry,
      // every compile timed, so the PreFilter series are there however few pods run
      pluginMetricsSamplePercent: 100,
      log: () => {},
    });
    http = await serveMetrics(metrics.registry, 0, () => scheduler.hasSynced());
    await scheduler.startInformers();
    loop = scheduler.run();
  });
  after(async () => {
    await scheduler?.stop();
    await loop;
    await http?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('serves per-plugin PreFilter and PostFilter durations, Filter per profile, and unschedulable pods per plugin and profile', async () => {
    await client.create(Resources.nodes, apiNode('small', { cpu: '2', memory: '4Gi', pods: '110' }));
    const podsRef = { ...Resources.pods, namespace: 'default' };
    const pod = (name: string, cpu: string, schedulerName?: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', ...mkPod(name, { cpu }, { schedulerName }) });
    await client.create(podsRef, pod('fits', '100m'));
    await client.create(podsRef, pod('too-big', '64'));
    await client.create(podsRef, pod('too-big-second', '64', 'second'));
    const get = (name: string) => client.get<Pod>({ ...podsRef, name });
    await waitFor('fits to be bound', async () => (await get('fits')).spec?.nodeName);
    for (const name of ['too-big', 'too-big-second']) {
      await waitFor(`${name} to be marked unschedulable`, async () => (await get(name)).status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'));
    }
    const scrape = async () => parseMetrics(await (await fetch(`${http.url}/metrics`)).text());
    // the gauge is refreshed every second
    const samples = await waitFor('scheduler_unschedulable_pods for both profiles', async () => {
      const s = await scrape();
      return find(s, 'scheduler_unschedulable_pods', {}).length >= 2 ? s : undefined;
    });

    // both profiles run upstream's default plugins
    const compilers = new Framework(defaultSchedulerConfiguration().profiles[0]!, { registry: inTreeRegistry, snapshot: new SchedulerCache({ createCore: (d) => new ReferenceCore(d) }).snapshot }).compilers.map((p) => p.name);
    const preFilter = find(samples, 'scheduler_plugin_execution_duration_seconds_count', { extension_point: 'PreFilter' });
    assert.deepEqual([...new Set(preFilter.map((s) => s.labels.plugin))].sort(), [...compilers].sort(), 'one PreFilter series per compiling plugin');
    for (const s of preFilter) {
      assert.equal(s.labels.status, 'Success', `${s.labels.plugin}: every compile here succeeds`);
      // three pods of three signatures, each compiled at least once
      assert.ok(s.value >= 3, `${s.labels.plugin} timed ${s.value} times over three compiles`);
    }
    const postFilter = find(samples, 'scheduler_plugin_execution_duration_seconds_count', { extension_point: 'PostFilter' });
    assert.deepEqual(
      postFilter.map((s) => [s.labels.plugin, s.labels.status]),
      [['DefaultPreemption', 'Unschedulable']],
      'preemption found no victims for the pods that fit nowhere',
    );
    assert.ok(postFilter[0]!.value >= 2);

    const filter = (profile: string) =>
      find(samples, 'scheduler_framework_extension_point_duration_seconds_count', { extension_point: 'Filter', status: 'Success', profile })[0]?.value ?? 0;
    assert.ok(filter('default-scheduler') >= 2, `Filter observed ${filter('default-scheduler')} times for the two groups of default-scheduler`);
    assert.ok(filter('second') >= 1, 'Filter observed for the second profile');
    assert.deepEqual(find(samples, 'scheduler_framework_extension_point_duration_seconds_count', { extension_point: 'Score' }), [], 'Score is folded into Filter');

    const unschedulable = find(samples, 'scheduler_unschedulable_pods', {}).map((s) => [s.labels.profile, s.labels.plugin, s.value]);
    assert.deepEqual(unschedulable.sort(), [
      ['default-scheduler', 'NodeResourcesFit', 1],
      ['second', 'NodeResourcesFit', 1],
    ]);
  });
});

describe('scheduler metrics: PreFilter plugin timing is sampled per compile', () => {
  const compileMany = (samplePercent: number | undefined, n: number) => {
    const metrics = new SchedulerMetrics(newRegistry('scheduler'));
    const cache = new SchedulerCache({ createCore: (d) => new ReferenceCore(d) });
    const fw = new Framework(defaultSchedulerConfiguration().profiles[0]!, { registry: inTreeRegistry, snapshot: cache.snapshot, metrics, pluginMetricsSamplePercent: samplePercent });
    for (let i = 0; i < n; i++) fw.compile(mkPod(`p${i}`, { cpu: `${i + 1}m` }));
    return { metrics, plugins: fw.compilers.length };
  };
  const timedCompiles = async (metrics: SchedulerMetrics) =>
    find(parseMetrics(await metrics.registry.metrics()), 'scheduler_plugin_execution_duration_seconds_count', { extension_point: 'PreFilter' }).reduce((a, s) => a + s.value, 0);

  it('times every plugin of every compile at 100 %, none at 0 %, and about a tenth by default as upstream', async () => {
    const all = compileMany(100, 20);
    assert.equal(await timedCompiles(all.metrics), 20 * all.plugins);
    assert.equal(await timedCompiles(compileMany(0, 20).metrics), 0);
    // 2,000 compiles at 10 %: the count of sampled compiles lies within ±6 standard deviations of 200
    const byDefault = compileMany(undefined, 2_000);
    const sampled = (await timedCompiles(byDefault.metrics)) / byDefault.plugins;
    assert.ok(Number.isInteger(sampled), 'a sampled compile times all its plugins');
    assert.ok(sampled > 120 && sampled < 280, `${sampled} of 2000 compiles sampled`);
  });
});
