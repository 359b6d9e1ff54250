import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import type { Event } from 'kubernetes-types/events/v1.js';
import { ApiClient, connectNats, isNotFound, Resources } from '../../../lib/client/mod.js';
import { testApiServer } from '../../../test/apiserver.js';
import { freshNats } from '../../../test/harness.js';
import { kubectlRunner } from '../../../test/kubectl.js';
import { waitFor } from '../../../test/wait.js';
import { writeKubeconfig } from '../../../cli/kubeconfig.js';
import { startCloudControllerManager, type RunningCloudControllerManager } from '../server.js';
import { STATE_CONFIGMAP, STATE_NAMESPACE } from '../cloudprovider/local/loadbalancer.js';
import { LOAD_BALANCER_CLEANUP_FINALIZER } from './service.js';

/**
 * The service load balancer controller against a real apiserver, with the local cloud's
 * load balancers on an interface and a pool of this test's own (as root; removed in
 * `after` even when a test failed).
 */
describe('cloud-controller-manager: service load balancers (local cloud)', function () {
  this.timeout(60_000);
  const root = process.getuid?.() === 0;
  const suffix = Math.random().toString(16).slice(2, 6);
  const iface = root ? `flt-lbt${suffix}` : '';
  // a pool of its own in 10.241.0.0/16, far from up's 10.240.0.0/24
  const third = 1 + Math.floor(Math.random() * 250);
  const range = `10.241.${third}.0/29`;
  const first = `10.241.${third}.1`;
  let natsUrl: string;
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let client: ApiClient;
  let nc: Awaited<ReturnType<typeof connectNats>>;
  let ccm: RunningCloudControllerManager | undefined;
  let dir: string;
  const { k } = kubectlRunner('1.33', () => ({ dir, kubeconfig: path.join(dir, 'kubeconfig') }));

  const startCcm = () => startCloudControllerManager({ natsUrl, port: 0, leaderElect: false, controllers: ['service-lb-controller'], loadBalancerIPRange: range, loadBalancerInterface: iface, log: () => {} });
  const addresses = (): string[] => {
    try {
      return [...execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', iface], { encoding: 'utf8' }).matchAll(/inet (\S+)\/32/g)].map((m) => m[1]!).sort();
    } catch {
      return [];
    }
  };
  const svc = (name: string, spec: Service['spec'] = {}): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
  });
  const get = (name: string) => client.get<Service>({ ...Resources.services, namespace: 'default', name });
  const ingressOf = async (name: string) => (await get(name)).status?.loadBalancer?.ingress?.[0]?.ip;
  const events = async (name: string) =>
    (await client.list<Event>({ group: 'events.k8s.io', version: 'v1', resource: 'events', namespace: 'default' })).items.filter((e) => e.regarding?.name === name).map((e) => `${e.type} ${e.reason} ${e.note}`);

  before(async () => {
    natsUrl = (await freshNats()).url;
    server = await testApiServer({ natsUrl });
    nc = await connectNats(natsUrl, { name: 'ccm-service-test' });
    client = new ApiClient(nc);
    dir = mkdtempSync(path.join(tmpdir(), 'flt-ccm-svc-'));
    writeKubeconfig(path.join(dir, 'kubeconfig'), server.httpUrl);
    ccm = await startCcm();
  });

  after(async () => {
    await ccm?.stop();
    client?.close();
    await nc?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (iface) {
      try {
        execFileSync('ip', ['link', 'del', iface], { stdio: 'ignore' });
      } catch {
        /* already gone, as it should be */
      }
      try {
        execFileSync('ip', ['route', 'del', 'unreachable', range], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  });

  it('gives a LoadBalancer Service an ingress IP of the pool after adding its finalizer; kubectl shows it as EXTERNAL-IP', async () => {
    await client.create({ ...Resources.services, namespace: 'default' }, svc('web'));
    const ip = await waitFor('web\'s ingress IP', () => ingressOf('web'));
    assert.equal(ip, first);
    const s = await get('web');
    assert.ok(s.metadata?.finalizers?.includes(LOAD_BALANCER_CLEANUP_FINALIZER));
    assert.equal(s.status?.loadBalancer?.ingress?.[0]?.ipMode, 'VIP');
    const table = await k('get', 'svc', 'web', '--no-headers');
    assert.match(table, new RegExp(`^web\\s+LoadBalancer\\s+\\S+\\s+${ip.replace(/\./g, '\\.')}\\s+80:`), table);
    assert.deepEqual(await waitFor('EnsuringLoadBalancer, EnsuredLoadBalancer', async () => {
      const e = await events('web');
      return e.includes('Normal EnsuredLoadBalancer Ensured load balancer') && e;
    }).then((e) => e.filter((x) => x.includes('Ensur')).sort()), ['Normal EnsuredLoadBalancer Ensured load balancer', 'Normal EnsuringLoadBalancer Ensuring load balancer']);
    const cm = await client.get<ConfigMap>({ ...Resources.configmaps, namespace: STATE_NAMESPACE, name: STATE_CONFIGMAP });
    assert.deepEqual(Object.values(cm.data ?? {}).map((v) => JSON.parse(v)), [{ ip, service: 'default/web' }]);
    if (iface) assert.deepEqual(addresses(), [ip]);
  });

  it('honours spec.loadBalancerIP, refuses a taken one with SyncLoadBalancerFailed, and ignores a Service with a loadBalancerClass', async () => {
    const wanted = `10.241.${third}.5`;
    await client.create({ ...Resources.services, namespace: 'default' }, svc('pinned', { loadBalancerIP: wanted }));
    await client.create({ ...Resources.services, namespace: 'default' }, svc('clash', { loadBalancerIP: first }));
    await client.create({ ...Resources.services, namespace: 'default' }, svc('other-class', { loadBalancerClass: 'example.com/lb' }));
    assert.equal(await waitFor('pinned\'s ingress IP', () => ingressOf('pinned')), wanted);
    await waitFor('clash refused', async () => (await events('clash')).some((e) => e.startsWith('Warning SyncLoadBalancerFailed Error syncing load balancer: requested loadBalancerIP') && e.includes('already assigned')));
    assert.equal(await ingressOf('clash'), undefined);
    const other = await get('other-class');
    assert.equal(other.status?.loadBalancer?.ingress, undefined);
    assert.ok(!other.metadata?.finalizers?.length);
    await client.delete({ ...Resources.services, namespace: 'default', name: 'clash' });
  });

  it('keeps its IPs across a restart of the cloud-controller-manager (the record is in the API), and removes its interface when it stops', async () => {
    const before = await ingressOf('web');
    await ccm!.stop();
    if (iface) assert.throws(() => execFileSync('ip', ['link', 'show', iface], { stdio: 'ignore' }));
    ccm = await startCcm();
    await client.create({ ...Resources.services, namespace: 'default' }, svc('after-restart'));
    const ip = await waitFor('after-restart\'s ingress IP', () => ingressOf('after-restart'));
    assert.equal(await ingressOf('web'), before);
    assert.notEqual(ip, before);
    if (iface) await waitFor('every assigned IP back on the interface', () => addresses().length === 3 && addresses().includes(before!));
  });

  it('releases the load balancer before the Service goes (finalizer) and when its type changes, with the Deleting/Deleted events', async () => {
    const webIP = (await ingressOf('web'))!;
    await client.delete({ ...Resources.services, namespace: 'default', name: 'web' });
    await waitFor('web gone', async () => {
      try {
        await get('web');
        return false;
      } catch (e) {
        return isNotFound(e);
      }
    });
    // Events are recorded asynchronously (as upstream's recorder does): the finalizer's removal may be stored before them
    await waitFor('the DeletingLoadBalancer and DeletedLoadBalancer events', async () => {
      const e = await events('web');
      return e.includes('Normal DeletingLoadBalancer Deleting load balancer') && e.includes('Normal DeletedLoadBalancer Deleted load balancer');
    });
    if (iface) assert.ok(!addresses().includes(webIP));

    await client.patch({ ...Resources.services, namespace: 'default', name: 'pinned' }, 'merge', { spec: { type: 'ClusterIP', loadBalancerIP: null } });
    await waitFor('pinned released', async () => {
      const s = await get('pinned');
      return !s.metadata?.finalizers?.length && !s.status?.loadBalancer?.ingress?.length;
    });
    const cm = await client.get<ConfigMap>({ ...Resources.configmaps, namespace: STATE_NAMESPACE, name: STATE_CONFIGMAP });
    assert.deepEqual(Object.values(cm.data ?? {}).map((v) => JSON.parse(v).service), ['default/after-restart']);
    if (iface) assert.deepEqual(addresses(), [await ingressOf('after-restart')]);
  });
});
