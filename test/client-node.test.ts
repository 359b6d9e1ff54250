/**
 * An operator's session through the official JavaScript client, @kubernetes/client-node
 * 1.4 (the last line that runs on Node 20), against a real nats-server and apiserver over
 * HTTP, with the kubeconfig `flotilla up` writes: CRUD on core and apps kinds, every patch
 * type the client sends, list paging, watches with bookmarks, an informer across an
 * apiserver restart, and errors as ApiException carrying the metav1.Status.
 *
 * Server-side apply, delete-collection by selector, snapshot paging and expired watches
 * are in the last describe.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
  Watch,
  makeInformer,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Deployment,
  type V1Status,
} from '@kubernetes/client-node';
import { writeKubeconfig } from '../cli/kubeconfig.js';
import { freePort } from '../lib/nats/server.js';
import { testApiServer } from './apiserver.js';
import { component, stopChild } from './cluster.js';
import { waitFor } from './wait.js';

type TestApiServer = Awaited<ReturnType<typeof testApiServer>>;

/** A KubeConfig loaded from the file `flotilla up` writes for this apiserver, as a user's program loads it. */
function kubeConfigFor(httpUrl: string, dir: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(writeKubeconfig(path.join(dir, 'kubeconfig'), httpUrl));
  return kc;
}

