import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Namespace, NamespaceCondition, Pod } from 'kubernetes-types/core/v1.js';
import { isNotFound, StatusError } from '../../../lib/api/errors.js';
import { ApiClient, type KubeObject, Resources } from '../../../lib/client/mod.js';
import { define, defineObject, field, fieldType } from '../../../lib/schema/dsl.js';
import { allKinds, registerKind } from '../../../lib/schema/registry.js';
import { startControllerCluster, type ControllerTestCluster } from '../testing/controllers.js';
import { waitFor } from '../../../test/wait.js';
import { FINALIZER_KUBERNETES } from './namespace.js';

// A kind of the test's own, standing in for a custom resource: the controller must find it
// through discovery, not a list of known kinds. It serves no deletecollection, so its
// objects are deleted one by one.
const TYPE_PREFIX = 'io.flotilla.test.namespace.v1.';
const DB_GROUP = 'namespace.test.flotilla.io';
defineObject(TYPE_PREFIX + 'Database', 'Database is a test kind standing in for a custom resource.', {
  spec: field(2, fieldType.ref(TYPE_PREFIX + 'DatabaseSpec'), 'Spec is the desired state of the database.'),
});
define(TYPE_PREFIX + 'DatabaseSpec', 'DatabaseSpec describes a database.', {
  engine: field(1, fieldType.string, 'Engine of the database.'),
});
registerKind({
  group: DB_GROUP, version: 'v1', kind: 'Database', plural: 'databases', singular: 'database',
  namespaced: true, definition: TYPE_PREFIX + 'Database', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], columns: [],
});
const DATABASES = { group: DB_GROUP, version: 'v1', resource: 'databases' };
const HOLD = 'example.com/hold';

