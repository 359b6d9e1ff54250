/**
 * Every component announces its /metrics over NATS, and what it serves there carries the
 * series the kubernetes-mixin dashboards query, with upstream's names, labels and buckets.
 */
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, connectNats, Resources } from '../lib/client/mod.js';
import { testApiServer } from './apiserver.js';
import { freshNats } from './harness.js';
import { waitFor } from './wait.js';
import { startScheduler, type RunningScheduler } from '../services/scheduler/server.js';
import { startControllerManager, type RunningControllerManager } from '../services/controller-manager/server.js';
import { discoverTargets, type ScrapeTarget } from '../lib/metrics/mod.js';

/** Every sample line of a /metrics body whose name is `name`. */
function samples(body: string, name: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
}

describe('component metrics, found by discovery', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let scheduler: RunningScheduler;
  let cm: RunningControllerManager;
  let nc: NatsConnection;
  let targets: ScrapeTarget[] = [];
  const scrape = async (job: string) => {
    const t = targets.find((x) => x.job === job);
    assert.ok(t, `no ${job} target among ${JSON.stringify(targets)}`);
    const res = await fetch(`http://${t.address}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url });
    scheduler = await startScheduler({ natsUrl: nats.url, port: 0, leaderElect: false, log: () => undefined });
    cm = await startControllerManager({ natsUrl: nats.url, port: 0, leaderElect: false, log: () => undefined });
    nc = await connectNats(nats.url, { name: 'targets-test' });
    const client = new ApiClient(nc);
    // a write, so request counters and histograms have something in them
    await client.create({ ...Resources.namespaces }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scraped' } });
    client.close();
    targets = await waitFor('three announced targets', async () => {
      const t = await discoverTargets(nc, 300);
      return t.length >= 3 ? t : undefined;
    });
  });
  after(async () => {
    await cm?.stop();
    await scheduler?.stop();
    await nc?.close();
    await server?.stop();
  });

  it('discovers each component under the job the dashboards select', () => {
    assert.deepEqual(
      targets.map((t) => t.job),
      ['apiserver', 'kube-controller-manager', 'kube-scheduler'],
    );
    for (const t of targets) assert.match(t.address, /^127\.0\.0\.1:\d+$/);
  });

  it('apiserver: request counters, durations and the SLI histogram with upstream buckets', async () => {
    const body = await scrape('apiserver');
    assert.ok(samples(body, 'apiserver_request_total').some((l) => /verb="POST".*resource="namespaces".*code="201"/.test(l)));
    assert.ok(samples(body, 'apiserver_request_duration_seconds_bucket').length > 0);
    const sli = samples(body, 'apiserver_request_sli_duration_seconds_bucket').filter((l) => l.includes('verb="POST"') && l.includes('resource="namespaces"'));
    for (const le of ['0.05', '1', '5', '30', '60', '+Inf']) assert.ok(sli.some((l) => l.includes(`le="${le}"`)), `SLI bucket le=${le}`);
    assert.ok(!sli.some((l) => l.includes('le="0.005"')), 'the SLI histogram starts at 50 ms, as upstream');
    assert.ok(!sli.some((l) => l.includes('dry_run=')), 'the SLI histogram has no dry_run label');
  });

  it('every component: process and Node.js default metrics', async () => {
    for (const job of ['apiserver', 'kube-scheduler', 'kube-controller-manager']) {
      const body = await scrape(job);
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
        assert.ok(samples(body, name).length > 0, `${job} serves ${name}`);
      }
    }
  });

  it('API clients: rest_client_requests_total{code,method,host} and rest_client_request_duration_seconds{verb}', async () => {
    for (const job of ['kube-scheduler', 'kube-controller-manager']) {
      const body = await scrape(job);
      assert.ok(samples(body, 'rest_client_requests_total').some((l) => /code="200".*method="GET".*host="/.test(l)), `${job}: rest_client_requests_total`);
      assert.ok(samples(body, 'rest_client_request_duration_seconds_bucket').some((l) => l.includes('verb="GET"')), `${job}: rest_client_request_duration_seconds`);
    }
  });

  it('controller-manager: workqueue_* per queue name', async () => {
    const body = await scrape('kube-controller-manager');
    for (const name of ['workqueue_depth', 'workqueue_adds_total', 'workqueue_queue_duration_seconds_bucket', 'workqueue_work_duration_seconds_bucket', 'workqueue_retries_total', 'workqueue_unfinished_work_seconds', 'workqueue_longest_running_processor_seconds']) {
      assert.ok(samples(body, name).some((l) => l.includes('name="deployment"')), `${name}{name="deployment"}`);
    }
  });

  it('a stopped component is no longer discovered', async () => {
    await scheduler.stop();
    // a discovery takes the answers of 300 ms: on a loaded machine a live component can miss one, so a
    // discovery is repeated while one is missing; the stopped scheduler must be in none of them
    for (let i = 0; ; i++) {
      const jobs = (await discoverTargets(nc, 300)).map((t) => t.job);
      assert.ok(!jobs.includes('kube-scheduler'), `the stopped scheduler was discovered: ${JSON.stringify(jobs)}`);
      if (i === 9 || jobs.length === 2) {
        assert.deepEqual(jobs, ['apiserver', 'kube-controller-manager']);
        break;
      }
    }
  });
});