/** The metav1.Status an ApiException carries (client-node hands the body over as text). */
async function statusOf(call: Promise<unknown>): Promise<V1Status & { code: number }> {
  try {
    await call;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected an ApiException, got ${e}`);
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    assert.equal(body.kind, 'Status');
    assert.equal(body.apiVersion, 'v1');
    assert.equal(body.status, 'Failure');
    assert.equal(body.code, e.code, 'the Status code is the HTTP status');
    return body;
  }
  assert.fail('the call succeeded; expected an ApiException');
}

const configMap = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

const deployment = (name: string, labels: Record<string, string> = { app: name }): V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', env: [{ name: 'MODE', value: 'prod' }] }] },
    },
  },
});

/** Events of a client-node Watch, collected until `until` says enough; the watch is aborted then. */
async function watchUntil(
  kc: KubeConfig,
  apiPath: string,
  query: Record<string, string | number | boolean>,
  until: (events: Array<{ type: string; object: any }>) => boolean,
): Promise<Array<{ type: string; object: any }>> {
  const events: Array<{ type: string; object: any }> = [];
  let ended: unknown = undefined;
  let done = false;
  const controller = await new Watch(kc).watch(
    apiPath,
    query,
    (type, object) => events.push({ type, object }),
    (err) => {
      done = true;
      ended = err;
    },
  );
  try {
    await waitFor(`watch events on ${apiPath} (have ${events.length})`, () => {
      if (until(events)) return true;
      if (done) throw new Error(`the watch ended early: ${ended}`);
      return false;
    });
  } finally {
    controller.abort();
  }
  return events;
}

async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
}

describe('@kubernetes/client-node as an operator uses it', function () {
  this.timeout(60_000);
  let server: TestApiServer;
  let dir: string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let objects: KubernetesObjectApi;

  before(async () => {
    server = await testApiServer({ bookmarkIntervalMs: 200 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-client-node-'));
    kc = kubeConfigFor(server.httpUrl, dir);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    objects = KubernetesObjectApi.makeApiClient(kc);
    for (const ns of ['cn-crud', 'cn-patch', 'cn-paging', 'cn-watch', 'cn-errors']) await createNamespace(core, ns);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('connecting', () => {
    it('reaches the plain-HTTP apiserver with the kubeconfig flotilla up writes, unchanged', async () => {
      const cluster = kc.getCurrentCluster();
      assert.ok(cluster?.server.startsWith('http://'), `a plain-HTTP server, got ${cluster?.server}`);
      assert.equal(cluster?.skipTLSVerify, true, 'client-node 1.x refuses http:// unless the cluster skips TLS verification');
      const version = await kc.makeApiClient(VersionApi).getCode();
      assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
      assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'default');
    });
  });

  describe('CRUD on core and apps kinds', () => {
    const namespace = 'cn-crud';

    it('creates, reads, replaces, lists by label and deletes a ConfigMap', async () => {
      const created = await core.createNamespacedConfigMap({ namespace, body: configMap('settings', { mode: 'a' }, { team: 'x' }) });
      assert.equal(created.metadata?.namespace, namespace);
      assert.ok(created.metadata?.uid, 'the server assigns a uid');
      assert.ok(created.metadata?.resourceVersion, 'the server assigns a resourceVersion');
      assert.ok(created.metadata?.creationTimestamp instanceof Date, 'creationTimestamp parses as a date');

      const read = await core.readNamespacedConfigMap({ name: 'settings', namespace });
      assert.deepEqual(read.data, { mode: 'a' });

      read.data = { mode: 'b' };
      const replaced = await core.replaceNamespacedConfigMap({ name: 'settings', namespace, body: read });
      assert.deepEqual(replaced.data, { mode: 'b' });
      assert.notEqual(replaced.metadata?.resourceVersion, created.metadata?.resourceVersion);
      assert.equal(replaced.metadata?.uid, created.metadata?.uid);

      await core.createNamespacedConfigMap({ namespace, body: configMap('other', {}, { team: 'y' }) });
      const list = await core.listNamespacedConfigMap({ namespace, labelSelector: 'team=x' });
      assert.deepEqual(list.items.map((c) => c.metadata?.name), ['settings']);
      assert.ok(list.metadata?.resourceVersion, 'a list carries its resourceVersion');

      const status = await core.deleteNamespacedConfigMap({ name: 'settings', namespace });
      assert.equal(status.status, 'Success');
      assert.equal((await statusOf(core.readNamespacedConfigMap({ name: 'settings', namespace }))).code, 404);
    });

    it('stores a Secret\'s stringData as base64 data and serves no stringData back', async () => {
      const created = await core.createNamespacedSecret({
        namespace,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { password: 's3cret' }, data: { user: Buffer.from('admin').toString('base64') } },
      });
      assert.equal(created.type, 'Opaque');
      assert.deepEqual(created.data, { password: Buffer.from('s3cret').toString('base64'), user: Buffer.from('admin').toString('base64') });
      assert.equal(created.stringData, undefined);
      const read = await core.readNamespacedSecret({ name: 'creds', namespace });
      assert.equal(Buffer.from(read.data!.password, 'base64').toString(), 's3cret');
    });

    it('names an object from generateName, and stores nothing for a create under dryRun=All', async () => {
      const generated = await core.createNamespacedConfigMap({ namespace, body: { metadata: { generateName: 'gen-' } } });
      assert.match(generated.metadata?.name ?? '', /^gen-[a-z0-9]{5}$/);
      const dry = await core.createNamespacedConfigMap({ namespace, dryRun: 'All', body: configMap('dry-only') });
      assert.equal(dry.metadata?.name, 'dry-only');
      assert.equal((await statusOf(core.readNamespacedConfigMap({ name: 'dry-only', namespace }))).code, 404);
    });

    it('keeps a deleted object that carries a finalizer, marked for deletion, until an operator removes the finalizer', async () => {
      await core.createNamespacedConfigMap({ namespace, body: { ...configMap('held'), metadata: { name: 'held', finalizers: ['example.com/cleanup'] } } });
      const deleting = (await core.deleteNamespacedConfigMap({ name: 'held', namespace })) as unknown as V1ConfigMap;
      assert.equal(deleting.kind, 'ConfigMap', 'the answer is the object, still there');
      const held = await core.readNamespacedConfigMap({ name: 'held', namespace });
      assert.ok(held.metadata?.deletionTimestamp instanceof Date);
      assert.deepEqual(held.metadata?.finalizers, ['example.com/cleanup']);
      await core.patchNamespacedConfigMap({ name: 'held', namespace, body: [{ op: 'remove', path: '/metadata/finalizers' }] });
      assert.equal((await statusOf(core.readNamespacedConfigMap({ name: 'held', namespace }))).code, 404, 'gone once the last finalizer is');
    });

    it('creates a ClusterIP Service with upstream\'s port defaults and deletes it', async () => {
      const svc = await core.createNamespacedService({
        namespace,
        body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
      });
      assert.equal(svc.spec?.type, 'ClusterIP');
      assert.equal(svc.spec?.ports?.[0].protocol, 'TCP');
      assert.equal(svc.spec?.ports?.[0].targetPort, 80, 'targetPort defaults to port');
      assert.equal(svc.spec?.sessionAffinity, 'None');
      await core.deleteNamespacedService({ name: 'web', namespace });
      assert.equal((await statusOf(core.readNamespacedService({ name: 'web', namespace }))).code, 404);
    });

    it('creates a Pod with upstream\'s defaults, updates its status through the status subresource and deletes it while unscheduled', async () => {
      const pod = await core.createNamespacedPod({
        namespace,
        body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }] } },
      });
      assert.equal(pod.spec?.restartPolicy, 'Always');
      assert.equal(pod.spec?.dnsPolicy, 'ClusterFirst');
      assert.equal(pod.spec?.schedulerName, 'default-scheduler');
      assert.equal(pod.spec?.terminationGracePeriodSeconds, 30);
      assert.equal(pod.spec?.containers[0].imagePullPolicy, 'IfNotPresent');
      assert.equal(pod.spec?.containers[0].terminationMessagePath, '/dev/termination-log');
      assert.equal(pod.status?.phase, 'Pending');
      assert.equal(pod.status?.qosClass, 'BestEffort');

      const withStatus = await core.patchNamespacedPodStatus(
        { name: 'box', namespace, body: { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      assert.equal(withStatus.status?.conditions?.find((c) => c.type === 'PodScheduled')?.reason, 'Unschedulable');
      assert.equal(withStatus.spec?.nodeName, undefined);

      await core.deleteNamespacedPod({ name: 'box', namespace });
      assert.equal((await statusOf(core.readNamespacedPod({ name: 'box', namespace }))).code, 404, 'an unscheduled pod goes at once');
    });

    it('binds a Pod to a Node through pods/binding, selects it by field, and evicts another through pods/eviction', async () => {
      await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'cn-node' } } });
      for (const name of ['bound', 'evicted']) {
        await core.createNamespacedPod({ namespace, body: { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } } });
      }
      await core.createNamespacedPodBinding({ name: 'bound', namespace, body: { metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'cn-node' } } });
      assert.equal((await core.readNamespacedPod({ name: 'bound', namespace })).spec?.nodeName, 'cn-node');
      const onNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=cn-node' });
      assert.deepEqual(onNode.items.map((p) => p.metadata?.name), ['bound']);
      const unbound = await core.listNamespacedPod({ namespace, fieldSelector: 'spec.nodeName=,status.phase=Pending' });
      assert.deepEqual(unbound.items.map((p) => p.metadata?.name), ['evicted']);

      await core.createNamespacedPodEviction({ name: 'evicted', namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evicted', namespace } } });
      assert.equal((await statusOf(core.readNamespacedPod({ name: 'evicted', namespace }))).code, 404, 'an unscheduled pod is evicted at once');

      const deleting = (await core.deleteNamespacedPod({ name: 'bound', namespace })) as unknown as { kind: string; metadata: { deletionGracePeriodSeconds?: number } };
      assert.equal(deleting.kind, 'Pod', 'a pod on a node waits for its kubelet');
      assert.equal(deleting.metadata.deletionGracePeriodSeconds, 30);
    });

    it('creates a Deployment with upstream\'s defaults, scales it through the scale subresource and deletes it', async () => {
      const created = await apps.createNamespacedDeployment({ namespace, body: deployment('web') });
      assert.equal(created.spec?.strategy?.type, 'RollingUpdate');
      assert.equal(created.spec?.strategy?.rollingUpdate?.maxSurge, '25%');
      assert.equal(created.spec?.strategy?.rollingUpdate?.maxUnavailable, '25%');
      assert.equal(created.spec?.revisionHistoryLimit, 10);
      assert.equal(created.spec?.progressDeadlineSeconds, 600);
      assert.equal(created.metadata?.generation, 1);

      const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace });
      assert.equal(scale.spec?.replicas, 2);
      assert.equal(scale.status?.selector, 'app=web');
      scale.spec = { replicas: 5 };
      const scaled = await apps.replaceNamespacedDeploymentScale({ name: 'web', namespace, body: scale });
      assert.equal(scaled.spec?.replicas, 5);
      const after = await apps.readNamespacedDeployment({ name: 'web', namespace });
      assert.equal(after.spec?.replicas, 5);
      assert.equal(after.metadata?.generation, 2, 'a spec change through scale bumps the generation');

      const list = await apps.listDeploymentForAllNamespaces({ labelSelector: 'app=web' });
      assert.deepEqual(list.items.map((d) => `${d.metadata?.namespace}/${d.metadata?.name}`), [`${namespace}/web`]);

      await apps.deleteNamespacedDeployment({ name: 'web', namespace, propagationPolicy: 'Background' });
      assert.equal((await statusOf(apps.readNamespacedDeployment({ name: 'web', namespace }))).code, 404);
    });

    it('creates a StatefulSet with upstream\'s defaults, patches its replicas and deletes it', async () => {
      const created = await apps.createNamespacedStatefulSet({
        namespace,
        body: {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: 'db' },
          spec: {
            serviceName: 'db',
            replicas: 1,
            selector: { matchLabels: { app: 'db' } },
            template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'busybox:1.36' }] } },
          },
        },
      });
      assert.equal(created.spec?.podManagementPolicy, 'OrderedReady');
      assert.equal(created.spec?.updateStrategy?.type, 'RollingUpdate');
      assert.equal(created.spec?.revisionHistoryLimit, 10);
      const patched = await apps.patchNamespacedStatefulSet(
        { name: 'db', namespace, body: { spec: { replicas: 3 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      assert.equal(patched.spec?.replicas, 3);
      await apps.deleteNamespacedStatefulSet({ name: 'db', namespace });
      assert.equal((await statusOf(apps.readNamespacedStatefulSet({ name: 'db', namespace }))).code, 404);
    });

    it('drives any kind from a manifest through KubernetesObjectApi, which finds each resource by discovery', async () => {
      const manifest: V1ConfigMap = { ...configMap('from-manifest', { k: 'v' }), metadata: { name: 'from-manifest', namespace } };
      const created = await objects.create(manifest);
      assert.equal(created.metadata?.uid !== undefined, true);
      const read = await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-manifest', namespace } });
      assert.deepEqual((read as V1ConfigMap).data, { k: 'v' });
      const dep = await objects.create({ ...deployment('generic'), metadata: { name: 'generic', namespace, labels: { app: 'generic' } } });
      assert.equal(dep.kind, 'Deployment');
      const listed = await objects.list('apps/v1', 'Deployment', namespace);
      assert.ok(listed.items.some((d) => d.metadata?.name === 'generic'));
      await objects.delete(read);
      await objects.delete(dep);
      assert.equal((await statusOf(objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-manifest', namespace } }))).code, 404);
    });

    it('creates, lists and deletes a Namespace; a deleted namespace is Terminating and takes no new objects', async () => {
      const ns = await core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cn-doomed' } } });
      assert.equal(ns.status?.phase, 'Active');
      assert.deepEqual(ns.spec?.finalizers, ['kubernetes']);
      const all = await core.listNamespace();
      assert.ok(all.items.some((n) => n.metadata?.name === 'cn-doomed'));
      await core.deleteNamespace({ name: 'cn-doomed' });
      const terminating = await core.readNamespace({ name: 'cn-doomed' });
      assert.equal(terminating.status?.phase, 'Terminating');
      assert.ok(terminating.metadata?.deletionTimestamp instanceof Date);
      const refused = await statusOf(core.createNamespacedConfigMap({ namespace: 'cn-doomed', body: configMap('late') }));
      assert.equal(refused.code, 403);
      assert.equal(refused.reason, 'Forbidden');
      assert.equal(refused.message, 'configmaps "late" is forbidden: unable to create new content in namespace cn-doomed because it is being terminated');
    });
  });

  describe('every patch type client-node sends', () => {
    const namespace = 'cn-patch';

    it('sends a JSON patch by default from the typed API: add, replace, remove and test operations apply in order', async () => {
      await core.createNamespacedConfigMap({ namespace, body: configMap('jp', { a: '1', b: '2' }) });
      const patched = await core.patchNamespacedConfigMap({
        name: 'jp',
        namespace,
        body: [
          { op: 'test', path: '/data/a', value: '1' },
          { op: 'replace', path: '/data/a', value: 'one' },
          { op: 'remove', path: '/data/b' },
          { op: 'add', path: '/metadata/labels', value: { patched: 'json' } },
        ],
      });
      assert.deepEqual(patched.data, { a: 'one' });
      assert.deepEqual(patched.metadata?.labels, { patched: 'json' });
    });

    it('refuses a JSON patch whose test operation fails with a 422 and leaves the object as it was', async () => {
      const before = await core.readNamespacedConfigMap({ name: 'jp', namespace });
      const status = await statusOf(
        core.patchNamespacedConfigMap({ name: 'jp', namespace, body: [{ op: 'test', path: '/data/a', value: 'nope' }, { op: 'replace', path: '/data/a', value: 'x' }] }),
      );
      assert.equal(status.code, 422);
      const after = await core.readNamespacedConfigMap({ name: 'jp', namespace });
      assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
      assert.deepEqual(after.data, { a: 'one' });
    });

    it('sends a merge patch when the Content-Type header is set to PatchStrategy.MergePatch: null removes a key', async () => {
      await core.createNamespacedConfigMap({ namespace, body: configMap('mp', { a: '1', b: '2' }) });
      const patched = await core.patchNamespacedConfigMap(
        { name: 'mp', namespace, body: { data: { a: null, c: '3' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      assert.deepEqual(patched.data, { b: '2', c: '3' });
    });

    it('merges containers by name under a strategic merge patch, where a merge patch replaces the whole list', async () => {
      await apps.createNamespacedDeployment({ namespace, body: deployment('smp') });
      const sidecar = { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } } };
      const merged = await apps.patchNamespacedDeployment({ name: 'smp', namespace, body: sidecar }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
      assert.deepEqual(merged.spec?.template.spec?.containers.map((c) => c.name), ['sidecar', 'nginx']);
      assert.deepEqual(merged.spec?.template.spec?.containers.find((c) => c.name === 'nginx')?.env?.map((e) => `${e.name}=${e.value}`), ['MODE=prod']);

      const env = { spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'DEBUG', value: '1' }] }] } } } };
      const envMerged = await apps.patchNamespacedDeployment({ name: 'smp', namespace, body: env }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
      assert.deepEqual(
        envMerged.spec?.template.spec?.containers.find((c) => c.name === 'nginx')?.env?.map((e) => e.name),
        ['DEBUG', 'MODE'],
        'env merges by name too',
      );

      const removed = await apps.patchNamespacedDeployment(
        { name: 'smp', namespace, body: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      assert.deepEqual(removed.spec?.template.spec?.containers.map((c) => c.name), ['nginx'], '$patch: delete removes the element');

      const replaced = await apps.patchNamespacedDeployment({ name: 'smp', namespace, body: sidecar }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      assert.deepEqual(replaced.spec?.template.spec?.containers.map((c) => c.name), ['sidecar'], 'a merge patch replaces the list');
    });

    it('sends a strategic merge patch from KubernetesObjectApi.patch by default and the chosen type when told', async () => {
      await core.createNamespacedConfigMap({ namespace, body: configMap('generic', { a: '1' }, { keep: 'yes' }) });
      const smp = await objects.patch({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace, labels: { added: 'smp' } } });
      assert.deepEqual(smp.metadata?.labels, { keep: 'yes', added: 'smp' });
      const merge = await objects.patch(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace, labels: { keep: null as unknown as string } } },
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      );
      assert.deepEqual(merge.metadata?.labels, { added: 'smp' });
    });

    it('applies no change and keeps the resourceVersion under dryRun=All', async () => {
      const before = await core.readNamespacedConfigMap({ name: 'mp', namespace });
      const dry = await core.patchNamespacedConfigMap(
        { name: 'mp', namespace, dryRun: 'All', body: { data: { dry: 'run' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      assert.equal(dry.data?.dry, 'run', 'the answer shows the patched object');
      const after = await core.readNamespacedConfigMap({ name: 'mp', namespace });
      assert.equal(after.data?.dry, undefined);
      assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
    });
  });

  describe('list paging', () => {
    const namespace = 'cn-paging';

    it('pages with limit and continue, counting what remains, every page at the first page\'s resourceVersion', async () => {
      for (let i = 0; i < 25; i++) await core.createNamespacedConfigMap({ namespace, body: configMap(`p-${String(i).padStart(2, '0')}`) });
      const first = await core.listNamespacedConfigMap({ namespace, limit: 10 });
      assert.equal(first.items.length, 10);
      assert.ok(first.metadata?._continue, 'a continue token');
      assert.equal(first.metadata?.remainingItemCount, 15);
      const second = await core.listNamespacedConfigMap({ namespace, limit: 10, _continue: first.metadata._continue });
      assert.equal(second.items.length, 10);
      assert.equal(second.metadata?.remainingItemCount, 5);
      assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
      const third = await core.listNamespacedConfigMap({ namespace, limit: 10, _continue: second.metadata!._continue });
      assert.equal(third.items.length, 5);
      assert.equal(third.metadata?._continue, undefined, 'the last page has no continue token');
      assert.equal(third.metadata?.remainingItemCount, undefined);
      assert.equal(third.metadata?.resourceVersion, first.metadata?.resourceVersion);
      const names = [...first.items, ...second.items, ...third.items].map((c) => c.metadata!.name!);
      assert.deepEqual(names, Array.from({ length: 25 }, (_, i) => `p-${String(i).padStart(2, '0')}`));
    });

    it('pages a label-selected list with KubernetesObjectApi.list, never splitting the selection', async () => {
      for (let i = 0; i < 7; i++) await core.createNamespacedConfigMap({ namespace, body: configMap(`sel-${i}`, {}, { pick: i % 2 ? 'odd' : 'even' }) });
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await objects.list<V1ConfigMap>('v1', 'ConfigMap', namespace, undefined, undefined, undefined, undefined, 'pick=even', 2, token);
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((c) => c.metadata!.name!));
        token = page.metadata?._continue;
      } while (token);
      assert.deepEqual(seen, ['sel-0', 'sel-2', 'sel-4', 'sel-6']);
    });

    it('refuses a continue token that is not one with a 400', async () => {
      const status = await statusOf(core.listNamespacedConfigMap({ namespace, limit: 5, _continue: 'not-a-token' }));
      assert.equal(status.code, 400);
      assert.equal(status.reason, 'BadRequest');
    });
  });

  describe('watches', () => {
    const namespace = 'cn-watch';
    const apiPath = `/api/v1/namespaces/${namespace}/configmaps`;

    it('streams only what happened after the resourceVersion it starts from, in order, then bookmarks', async () => {
      const a = await core.createNamespacedConfigMap({ namespace, body: configMap('w-a', { v: '1' }) });
      await core.patchNamespacedConfigMap({ name: 'w-a', namespace, body: { data: { v: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      const b = await core.createNamespacedConfigMap({ namespace, body: configMap('w-b') });
      await core.deleteNamespacedConfigMap({ name: 'w-a', namespace });

      const events = await watchUntil(kc, apiPath, { resourceVersion: a.metadata!.resourceVersion!, allowWatchBookmarks: true }, (evs) =>
        evs.filter((e) => e.type !== 'BOOKMARK').length >= 3 && evs.some((e) => e.type === 'BOOKMARK'),
      );
      const changes = events.filter((e) => e.type !== 'BOOKMARK');
      assert.deepEqual(
        changes.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['MODIFIED w-a', 'ADDED w-b', 'DELETED w-a'],
      );
      assert.equal(changes[0].object.data.v, '2');
      assert.equal(changes[1].object.metadata.resourceVersion, b.metadata!.resourceVersion);
      const bookmark = events.find((e) => e.type === 'BOOKMARK')!.object;
      assert.equal(bookmark.kind, 'ConfigMap');
      assert.equal(bookmark.apiVersion, 'v1');
      assert.ok(BigInt(bookmark.metadata.resourceVersion) >= BigInt(changes[2].object.metadata.resourceVersion), 'a bookmark is never behind the events sent');
    });

    it('sends a watch from resourceVersion 0 the current objects as ADDED first', async () => {
      await core.createNamespacedConfigMap({ namespace, body: configMap('w-c', {}, { watch: 'zero' }) });
      const events = await watchUntil(kc, apiPath, { resourceVersion: '0', labelSelector: 'watch=zero' }, (evs) => evs.length >= 1);
      assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w-c']);
    });

    it('keeps an informer over Deployments in every namespace in step with adds, updates and deletes', async () => {
      const informer = makeInformer<V1Deployment>(
        kc,
        '/apis/apps/v1/deployments',
        () => apps.listDeploymentForAllNamespaces({ labelSelector: 'informed=yes' }),
        'informed=yes', // client-node puts this on the watch only: the list function selects for itself
      );
      const log: string[] = [];
      informer.on('add', (d) => log.push(`add ${d.metadata?.namespace}/${d.metadata?.name}`));
      informer.on('update', (d) => log.push(`update ${d.metadata?.namespace}/${d.metadata?.name} ${d.spec?.replicas}`));
      informer.on('delete', (d) => log.push(`delete ${d.metadata?.namespace}/${d.metadata?.name}`));
      informer.on('error', (err) => log.push(`error ${err}`));
      await apps.createNamespacedDeployment({ namespace, body: deployment('before', { app: 'before', informed: 'yes' }) });
      await informer.start();
      try {
        await waitFor('the initial list', () => informer.list().length === 1);
        await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('elsewhere', { app: 'elsewhere', informed: 'yes' }) });
        await apps.createNamespacedDeployment({ namespace, body: deployment('unselected') });
        await apps.patchNamespacedDeploymentScale({ name: 'before', namespace, body: { spec: { replicas: 4 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
        await apps.deleteNamespacedDeployment({ name: 'elsewhere', namespace: 'default' });
        await waitFor('the informer to see the delete', () => log.includes('delete default/elsewhere'));
        assert.deepEqual(log, [`add ${namespace}/before`, 'add default/elsewhere', `update ${namespace}/before 4`, 'delete default/elsewhere']);
        assert.deepEqual(informer.list().map((d) => d.metadata?.name), ['before']);
        assert.equal(informer.get('before', namespace)?.spec?.replicas, 4);
      } finally {
        await informer.stop();
      }
    });

    it('reports a label change that takes an object out of the selection as DELETED', async () => {
      const c = await core.readNamespacedConfigMap({ name: 'w-c', namespace });
      await core.patchNamespacedConfigMap({ name: 'w-c', namespace, body: { metadata: { labels: { watch: 'moved' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      const events = await watchUntil(kc, apiPath, { resourceVersion: c.metadata!.resourceVersion!, labelSelector: 'watch=zero' }, (evs) => evs.length >= 1);
      assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['DELETED w-c']);
    });

  });

  describe('errors as ApiException with the metav1.Status body', () => {
    const namespace = 'cn-errors';

    it('answers a read of a missing object with 404 NotFound naming the resource and name', async () => {
      const status = await statusOf(core.readNamespacedConfigMap({ name: 'missing', namespace }));
      assert.equal(status.code, 404);
      assert.equal(status.reason, 'NotFound');
      assert.equal(status.message, 'configmaps "missing" not found');
      assert.deepEqual(status.details, { name: 'missing', kind: 'configmaps' });
      const del = await statusOf(apps.deleteNamespacedDeployment({ name: 'missing', namespace }));
      assert.equal(del.code, 404);
      assert.equal(del.message, 'deployments.apps "missing" not found');
      assert.deepEqual(del.details, { name: 'missing', group: 'apps', kind: 'deployments' });
    });

    it('answers a second create of the same name with 409 AlreadyExists', async () => {
      await core.createNamespacedConfigMap({ namespace, body: configMap('twice') });
      const status = await statusOf(core.createNamespacedConfigMap({ namespace, body: configMap('twice') }));
      assert.equal(status.code, 409);
      assert.equal(status.reason, 'AlreadyExists');
      assert.equal(status.message, 'configmaps "twice" already exists');
      assert.deepEqual(status.details, { name: 'twice', kind: 'configmaps' });
    });

    it('answers a replace from a stale resourceVersion with 409 Conflict', async () => {
      const stale = await core.createNamespacedConfigMap({ namespace, body: configMap('raced', { v: '1' }) });
      await core.replaceNamespacedConfigMap({ name: 'raced', namespace, body: { ...stale, data: { v: 'first writer' } } });
      const status = await statusOf(core.replaceNamespacedConfigMap({ name: 'raced', namespace, body: { ...stale, data: { v: 'second writer' } } }));
      assert.equal(status.code, 409);
      assert.equal(status.reason, 'Conflict');
      assert.equal(status.message, 'Operation cannot be fulfilled on configmaps "raced": the object has been modified; please apply your changes to the latest version and try again');
      assert.deepEqual(status.details, { name: 'raced', kind: 'configmaps' });
      assert.deepEqual((await core.readNamespacedConfigMap({ name: 'raced', namespace })).data, { v: 'first writer' });
    });

    it('answers an invalid object with 422 Invalid listing each cause by field', async () => {
      const status = await statusOf(core.createNamespacedConfigMap({ namespace, body: configMap('Bad_Name') }));
      assert.equal(status.code, 422);
      assert.equal(status.reason, 'Invalid');
      const rfc1123 =
        'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character ' +
        '(e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')';
      assert.equal(status.message, `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${rfc1123}`);
      assert.deepEqual(status.details, {
        name: 'Bad_Name',
        kind: 'ConfigMap',
        causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "Bad_Name": ${rfc1123}`, field: 'metadata.name' }],
      });

      const dep = deployment('mismatch');
      dep.spec!.template.metadata!.labels = { app: 'other' };
      const invalid = await statusOf(apps.createNamespacedDeployment({ namespace, body: dep }));
      assert.equal(invalid.code, 422);
      assert.equal(invalid.reason, 'Invalid');
      assert.match(invalid.message ?? '', /^Deployment\.apps "mismatch" is invalid: /, 'the kind is named with its group');
      assert.equal(invalid.details?.group, 'apps');
      assert.equal(invalid.details?.kind, 'Deployment');
      const cause = invalid.details?.causes?.find((c) => c.field === 'spec.template.metadata.labels');
      assert.ok(cause, `a cause on spec.template.metadata.labels, got ${JSON.stringify(invalid.details?.causes)}`);
      assert.equal(cause.reason, 'FieldValueInvalid');
      assert.match(cause.message ?? '', /`selector` does not match template `labels`$/);
    });
  });
});