describe('namespace controller against a real apiserver', function () {
  this.timeout(90_000);
  let cluster: ControllerTestCluster;
  let client: ApiClient;

  const nsRef = (name: string) => ({ ...Resources.namespaces, name });
  const getNs = async (name: string): Promise<Namespace | undefined> => {
    try {
      return await client.get<Namespace>(nsRef(name));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  const condition = (ns: Namespace | undefined, type: string): NamespaceCondition | undefined => ns?.status?.conditions?.find((c) => c.type === type);
  const createNs = (name: string) => client.create<Namespace>(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const configMap = (name: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
  const count = async (gvr: { group: string; version: string; resource: string }, namespace: string) => (await client.list({ ...gvr, namespace })).items.length;
  /** Every namespaced kind the apiserver serves, with what it still holds in namespace. */
  const leftIn = async (namespace: string): Promise<string[]> => {
    const left: string[] = [];
    for (const k of allKinds()) {
      if (!k.namespaced) continue;
      const items = (await client.list<KubeObject>({ group: k.group, version: k.version, resource: k.plural, namespace })).items;
      for (const o of items) left.push(`${k.plural}${k.group ? `.${k.group}` : ''}/${o.metadata?.name}`);
    }
    return left;
  };

  before(async () => {
    cluster = await startControllerCluster('namespace-test', ['namespace-controller', 'deployment-controller', 'replicaset-controller']);
    client = cluster.client;
  });
  after(async () => {
    await cluster?.stop();
  });

  it('empties a terminating namespace, refuses new content with 403, and waits for a finalizer on a custom object before the namespace goes', async () => {
    const NS = 'doomed';
    await createNs(NS);
    for (const name of ['one', 'two', 'three']) await client.create({ ...Resources.configmaps, namespace: NS }, configMap(name));
    const web: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    };
    await client.create({ ...Resources.deployments, namespace: NS }, web);
    // no scheduler and no kubelet: the pods stay unbound, and an unbound pod goes at once when deleted
    await waitFor('the deployment to have a replicaset with 3 pods', async () => (await count(Resources.replicasets, NS)) === 1 && (await count(Resources.pods, NS)) === 3);
    await client.create({ ...DATABASES, namespace: NS }, { apiVersion: `${DB_GROUP}/v1`, kind: 'Database', metadata: { name: 'orders', finalizers: [HOLD] }, spec: { engine: 'pg' } });

    const deleted = (await client.delete<Namespace>(nsRef(NS))) as Namespace;
    assert.equal(deleted.status?.phase, 'Terminating');
    await assert.rejects(
      client.create({ ...Resources.configmaps, namespace: NS }, configMap('late')),
      (e: unknown) => e instanceof StatusError && e.code === 403 && /because it is being terminated/.test(e.message),
    );

    const held = await waitFor('the namespace to report the finalizer holding its last object', async () => {
      const ns = await getNs(NS);
      return condition(ns, 'NamespaceFinalizersRemaining')?.status === 'True' && condition(ns, 'NamespaceContentRemaining')?.status === 'True' ? ns : undefined;
    });
    assert.deepEqual(
      { ...condition(held, 'NamespaceContentRemaining'), lastTransitionTime: undefined },
      { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: databases.${DB_GROUP} has 1 resource instances`, lastTransitionTime: undefined },
    );
    assert.deepEqual(
      { ...condition(held, 'NamespaceFinalizersRemaining'), lastTransitionTime: undefined },
      { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${HOLD} in 1 resource instances`, lastTransitionTime: undefined },
    );
    assert.equal(condition(held, 'NamespaceDeletionDiscoveryFailure')?.reason, 'ResourcesDiscovered');
    assert.equal(condition(held, 'NamespaceDeletionGroupVersionParsingFailure')?.reason, 'ParsedGroupVersions');
    assert.deepEqual(held!.spec?.finalizers, [FINALIZER_KUBERNETES], 'the namespace is still held by its finalizer');
    assert.deepEqual(await leftIn(NS), [`databases.${DB_GROUP}/orders`], 'everything but the held object is gone');
    const db = await client.get<KubeObject>({ ...DATABASES, namespace: NS, name: 'orders' });
    assert.ok(db.metadata?.deletionTimestamp, 'the held object is being deleted');

    await client.patch({ ...DATABASES, namespace: NS, name: 'orders' }, 'merge', { metadata: { finalizers: null } });
    await waitFor('the namespace to be gone', async () => (await getNs(NS)) === undefined, 30_000);
    assert.deepEqual(await leftIn(NS), []);
  });

  it('waits for a gracefully deleted pod: the namespace stays until the pod is removed from its node', async () => {
    const NS = 'graceful';
    await createNs(NS);
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'on-node' }, spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'nginx' }] } };
    const created = await client.create<Pod>({ ...Resources.pods, namespace: NS }, pod);
    await client.delete(nsRef(NS));

    const waiting = await waitFor('the namespace to report the pod remaining', async () => {
      const ns = await getNs(NS);
      return condition(ns, 'NamespaceContentRemaining')?.status === 'True' ? ns : undefined;
    });
    assert.equal(condition(waiting, 'NamespaceContentRemaining')?.message, 'Some resources are remaining: pods. has 1 resource instances');
    assert.equal(condition(waiting, 'NamespaceFinalizersRemaining')?.status, 'False');
    const terminating = await client.get<Pod>({ ...Resources.pods, namespace: NS, name: 'on-node' });
    assert.equal(terminating.metadata?.deletionGracePeriodSeconds, 30, 'the pod is deleted gracefully');
    assert.deepEqual((await getNs(NS))?.spec?.finalizers, [FINALIZER_KUBERNETES]);

    // what the pod's kubelet does once its containers stopped
    await client.delete({ ...Resources.pods, namespace: NS, name: 'on-node' }, { gracePeriodSeconds: 0, preconditions: { uid: created.metadata!.uid } });
    await waitFor('the namespace to be gone', async () => (await getNs(NS)) === undefined, 30_000);
    assert.deepEqual(await leftIn(NS), []);
  });
});
