/**
 * One trace per pod, end to end on real processes' code: a nats-server, an apiserver, a
 * scheduler and a kubelet with hollow nodes, each with its own tracer provider, and the
 * `flotilla trace pod` command as a user runs it. A cluster sampling every create shows
 * the whole tree and exports it over OTLP/HTTP to a receiver; a cluster sampling none
 * leaves no spans for its pods, but honours a client's sampled traceparent over HTTP and
 * over NATS.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { API_PREFIX, ApiClient, connectNats, Resources } from '../lib/client/mod.js';
import type { NatsServerHandle } from '../lib/nats/server.js';
import { readTrace, TRACE_STREAM, TRACEPARENT_ANNOTATION, traceIdOf } from '../lib/tracing/mod.js';
import { startApiServer, type ApiServer } from '../services/apiserver/server.js';
import { startKubelet, type RunningKubelet } from '../services/kubelet/server.js';
import { startScheduler, type RunningScheduler } from '../services/scheduler/server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kubectl, launchUp, stopChild, type Launch } from './cluster.js';
import { traceCli } from './trace.js';
import { freshNats } from './harness.js';
import { waitFor } from './wait.js';

interface TestCluster {
  nats: NatsServerHandle;
  apiserver: ApiServer;
  scheduler: RunningScheduler;
  kubelet: RunningKubelet;
  nc: NatsConnection;
  client: ApiClient;
  stop(): Promise<void>;
}

async function startTracedCluster(samplingRate: number, endpoint?: string): Promise<TestCluster> {
  const nats = await freshNats();
  const tracing = { samplingRate, endpoint, exportDelayMs: 100 };
  const apiserver = await startApiServer({ natsUrl: nats.url, httpPort: 0, tracing });
  const scheduler = await startScheduler({ natsUrl: nats.url, port: 0, leaderElect: false, tracing, log: () => {} });
  const kubelet = await startKubelet({ natsUrl: nats.url, runtime: 'hollow', nodes: 3, tracing, log: () => {} });
  const nc = await connectNats(nats.url, { name: 'trace-test' });
  const client = new ApiClient(nc);
  return {
    nats,
    apiserver,
    scheduler,
    kubelet,
    nc,
    client,
    async stop() {
      client.close();
      await nc.close();
      await kubelet.stop();
      await scheduler.stop();
      await apiserver.stop();
    },
  };
}

function pod(name: string, annotations?: Record<string, string>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', annotations }, spec: { containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'busybox' }] } };
}

async function createOverHttp(c: TestCluster, p: Pod, traceparent?: string): Promise<Pod> {
  const res = await fetch(`${c.apiserver.httpUrl}/api/v1/namespaces/default/pods`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(traceparent ? { traceparent } : {}) },
    body: JSON.stringify(p),
  });
  const body = (await res.json()) as Pod;
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

async function running(c: TestCluster, name: string): Promise<Pod> {
  return waitFor(`pod ${name} Running`, async () => {
    const p = await c.client.get<Pod>({ ...Resources.pods, namespace: 'default', name });
    return p.status?.phase === 'Running' && p;
  });
}

function traceOutput(c: TestCluster, name: string): Promise<string> {
  return traceCli(['pod', name, '-n', 'default', '--nats', c.nats.url]);
}

/** A receiver of OTLP/HTTP JSON exports, as a collector listens on /v1/traces. */
async function otlpReceiver() {
  const bodies: any[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8').on('data', (d: string) => (data += d));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) bodies.push(JSON.parse(data));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const spans = () =>
    bodies.flatMap((b) =>
      (b.resourceSpans ?? []).flatMap((rs: any) => {
        const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
        return (rs.scopeSpans ?? []).flatMap((ss: any) =>
          (ss.spans ?? []).map((s: any) => ({
            service,
            name: s.name as string,
            traceId: s.traceId as string,
            attributes: Object.fromEntries((s.attributes ?? []).map((a: any) => [a.key, a.value?.stringValue ?? a.value?.intValue])),
          })),
        );
      }),
    );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('tracing: one trace per pod', function () {
  this.timeout(90_000);

  describe('a cluster sampling every create', () => {
    let c: TestCluster;
    let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
    before(async () => {
      receiver = await otlpReceiver();
      c = await startTracedCluster(1, receiver.url);
    });
    after(async () => {
      await c?.stop();
      await receiver?.close();
    });

    it('`flotilla trace pod` shows create → scheduled → bound → sandbox → started, with the spans upstream names', async () => {
      const created = await createOverHttp(c, pod('traced-web'));
      const traceparent = created.metadata?.annotations?.[TRACEPARENT_ANNOTATION];
      assert.ok(traceIdOf(traceparent), `the create wrote its context on the pod: ${JSON.stringify(created.metadata?.annotations)}`);
      await running(c, 'traced-web');
      const out = await traceOutput(c, 'traced-web');
      assert.match(out, new RegExp(`^trace ${traceIdOf(traceparent)} \\(pod default/traced-web\\)`));
      for (const [name, service] of [
        ['Create', 'apiserver'],
        ['schedulingCycle', 'kube-scheduler'],
        ['bindingCycle', 'kube-scheduler'],
        ['syncPod', 'kubelet'],
        ['runtime.v1.RuntimeService/RunPodSandbox', 'kubelet'],
        ['runtime.v1.RuntimeService/StartContainer', 'kubelet'],
      ]) {
        assert.match(out, new RegExp(`${name.replaceAll('/', '\\/')}\\s+${service}\\s+\\+[\\d.]+ m?s\\s+[\\d.]+ m?s`), `${name} by ${service} in:\n${out}`);
      }
      assert.match(out, /container=sidecar/);
      assert.match(out, /node=hollow-\d/);
      // the later steps hang under the create: one tree
      assert.match(out, /\n(├|└)─ schedulingCycle/);
      assert.match(out, /│? {0,3}(├|└)─ runtime\.v1\.RuntimeService\/RunPodSandbox/);
      assert.match(out, /\ncreate [\d.]+ m?s → scheduled [\d.]+ m?s → bound [\d.]+ m?s → sandbox [\d.]+ m?s → started [\d.]+ m?s \([\d.]+ m?s in all\)\n$/);
    });

    it('exports the same spans over OTLP/HTTP to a receiver, with k8s.* attributes', async () => {
      const created = await createOverHttp(c, pod('otlp-web'));
      const traceId = traceIdOf(created.metadata?.annotations?.[TRACEPARENT_ANNOTATION])!;
      await running(c, 'otlp-web');
      const spans = await waitFor('the receiver to get the pod\'s spans from all three components', () => {
        const mine = receiver.spans().filter((s) => s.traceId === traceId);
        return ['Create', 'schedulingCycle', 'bindingCycle', 'syncPod', 'runtime.v1.RuntimeService/RunPodSandbox'].every((n) => mine.some((s) => s.name === n)) && mine;
      });
      const create = spans.find((s) => s.name === 'Create')!;
      assert.equal(create.service, 'apiserver');
      assert.equal(create.attributes['k8s.pod.name'], 'otlp-web');
      assert.equal(create.attributes['k8s.namespace.name'], 'default');
      assert.equal(create.attributes['k8s.pod.uid'], created.metadata?.uid);
      const binding = spans.find((s) => s.name === 'bindingCycle')!;
      assert.equal(binding.service, 'kube-scheduler');
      assert.match(String(binding.attributes['k8s.node.name']), /^hollow-\d$/);
      const sync = spans.find((s) => s.name === 'syncPod')!;
      assert.equal(sync.service, 'kubelet');
      assert.equal(sync.attributes['k8s.pod.uid'], created.metadata?.uid);
      assert.deepEqual(spans.filter((s) => s.name.endsWith('/StartContainer')).map((s) => s.attributes['k8s.container.name']).sort(), ['app', 'sidecar']);
    });
  });

  describe('a cluster sampling no create', () => {
    let c: TestCluster;
    before(async () => {
      c = await startTracedCluster(0);
    });
    after(async () => {
      await c?.stop();
    });

    it('leaves no annotation and no span for a pod, but honours a caller\'s sampled traceparent over HTTP and NATS', async () => {
      const plain = await createOverHttp(c, pod('unsampled'));
      assert.equal(plain.metadata?.annotations?.[TRACEPARENT_ANNOTATION], undefined);
      await running(c, 'unsampled');

      // a caller's span, sampled: the create is its child, in its trace
      const httpParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const viaHttp = await createOverHttp(c, pod('client-http'), httpParent);
      const httpTp = viaHttp.metadata?.annotations?.[TRACEPARENT_ANNOTATION];
      assert.equal(traceIdOf(httpTp), '0af7651916cd43dd8448eb211c80319c');
      assert.notEqual(httpTp, httpParent, 'the annotation names the create span, not the caller\'s');

      const natsParent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const h = natsHeaders();
      h.set('traceparent', natsParent);
      const reply = await c.nc.request(`${API_PREFIX}.create`, JSON.stringify({ ...Resources.pods, namespace: 'default', body: pod('client-nats') }), { headers: h, timeout: 10_000 });
      const viaNats = reply.json<Pod>();
      assert.equal(traceIdOf(viaNats.metadata?.annotations?.[TRACEPARENT_ANNOTATION]), '4bf92f3577b34da6a3ce929d0e0e4736', JSON.stringify(viaNats));

      for (const name of ['client-http', 'client-nats']) await running(c, name);
      const out = await traceOutput(c, 'client-http');
      assert.match(out, /^trace 0af7651916cd43dd8448eb211c80319c /);
      const spans = await readTrace(c.nc, '0af7651916cd43dd8448eb211c80319c');
      assert.equal(spans.find((s) => s.name === 'Create')?.parentSpanId, 'b7ad6b7169203331', 'the create continues the caller\'s span');
      await traceOutput(c, 'client-nats');

      // the unsampled pod started first: had it any span, the stream would hold more than the two traces
      const natsSpans = await readTrace(c.nc, '4bf92f3577b34da6a3ce929d0e0e4736');
      const jsm = await jetstreamManager(c.nc);
      const stored = (await jsm.streams.info(TRACE_STREAM)).state.messages;
      assert.equal(stored, spans.length + natsSpans.length, 'only the two sampled pods left spans');
      assert.ok(!spans.concat(natsSpans).some((s) => s.attributes['k8s.pod.name'] === 'unsampled'));
    });
  });

  describe('flotilla up --tracing-sampling-rate 1, as a user tries it', () => {
    let dataDir: string;
    let up: Launch | undefined;
    before(async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-trace-up-'));
      up = await launchUp(dataDir, ['--no-real-node', '--hollow-nodes', '2', '--addons', 'none', '--tracing-sampling-rate', '1']);
    });
    after(async () => {
      await stopChild(up);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('passes the rate on: a pod made with kubectl run has its trace, found through the data folder', async () => {
      await kubectl(up!.kubeconfig, 'run', 'web', '--image=busybox');
      await waitFor('web Running', async () => (await kubectl(up!.kubeconfig, 'get', 'pod', 'web', '-o', 'jsonpath={.status.phase}')) === 'Running', 60_000);
      const out = await traceCli(['pod', 'web', '--data', dataDir]);
      assert.match(out, /\ncreate [\d.]+ m?s → scheduled [\d.]+ m?s → bound [\d.]+ m?s → sandbox [\d.]+ m?s → started [\d.]+ m?s \([\d.]+ m?s in all\)\n$/);
    });
  });
});