/** `flotilla apiserver` as its own process, ready when /readyz answers. */
async function startApiServerProcess(natsUrl: string, bucket: string, port: number): Promise<ChildProcess> {
  const child = component(['apiserver', '--nats', natsUrl, '--bucket', bucket, '--port', String(port)]);
  try {
    await waitFor(`the apiserver process on port ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`the apiserver exited with ${child.exitCode}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return child;
}

describe('@kubernetes/client-node informer across an apiserver restart', function () {
  this.timeout(90_000);
  let writer: TestApiServer;
  let dir: string;
  let apiserver: ChildProcess | undefined;

  before(async () => {
    writer = await testApiServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-client-node-informer-'));
  });
  after(async () => {
    await stopChild(apiserver);
    await writer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('catches up with creates, updates and deletes made while its apiserver process was stopped', async () => {
    const namespace = 'cn-informer';
    // the writer is a second apiserver on the same bucket: the cluster stays writable while the informer's is down
    const writes = kubeConfigFor(writer.httpUrl, mkdtempSync(path.join(dir, 'writer-'))).makeApiClient(CoreV1Api);
    await createNamespace(writes, namespace);
    for (const name of ['keep', 'change', 'remove']) await writes.createNamespacedConfigMap({ namespace, body: configMap(name, { v: '1' }) });

    const port = await freePort();
    apiserver = await startApiServerProcess(writer.natsUrl, writer.bucket, port);
    const kc = kubeConfigFor(`http://127.0.0.1:${port}`, mkdtempSync(path.join(dir, 'informer-')));
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace }));
    const log: string[] = [];
    const errors: unknown[] = [];
    let stopped = false;
    informer.on('add', (o) => log.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => log.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o) => log.push(`delete ${o.metadata?.name}`));
    // what client-node's README tells an operator to do: start again a little after an error
    informer.on('error', (err) => {
      errors.push(err);
      if (!stopped) setTimeout(() => void (stopped || informer.start()), 500);
    });
    try {
      await informer.start();
      await waitFor('the first list', () => informer.list(namespace).length === 3);

      await stopChild(apiserver);
      await waitFor('the informer to notice its apiserver is gone', () => errors.length > 0);
      await writes.createNamespacedConfigMap({ namespace, body: configMap('added', { v: '1' }) });
      await writes.patchNamespacedConfigMap({ name: 'change', namespace, body: { data: { v: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await writes.deleteNamespacedConfigMap({ name: 'remove', namespace });
      apiserver = await startApiServerProcess(writer.natsUrl, writer.bucket, port);

      const truth = await writes.listNamespacedConfigMap({ namespace });
      const want = truth.items.map((c) => `${c.metadata!.name} ${c.metadata!.resourceVersion}`).sort();
      await waitFor(
        'the informer cache to equal the server',
        () => JSON.stringify(informer.list(namespace).map((c) => `${c.metadata!.name} ${c.metadata!.resourceVersion}`).sort()) === JSON.stringify(want),
      );
      assert.equal(informer.get('change', namespace)?.data?.v, '2');
      assert.equal(informer.get('remove', namespace), undefined);
      for (const e of ['add added', 'update change 2', 'delete remove']) assert.ok(log.includes(e), `the handlers saw "${e}": ${log.join(', ')}`);
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});

/** Server-side apply and the contracts client-node found broken in the apiserver (issue 9). */
describe('@kubernetes/client-node: server-side apply, delete-collection, snapshot paging, expired watches', function () {
  this.timeout(60_000);
  let server: TestApiServer;
  let dir: string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let objects: KubernetesObjectApi;

  before(async () => {
    server = await testApiServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-client-node-pending-'));
    kc = kubeConfigFor(server.httpUrl, dir);
    core = kc.makeApiClient(CoreV1Api);
    objects = KubernetesObjectApi.makeApiClient(kc);
    for (const ns of ['cn-apply', 'cn-snapshot', 'cn-expired']) await createNamespace(core, ns);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('server-side apply with two field managers (PatchStrategy.ServerSideApply)', () => {
    const namespace = 'cn-apply';
    const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    const applied = (data: Record<string, string>): V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace }, data });

    it('creates the ConfigMap on a first apply and records the manager as an Apply entry in managedFields', async () => {
      const cm = await core.patchNamespacedConfigMap({ name: 'shared', namespace, fieldManager: 'team-a', body: applied({ key: 'a', other: 'x' }) }, apply);
      assert.deepEqual(cm.data, { key: 'a', other: 'x' });
      const entry = cm.metadata?.managedFields?.find((m) => m.manager === 'team-a');
      assert.ok(entry, `a managedFields entry for team-a: ${JSON.stringify(cm.metadata?.managedFields)}`);
      assert.equal(entry.operation, 'Apply');
      assert.equal(entry.apiVersion, 'v1');
      assert.equal(entry.fieldsType, 'FieldsV1');
      assert.deepEqual(entry.fieldsV1, { 'f:data': { 'f:key': {}, 'f:other': {} } });
    });

    it('answers a second manager applying a different value with a 409 Conflict naming the field and the first manager', async () => {
      const status = await statusOf(core.patchNamespacedConfigMap({ name: 'shared', namespace, fieldManager: 'team-b', body: applied({ key: 'b' }) }, apply));
      assert.equal(status.code, 409);
      assert.equal(status.reason, 'Conflict');
      assert.equal(status.message, 'Apply failed with 1 conflict: conflict with "team-a": .data.key');
      assert.deepEqual(status.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "team-a"', field: '.data.key' }]);
      assert.equal((await core.readNamespacedConfigMap({ name: 'shared', namespace })).data?.key, 'a', 'nothing changed');
    });

    it('lets the second manager take the field over with force, and managedFields then list both managers', async () => {
      const cm = await objects.patch(applied({ key: 'b' }), undefined, undefined, 'team-b', true, PatchStrategy.ServerSideApply);
      assert.deepEqual(cm.data, { key: 'b', other: 'x' });
      const managers = Object.fromEntries((cm.metadata?.managedFields ?? []).map((m) => [m.manager, m]));
      assert.deepEqual(Object.keys(managers).sort(), ['team-a', 'team-b']);
      assert.deepEqual(managers['team-a'].fieldsV1, { 'f:data': { 'f:other': {} } }, 'team-a lost the field it was forced off');
      assert.deepEqual(managers['team-b'].fieldsV1, { 'f:data': { 'f:key': {} } });
      assert.equal(managers['team-b'].operation, 'Apply');
    });

    it('removes a field its only manager stops applying', async () => {
      const cm = await core.patchNamespacedConfigMap({ name: 'shared', namespace, fieldManager: 'team-a', body: applied({}) }, apply);
      assert.deepEqual(cm.data, { key: 'b' }, 'team-a\'s "other" is gone, team-b\'s "key" stays');
    });
  });

  describe('list and watch contracts client-node relies on', () => {
    it('deletes from a collection exactly what its label selector selects, answering with the deleted objects (issue 9, delete-collection)', async () => {
      const namespace = 'cn-collection';
      await createNamespace(core, namespace);
      await core.createNamespacedConfigMap({ namespace, body: configMap('team-a-1', {}, { team: 'a' }) });
      await core.createNamespacedConfigMap({ namespace, body: configMap('team-a-2', {}, { team: 'a' }) });
      await core.createNamespacedConfigMap({ namespace, body: configMap('team-b-1', {}, { team: 'b' }) });
      const answer = await core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector: 'team=a' });
      assert.equal(answer.kind, 'ConfigMapList', 'upstream answers with the list of what it deleted');
      const left = await core.listNamespacedConfigMap({ namespace });
      assert.deepEqual(left.items.map((c) => c.metadata?.name), ['team-b-1']);
    });

    it('serves the pages after the first from the first page\'s snapshot: objects written in between neither appear nor vanish', async () => {
      const namespace = 'cn-snapshot';
      for (let i = 0; i < 6; i++) await core.createNamespacedConfigMap({ namespace, body: configMap(`s-${i}`) });
      const first = await core.listNamespacedConfigMap({ namespace, limit: 3 });
      await core.createNamespacedConfigMap({ namespace, body: configMap('s-9') });
      await core.deleteNamespacedConfigMap({ name: 's-5', namespace });
      const second = await core.listNamespacedConfigMap({ namespace, limit: 3, _continue: first.metadata!._continue });
      assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
      assert.deepEqual(
        [...first.items, ...second.items].map((c) => c.metadata!.name),
        ['s-0', 's-1', 's-2', 's-3', 's-4', 's-5'],
        'upstream serves a continued list from the snapshot at the first page\'s resourceVersion',
      );
    });

    it('answers a watch from a resourceVersion older than the watch cache with 200 and a 410 Expired ERROR event', async () => {
      const namespace = 'cn-expired';
      const apiPath = `/api/v1/namespaces/${namespace}/configmaps`;
      const small = await testApiServer({ natsUrl: server.natsUrl, bucket: server.bucket, watchCacheSize: 5 });
      try {
        const old = await core.createNamespacedConfigMap({ namespace, body: configMap('w-old') });
        for (let i = 0; i < 10; i++) await core.createNamespacedConfigMap({ namespace, body: configMap(`w-fill-${i}`) });
        await waitFor('the small apiserver to see the writes', () => small.cache.revision >= Number(old.metadata!.resourceVersion) + 10);
        const events = await watchUntil(kubeConfigFor(small.httpUrl, mkdtempSync(path.join(dir, 'small-'))), apiPath, { resourceVersion: old.metadata!.resourceVersion! }, (evs) =>
          evs.some((e) => e.type === 'ERROR'),
        );
        const error = events.find((e) => e.type === 'ERROR')!.object;
        assert.equal(error.kind, 'Status');
        assert.equal(error.code, 410);
        assert.equal(error.reason, 'Expired');
        assert.match(error.message, /^too old resource version: \d+ \(\d+\)$/);
      } finally {
        await small.stop();
      }
    });
  });
});
