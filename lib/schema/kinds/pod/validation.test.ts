import assert from 'node:assert/strict';
import { validatePodSpecUpdate } from './validation.js';
import { allKinds } from '../../registry.js';
import '../core-v1-pod.js';

const spec = () => ({
  nodeName: undefined as string | undefined,
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  tolerations: [{ key: 'a', operator: 'Exists' }],
  containers: [
    { name: 'app', image: 'nginx:1', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m' } } },
    { name: 'side', image: 'busybox' },
  ],
  initContainers: [{ name: 'init', image: 'busybox' }],
});

const forbidden = (errs: ReturnType<typeof validatePodSpecUpdate>) => errs.length === 1 && errs[0].field === 'spec' && errs[0].reason === 'FieldValueForbidden';

describe('pod spec updates (validatePodSpecUpdate)', () => {
  it('lets images, tolerations, grace and deadline, scheduling gates and a first nodeName change', () => {
    const old = spec();
    const next: any = spec();
    next.containers[0].image = 'nginx:2';
    next.initContainers[0].image = 'alpine';
    next.tolerations = [...old.tolerations, { key: 'b', operator: 'Exists' }];
    next.terminationGracePeriodSeconds = 1;
    next.activeDeadlineSeconds = 60;
    next.schedulingGates = [];
    next.nodeName = 'node-1';
    assert.deepEqual(validatePodSpecUpdate(next, old), []);
  });

  it('takes members in another order, and a member set to undefined as absent', () => {
    const old = spec();
    const { containers, ...rest } = spec();
    const next = { containers: containers.map((c) => ({ ...c, env: undefined })), ...rest };
    assert.deepEqual(validatePodSpecUpdate(next, old), []);
  });

  it('refuses any other change: a container\'s resources, ports or name, a container more, restartPolicy, a nodeName once set', () => {
    const cases: Array<(s: any) => void> = [
      (s) => (s.containers[0].resources.requests.cpu = '200m'),
      (s) => (s.containers[0].ports = []),
      (s) => (s.containers[1].name = 'other'),
      (s) => s.containers.push({ name: 'third', image: 'busybox' }),
      (s) => (s.initContainers[0].command = ['sh']),
      (s) => (s.restartPolicy = 'Never'),
      (s) => (s.hostNetwork = true),
      (s) => delete s.restartPolicy,
      (s) => delete s.initContainers,
    ];
    for (const change of cases) {
      const next = spec();
      change(next);
      assert.ok(forbidden(validatePodSpecUpdate(next, spec())), change.toString());
    }
    const bound = { ...spec(), nodeName: 'node-1' };
    assert.ok(forbidden(validatePodSpecUpdate({ ...spec(), nodeName: 'node-2' }, bound)), 'a nodeName once set');
    assert.ok(forbidden(validatePodSpecUpdate(spec(), bound)), 'a nodeName once set cannot be cleared');
  });
});

describe('the Pod kind\'s validation of an update', () => {
  const pod = (s: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: s });
  const validate = (o: unknown, old?: unknown) => allKinds().find((k) => k.group === '' && k.kind === 'Pod')!.validate!(o, old);

  it('checks a changed spec whole, and takes a spec left as it was (a status write) as it was written', () => {
    const old = pod(spec());
    // an invalid container name: refused on create, and on an update that changes the spec
    const bad = spec();
    bad.containers[1].name = 'Not_A_Name';
    assert.ok(validate(pod(bad)).some((e) => e.field === 'spec.containers[1].name'));
    assert.ok(validate(pod(bad), old).length > 0);
    assert.deepEqual(validate({ ...pod(spec()), status: { phase: 'Running' } }, old), []);
  });
});
