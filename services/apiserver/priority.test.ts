import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { connectedApiServer, type ConnectedApiServer } from '../../test/apiserver.js';
import { StatusError } from '../../lib/api/errors.js';
import { ApiClient, PRIORITY_CLASSES as CLASSES } from '../../lib/client/mod.js';

const PODS = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };

const pod = (name: string, spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
});

const pc = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StatusError, `got ${e}`);
    return e;
  }
  assert.fail('the write was accepted');
}

describe('Priority admission (real apiserver)', () => {
  let api: ConnectedApiServer;
  let client: ApiClient;

  beforeEach(async () => {
    api = await connectedApiServer('priority-admission-test');
    client = api.client;
  });
  afterEach(() => api?.stop());

  it('creates the system-cluster-critical and system-node-critical classes at start', async () => {
    const cluster = await client.get<PriorityClass>({ ...CLASSES, name: 'system-cluster-critical' });
    const node = await client.get<PriorityClass>({ ...CLASSES, name: 'system-node-critical' });
    assert.equal(cluster.value, 2_000_000_000);
    assert.equal(node.value, 2_000_001_000);
    assert.equal(node.preemptionPolicy, 'PreemptLowerPriority');
  });

  it('resolves priorityClassName to the class value and preemption policy', async () => {
    await client.create(CLASSES, pc('batch-low', 100, { preemptionPolicy: 'Never' }));
    const created = await client.create<Pod>(PODS, pod('low', { priorityClassName: 'batch-low' }));
    assert.equal(created.spec?.priority, 100);
    assert.equal(created.spec?.preemptionPolicy, 'Never');
    const stored = await client.get<Pod>({ ...PODS, name: 'low' });
    assert.equal(stored.spec?.priority, 100);
  });

  it('gives pods naming a system class its value', async () => {
    const created = await client.create<Pod>(PODS, pod('critical', { priorityClassName: 'system-node-critical' }));
    assert.equal(created.spec?.priority, 2_000_001_000);
  });

  it('rejects a pod naming an unknown class with 403 Forbidden as upstream words it', async () => {
    const e = await rejection(client.create<Pod>(PODS, pod('orphan', { priorityClassName: 'nope' })));
    assert.equal(e.code, 403);
    assert.equal(e.reason, 'Forbidden');
    assert.equal(e.message, 'pods "orphan" is forbidden: no PriorityClass with name nope was found');
    await assert.rejects(client.get({ ...PODS, name: 'orphan' }), /not found/);
  });

  it('gives priority 0 and PreemptLowerPriority when no class is named and none is the global default', async () => {
    const created = await client.create<Pod>(PODS, pod('plain'));
    assert.equal(created.spec?.priority, 0);
    assert.equal(created.spec?.preemptionPolicy, 'PreemptLowerPriority');
  });

  it('gives a pod naming no class the global default class', async () => {
    await client.create(CLASSES, pc('everyone', 7, { globalDefault: true, preemptionPolicy: 'Never' }));
    const created = await client.create<Pod>(PODS, pod('defaulted'));
    assert.equal(created.spec?.priorityClassName, 'everyone');
    assert.equal(created.spec?.priority, 7);
    assert.equal(created.spec?.preemptionPolicy, 'Never');
  });

  it('follows the global default class as it changes, goes and comes', async () => {
    const named = async (name: string) => (await client.create<Pod>(PODS, pod(name))).spec;
    const first = await client.create<PriorityClass>(CLASSES, pc('first', 11, { globalDefault: true }));
    assert.equal((await named('a'))?.priorityClassName, 'first');
    await client.update(CLASSES, { ...first, globalDefault: false });
    const none = await named('b');
    assert.equal(none?.priorityClassName, undefined);
    assert.equal(none?.priority, 0);
    await client.create(CLASSES, pc('second', 22, { globalDefault: true }));
    const second = await named('c');
    assert.equal(second?.priorityClassName, 'second');
    assert.equal(second?.priority, 22);
    await client.delete({ ...CLASSES, name: 'second' });
    assert.equal((await named('d'))?.priority, 0);
  });

  it('allows only one global default class', async () => {
    await client.create(CLASSES, pc('first-default', 5, { globalDefault: true }));
    const e = await rejection(client.create(CLASSES, pc('second-default', 6, { globalDefault: true })));
    assert.equal(e.code, 403);
    assert.equal(
      e.message,
      'priorityclasses.scheduling.k8s.io "second-default" is forbidden: PriorityClass first-default is already marked as default. Only one default can exist',
    );
    // marking another existing class as default is refused the same way
    const other = await client.create<PriorityClass>(CLASSES, pc('other', 3));
    const e2 = await rejection(client.update(CLASSES, { ...other, globalDefault: true }));
    assert.equal(e2.code, 403);
    // the default itself can still be updated
    const first = await client.get<PriorityClass>({ ...CLASSES, name: 'first-default' });
    const updated = await client.update<PriorityClass>(CLASSES, { ...first, description: 'the default' });
    assert.equal(updated.description, 'the default');
  });

  it('accepts a spec.priority equal to the class value and rejects a different one', async () => {
    await client.create(CLASSES, pc('mid', 500));
    const ok = await client.create<Pod>(PODS, pod('same', { priorityClassName: 'mid', priority: 500 }));
    assert.equal(ok.spec?.priority, 500);
    const e = await rejection(client.create<Pod>(PODS, pod('differs', { priorityClassName: 'mid', priority: 9 })));
    assert.equal(e.code, 403);
    assert.equal(
      e.message,
      'pods "differs" is forbidden: the integer value of priority (9) must not be provided in pod spec; priority admission controller computed 500 from the given PriorityClass name',
    );
  });

  it('keeps the admitted priority when an update omits it', async () => {
    await client.create(CLASSES, pc('kept', 42));
    const created = await client.create<Pod>(PODS, pod('web', { priorityClassName: 'kept' }));
    const { priority: _p, preemptionPolicy: _pp, ...spec } = created.spec!;
    const updated = await client.update<Pod>(PODS, { ...created, spec: { ...spec, activeDeadlineSeconds: 30 } as Pod['spec'] });
    assert.equal(updated.spec?.priority, 42);
    assert.equal(updated.spec?.activeDeadlineSeconds, 30);
  });
});
