/**
 * Probes on a real node (containerd through CRI, needs root): liveness (exec and httpGet
 * on a named port) restarts its container with Unhealthy and Killing events, with the
 * probe's own terminationGracePeriodSeconds; readiness (httpGet, tcpSocket, exec with a
 * timeout, initialDelaySeconds, successThreshold) drives `ready`, the Ready condition and, through the
 * EndpointSlice controller run in-process, the Service's endpoints; the startup probe
 * gates liveness and sets `started`, and kills a container that never starts.
 * One containerd for the file; pods run in parallel; periods of 1 s.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { ENDPOINT_SLICES, Resources } from '../../lib/client/mod.js';
import { writeKubeconfig } from '../../cli/kubeconfig.js';
import { EndpointSliceController } from '../controller-manager/controllers/endpoints/endpointslice.js';
import { runTestController, type RunningTestController } from '../controller-manager/testing/controllers.js';
import { kubectlRunner } from '../../test/kubectl.js';
import { startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';

describe('kubelet --runtime cri: probes (needs root)', function () {
  this.timeout(180_000);
  let rn: RealNode;
  let eps: RunningTestController<EndpointSliceController> | undefined;
  let kubeconfig = '';
  const { k } = kubectlRunner('1.27', () => ({ dir: rn.host.dir, kubeconfig }));

  before(async () => {
    // a 1 s crash-loop back-off, not 10 s: the restarts below are the probes', not the back-off's (lifecycle.test.ts has that)
    rn = await startRealNode('the probes suite', { prefix: 'pr', kubelet: (o) => ({ ...o, pod: { ...o.pod, backOff: { initialMs: 1000, maxMs: 4000 } } }) });
    kubeconfig = writeKubeconfig(path.join(rn.host.dir, 'kubeconfig'), rn.api.httpUrl);
    eps = await runTestController(rn.api.natsUrl, 'probes-endpointslice', 1, (ctx) => new EndpointSliceController(ctx));
  });
  after(async () => {
    await eps?.stop();
    await rn?.stop();
  });

  const eventsOf = async (pod: string) =>
    (await rn.client.list<Event>({ ...Resources.events, namespace: 'default' })).items.filter((e) => e.involvedObject.name === pod && e.involvedObject.kind === 'Pod');
  const status = (p: Pod, name: string) => p.status?.containerStatuses?.find((s) => s.name === name);
  const condition = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);
  const exec = (p: Pod, name: string, cmd: string[]) => rn.cri.execSync(status(p, name)!.containerID!.replace('containerd://', ''), cmd, 10);
  const web = (extra: string) => ['sh', '-c', `mkdir -p /tmp/www && echo ok > /tmp/www/healthz && ${extra}exec httpd -f -p 8080 -h /tmp/www`];

  it('restarts a container whose liveness probe fails (exec; httpGet on a named port), with Unhealthy and Killing events and a growing restartCount', async () => {
    const execLive = await rn.createPod({
      // the pod's grace would hold a shell that ignores SIGTERM for a minute; the probe's own is 1 s
      terminationGracePeriodSeconds: 60,
      containers: [{
        name: 'live',
        image: 'busybox',
        command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600'],
        livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 1 },
      }],
    });
    const httpLive = await rn.createPod({
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'web',
        image: 'busybox',
        command: web('(sleep 2; rm /tmp/www/healthz) & '),
        ports: [{ name: 'http', containerPort: 8080 }],
        livenessProbe: { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, periodSeconds: 1, failureThreshold: 2 },
      }],
    });
    const name = execLive.metadata!.name!;
    const pod = await waitFor(`${name} restarted twice by its liveness probe`, async () => {
      const p = await rn.getPod(name);
      return (status(p, 'live')?.restartCount ?? 0) >= 2 && p;
    }, 40_000);
    assert.ok(status(pod, 'live')?.lastState?.terminated?.exitCode, JSON.stringify(status(pod, 'live')?.lastState));
    const evs = await waitFor('Unhealthy and Killing events', async () => {
      const e = await eventsOf(name);
      return e.some((x) => x.reason === 'Unhealthy') && e.some((x) => x.reason === 'Killing') && e;
    });
    const unhealthy = evs.find((e) => e.reason === 'Unhealthy')!;
    assert.equal(unhealthy.type, 'Warning');
    assert.match(unhealthy.message ?? '', /^Liveness probe failed: cat: can't open '\/tmp\/healthy': No such file or directory/);
    assert.equal(unhealthy.involvedObject.fieldPath, 'spec.containers{live}');
    assert.equal(evs.find((e) => e.reason === 'Killing')!.message, 'Container live failed liveness probe, will be restarted');
    // what a user sees
    const described = await k('describe', 'pod', name);
    assert.match(described, /Unhealthy\s+.*Liveness probe failed/);
    assert.match(described, /Killing\s+.*Container live failed liveness probe, will be restarted/);

    const hp = await waitFor('the httpGet liveness pod restarted', async () => {
      const p = await rn.getPod(httpLive.metadata!.name!);
      return (status(p, 'web')?.restartCount ?? 0) >= 1 && p;
    }, 40_000);
    // A check before httpd listens may also fail, with connection refused: on a loaded
    // machine that alone can cause the first restart, and the 404 then comes in the next
    // round, after the back-off, the container's start and its 2 s of health.
    await waitFor('its Unhealthy event for the 404', async () =>
      (await eventsOf(hp.metadata!.name!)).some((x) => x.reason === 'Unhealthy' && x.message === 'Liveness probe failed: HTTP probe failed with statuscode: 404'), 60_000);
  });

  it('keeps a pod whose readiness probe fails out of its Service’s ready endpoints, and puts it in once the probe passes', async () => {
    await rn.client.create({ ...Resources.services, namespace: 'default' }, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ready-web' },
      spec: { selector: { app: 'ready-web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await rn.createPod({
      containers: [{
        name: 'web',
        image: 'busybox',
        command: web(''),
        readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, successThreshold: 2 },
      }],
    }, { name: 'ready-web-1', labels: { app: 'ready-web' } });
    // tcpSocket on a port nothing listens on, and an exec probe that outlasts its timeout: never ready
    const tcp = await rn.createPod({
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], readinessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1 } }],
    });
    const slow = await rn.createPod({
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], readinessProbe: { exec: { command: ['sleep', '5'] }, periodSeconds: 1, timeoutSeconds: 1 } }],
    });
    // a probe that passes at once, but only after initialDelaySeconds
    const delayed = await rn.createPod({
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1, initialDelaySeconds: 3 } }],
    });
    const endpoint = async () => {
      const slices = (await rn.client.list<EndpointSlice>({ ...ENDPOINT_SLICES, namespace: 'default' }, { labelSelector: 'kubernetes.io/service-name=ready-web' })).items;
      return slices.flatMap((s) => s.endpoints ?? []).find((ep) => ep.targetRef?.name === 'ready-web-1');
    };
    const running = await rn.podIn('ready-web-1', 'Running');
    const notReady = await waitFor('the pod listed as a not-ready endpoint', async () => {
      const ep = await endpoint();
      return ep && ep.conditions?.ready === false && ep;
    });
    assert.deepEqual(notReady.addresses, [running.status!.podIP]);
    const p0 = await rn.getPod('ready-web-1');
    assert.equal(status(p0, 'web')?.ready, false);
    assert.equal(status(p0, 'web')?.started, true);
    assert.equal(condition(p0, 'ContainersReady')?.status, 'False');
    assert.equal(condition(p0, 'Ready')?.status, 'False');
    assert.equal(condition(p0, 'Ready')?.message, 'containers with unready status: [web]');

    await exec(running, 'web', ['sh', '-c', 'echo yes > /tmp/www/ready']);
    await waitFor('the endpoint ready', async () => (await endpoint())?.conditions?.ready === true);
    const p1 = await rn.getPod('ready-web-1');
    assert.equal(status(p1, 'web')?.ready, true);
    assert.equal(condition(p1, 'Ready')?.status, 'True');

    const tcpPod = await rn.getPod(tcp.metadata!.name!);
    assert.equal(status(tcpPod, 'c')?.ready, false);
    const tcpEvent = await waitFor('the tcpSocket Unhealthy event', async () => (await eventsOf(tcp.metadata!.name!)).find((x) => x.reason === 'Unhealthy'));
    assert.match(tcpEvent.message ?? '', /^Readiness probe failed: dial tcp [\d.]+:9999: connect: connection refused$/);
    const slowEvent = await waitFor('the timed-out exec Unhealthy event', async () => (await eventsOf(slow.metadata!.name!)).find((x) => x.reason === 'Unhealthy'), 20_000);
    assert.match(slowEvent.message ?? '', /^Readiness probe failed: command "sleep 5" timed out$/);
    assert.equal(status(await rn.getPod(slow.metadata!.name!), 'c')?.ready, false);

    const late = await waitFor('the delayed probe ready', async () => {
      const p = await rn.getPod(delayed.metadata!.name!);
      return status(p, 'c')?.ready && p;
    });
    const readyAt = Date.parse(condition(late, 'Ready')!.lastTransitionTime!);
    assert.ok(readyAt - Date.parse(status(late, 'c')!.state!.running!.startedAt!) >= 3000, JSON.stringify(late.status));
  });

  it('gates liveness behind the startup probe (started false, then true) and kills a container whose startup probe keeps failing', async () => {
    const slowStart = await rn.createPod({
      containers: [{
        name: 'c',
        image: 'busybox',
        command: ['sh', '-c', 'sleep 3; touch /tmp/started; sleep 3600'],
        startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 30 },
        // would kill the container at once were it not gated
        livenessProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 1 },
        readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
      }],
    });
    const never = await rn.createPod({
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], startupProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 } }],
    });
    const name = slowStart.metadata!.name!;
    const early = await waitFor(`${name} running`, async () => {
      const p = await rn.getPod(name);
      return status(p, 'c')?.state?.running && p;
    });
    assert.equal(status(early, 'c')?.started, false);
    assert.equal(status(early, 'c')?.ready, false);
    const started = await waitFor(`${name} started and ready`, async () => {
      const p = await rn.getPod(name);
      return status(p, 'c')?.started && status(p, 'c')?.ready && p;
    }, 30_000);
    assert.equal(status(started, 'c')?.restartCount, 0);

    const killed = await waitFor('the never-starting container restarted', async () => {
      const p = await rn.getPod(never.metadata!.name!);
      return (status(p, 'c')?.restartCount ?? 0) >= 1 && p;
    }, 30_000);
    assert.equal(status(killed, 'c')?.started, false);
    const evs = await eventsOf(never.metadata!.name!);
    assert.ok(evs.some((e) => e.reason === 'Killing' && e.message === 'Container c failed startup probe, will be restarted'), JSON.stringify(evs.map((e) => e.message)));
    assert.ok(evs.some((e) => e.reason === 'Unhealthy' && e.message === 'Startup probe failed: '));
  });
});
