import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { testApiServer } from '../../test/apiserver.js';
import { freshNats } from '../../test/harness.js';
import { waitFor } from '../../test/wait.js';
import { startKubeStateMetrics, type RunningKubeStateMetrics } from './server.js';

/** The sample lines of `name` in a /metrics body. */
function samples(body: string, name: string): string[] {
  return body.split('\n').filter((l) => l.startsWith(name + '{'));
}

/** The value of the one sample of `name` whose line contains every fragment. */
function value(body: string, name: string, ...fragments: string[]): number | undefined {
  const l = samples(body, name).filter((x) => fragments.every((f) => x.includes(f)));
  assert.ok(l.length <= 1, `more than one ${name} with ${fragments.join(' ')}: ${l.join('\n')}`);
  return l[0] === undefined ? undefined : Number(l[0].slice(l[0].lastIndexOf(' ') + 1));
}

describe('kube-state-metrics', function () {
  this.timeout(60_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let ksm: RunningKubeStateMetrics;
  let nc: NatsConnection;
  let client: ApiClient;
  const scrape = async () => {
    const res = await fetch(ksm.metricsUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  before(async () => {
    const nats = await freshNats();
    server = await testApiServer({ natsUrl: nats.url });
    ksm = await startKubeStateMetrics({ natsUrl: nats.url, port: 0 });
    nc = await connectNats(nats.url, { name: 'ksm-test' });
    client = new ApiClient(nc);

    const node = await client.create<Node>(Resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await client.updateStatus<Node>({ ...Resources.nodes, name: 'n1' }, {
      ...node,
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' },
        allocatable: { cpu: '3500m', memory: '7Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }],
        nodeInfo: { kubeletVersion: 'v1.31.0', kernelVersion: 'k', osImage: 'o', containerRuntimeVersion: 'containerd://1.6', machineID: '', systemUUID: 'u', bootID: '', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
      },
    });
    const deploy = await client.create<Deployment>({ ...Resources.deployments, namespace: 'default' }, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    await client.updateStatus<Deployment>({ ...Resources.deployments, namespace: 'default', name: 'web' }, { ...deploy, status: { replicas: 3, availableReplicas: 2, updatedReplicas: 3, observedGeneration: 1 } });
    await client.create<ReplicaSet>({ ...Resources.replicasets, namespace: 'default' }, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-abc', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deploy.metadata!.uid!, controller: true }] },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    const pod = await client.create<Pod>({ ...Resources.pods, namespace: 'default' }, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-abc-1', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'u-rs', controller: true }] },
      spec: {
        nodeName: 'n1',
        containers: [
          { name: 'app', image: 'busybox', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi', 'example.com/gpu': '2' } } },
          { name: 'side', image: 'pause' },
        ],
      },
    });
    await client.updateStatus<Pod>({ ...Resources.pods, namespace: 'default', name: 'web-abc-1' }, {
      ...pod,
      status: {
        phase: 'Running',
        hostIP: '10.0.0.1',
        podIP: '10.244.0.5',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          { name: 'app', image: 'docker.io/library/busybox:latest', imageID: 'sha256:aa', containerID: 'containerd://c1', ready: true, restartCount: 2, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
          { name: 'side', image: 'pause', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ],
      },
    });
    const job = await client.create<Job>({ ...Resources.jobs, namespace: 'default' }, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: 'default' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
    });
    await client.updateStatus<Job>({ ...Resources.jobs, namespace: 'default', name: 'once' }, {
      ...job,
      status: { succeeded: 1, failed: 4, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] },
    });
    await waitFor('the stores to catch up', async () => (await scrape()).includes('reason="BackoffLimitExceeded"'));
  });
  after(async () => {
    await ksm?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
  });

  it('pods: info, owner, phase, ready, containers, waiting reasons, restarts, requests and limits with upstream labels', async () => {
    const m = await scrape();
    const p = 'namespace="default",pod="web-abc-1"';
    assert.equal(value(m, 'kube_pod_info', p, 'host_ip="10.0.0.1"', 'pod_ip="10.244.0.5"', 'node="n1"', 'created_by_kind="ReplicaSet"', 'created_by_name="web-abc"', 'host_network="false"'), 1);
    assert.equal(value(m, 'kube_pod_owner', p, 'owner_kind="ReplicaSet"', 'owner_name="web-abc"', 'owner_is_controller="true"'), 1);
    assert.equal(value(m, 'kube_pod_status_phase', p, 'phase="Running"'), 1);
    assert.equal(value(m, 'kube_pod_status_phase', p, 'phase="Pending"'), 0);
    assert.equal(value(m, 'kube_pod_status_ready', p, 'condition="false"'), 1);
    assert.equal(value(m, 'kube_pod_container_info', p, 'container="app"', 'image_spec="busybox"', 'image="docker.io/library/busybox:latest"', 'image_id="sha256:aa"', 'container_id="containerd://c1"'), 1);
    assert.equal(value(m, 'kube_pod_container_status_waiting_reason', p, 'container="side"', 'reason="CrashLoopBackOff"'), 1);
    assert.equal(value(m, 'kube_pod_container_status_waiting_reason', p, 'container="app"'), undefined, 'a running container has no waiting series');
    assert.equal(value(m, 'kube_pod_container_status_restarts_total', p, 'container="app"'), 2);
    assert.equal(value(m, 'kube_pod_container_resource_requests', p, 'container="app"', 'node="n1"', 'resource="cpu"', 'unit="core"'), 0.25);
    assert.equal(value(m, 'kube_pod_container_resource_requests', p, 'container="app"', 'resource="memory"', 'unit="byte"'), 64 * 2 ** 20);
    assert.equal(value(m, 'kube_pod_container_resource_limits', p, 'container="app"', 'resource="cpu"', 'unit="core"'), 1);
    assert.equal(value(m, 'kube_pod_container_resource_limits', p, 'container="app"', 'resource="example_com_gpu"', 'unit="integer"'), 2);
    assert.match(m, /# TYPE kube_pod_container_status_restarts_total counter\n/);
    assert.match(m, /# TYPE kube_pod_info gauge\n/);
  });

  it('nodes: capacity and allocatable per resource and unit, conditions per status', async () => {
    const m = await scrape();
    assert.equal(value(m, 'kube_node_status_capacity', 'node="n1"', 'resource="cpu"', 'unit="core"'), 4);
    assert.equal(value(m, 'kube_node_status_capacity', 'node="n1"', 'resource="ephemeral_storage"', 'unit="byte"'), 100 * 2 ** 30);
    assert.equal(value(m, 'kube_node_status_allocatable', 'node="n1"', 'resource="cpu"'), 3.5);
    assert.equal(value(m, 'kube_node_status_allocatable', 'node="n1"', 'resource="pods"', 'unit="integer"'), 110);
    assert.equal(value(m, 'kube_node_status_condition', 'node="n1"', 'condition="Ready"', 'status="true"'), 1);
    assert.equal(value(m, 'kube_node_status_condition', 'node="n1"', 'condition="Ready"', 'status="unknown"'), 0);
    assert.equal(value(m, 'kube_node_info', 'node="n1"', 'kubelet_version="v1.31.0"', 'container_runtime_version="containerd://1.6"'), 1);
  });

  it('workloads: deployments, replica set owners and jobs', async () => {
    const m = await scrape();
    const d = 'namespace="default",deployment="web"';
    assert.equal(value(m, 'kube_deployment_spec_replicas', d), 3);
    assert.equal(value(m, 'kube_deployment_status_replicas_available', d), 2);
    assert.equal(value(m, 'kube_deployment_status_replicas_updated', d), 3);
    assert.equal(value(m, 'kube_deployment_status_observed_generation', d), 1);
    assert.equal(value(m, 'kube_deployment_metadata_generation', d), 1);
    assert.equal(value(m, 'kube_replicaset_owner', 'replicaset="web-abc"', 'owner_kind="Deployment"', 'owner_name="web"', 'owner_is_controller="true"'), 1);
    assert.equal(value(m, 'kube_job_status_succeeded', 'job_name="once"'), 1);
    assert.equal(value(m, 'kube_job_status_failed', 'job_name="once"', 'reason="BackoffLimitExceeded"'), 1);
    assert.equal(value(m, 'kube_job_status_failed', 'job_name="once"', 'reason="DeadlineExceeded"'), 0);
  });

  it('follows deletes, serves its own process metrics and is ready once synced', async () => {
    await client.delete({ ...Resources.pods, namespace: 'default', name: 'web-abc-1' }, { gracePeriodSeconds: 0 });
    await waitFor('the pod to leave the metrics', async () => !(await scrape()).includes('pod="web-abc-1"'));
    const m = await scrape();
    assert.ok(samples(m, 'kube_pod_info').length === 0);
    assert.match(m, /^process_cpu_seconds_total /m);
    assert.match(m, /^rest_client_requests_total\{code="200",method="GET"/m);
    assert.equal((await fetch(ksm.metricsUrl.replace('/metrics', '/readyz'))).status, 200);
  });
});
