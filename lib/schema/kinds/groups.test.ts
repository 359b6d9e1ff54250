import assert from 'node:assert/strict';
import './meta-v1.js';
import './apps-v1.js';
import './batch-v1.js';
import './coordination-v1.js';
import './scheduling-v1.js';
import './discovery-v1.js';
import './events-v1.js';
import './policy-v1.js';
import { allKinds, allTypes, maybeTypeDef, typeDef } from '../registry.js';
import type { KindDef, Prop } from '../types.js';
import { eventFromCore, eventToCore } from './events-v1.js';
import { decodeKubernetesProtobuf } from '../protobuf.js';

// A minimal protobuf writer, enough to build the body `kubectl create job` sends.
const varint = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
};
const pbVarint = (num: number, v: number) => [...varint(num * 8), ...varint(v)];
const pbBytes = (num: number, body: number[]) => [...varint(num * 8 + 2), ...varint(body.length), ...body];
const pbString = (num: number, s: string) => pbBytes(num, [...Buffer.from(s, 'utf8')]);

const GROUP_PREFIXES = ['apps', 'batch', 'coordination', 'scheduling', 'discovery', 'events', 'policy'].map((g) => `io.k8s.api.${g}.v1.`);
const OWN_CORE = ['PersistentVolumeClaim', 'PersistentVolumeClaimSpec', 'PersistentVolumeClaimStatus', 'PersistentVolumeClaimCondition', 'VolumeResourceRequirements', 'TypedLocalObjectReference', 'TypedObjectReference', 'ModifyVolumeStatus'].map((n) => `io.k8s.api.core.v1.${n}`);
const isOwn = (name: string) => GROUP_PREFIXES.some((p) => name.startsWith(p)) || OWN_CORE.includes(name);

function kind(group: string, plural: string): KindDef {
  const k = allKinds().find((x) => x.group === group && x.version === 'v1' && x.plural === plural);
  assert.ok(k, `kind ${group}/v1 ${plural} is registered`);
  return k;
}

const NOW = Date.parse('2025-06-01T12:00:00Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The cells of one object as the server-side Table shows them, keyed by column name. */
function cells(k: KindDef, obj: unknown, wide = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of k.columns) if (wide || c.priority === 0) out[c.name] = c.value(obj, NOW);
  return out;
}

function refsOf(p: Prop): string[] {
  if (p.type === 'ref') return [p.ref];
  if (p.type === 'array') return refsOf(p.items);
  if (p.type === 'map') return refsOf(p.values);
  return [];
}

describe('schema kinds of the non-core groups', () => {
  describe('type definitions', () => {
    it('give every field of a type its own protobuf number', () => {
      const own = [...allTypes().values()].filter((t) => isOwn(t.name));
      assert.ok(own.length > 50, `expected the group types to be registered, got ${own.length}`);
      for (const t of own) {
        const seen = new Map<number, string>();
        for (const [name, f] of Object.entries(t.fields)) {
          if (f.proto === 0) continue; // TypeMeta fields are not in the protobuf message
          assert.ok(Number.isInteger(f.proto) && f.proto > 0, `${t.name}.${name} has a protobuf number`);
          assert.ok(!seen.has(f.proto), `${t.name}: ${name} and ${seen.get(f.proto)} share protobuf number ${f.proto}`);
          seen.set(f.proto, name);
        }
      }
    });

    it('resolve every reference to a type of these groups', () => {
      for (const t of allTypes().values()) {
        if (!isOwn(t.name)) continue;
        for (const [name, f] of Object.entries(t.fields)) {
          for (const ref of refsOf(f)) {
            if (isOwn(ref) || GROUP_PREFIXES.some((p) => ref.startsWith(p))) {
              assert.ok(maybeTypeDef(ref), `${t.name}.${name} refers to undefined ${ref}`);
            }
          }
        }
      }
    });

    it('use the protobuf numbers of upstream generated.proto where they are not sequential', () => {
      const expect: [string, string, number][] = [
        ['io.k8s.api.apps.v1.DeploymentSpec', 'progressDeadlineSeconds', 9],
        ['io.k8s.api.apps.v1.DeploymentStatus', 'readyReplicas', 7],
        ['io.k8s.api.apps.v1.DeploymentStatus', 'terminatingReplicas', 9],
        ['io.k8s.api.apps.v1.DeploymentCondition', 'lastUpdateTime', 6],
        ['io.k8s.api.apps.v1.ReplicaSetSpec', 'minReadySeconds', 4],
        ['io.k8s.api.apps.v1.DaemonSetSpec', 'revisionHistoryLimit', 6],
        ['io.k8s.api.apps.v1.StatefulSetStatus', 'availableReplicas', 11],
        ['io.k8s.api.batch.v1.JobSpec', 'podFailurePolicy', 11],
        ['io.k8s.api.batch.v1.JobSpec', 'successPolicy', 16],
        ['io.k8s.api.batch.v1.JobSpec', 'template', 6],
        ['io.k8s.api.batch.v1.JobSpec', 'backoffLimit', 7],
        ['io.k8s.api.batch.v1.JobStatus', 'terminating', 11],
        ['io.k8s.api.batch.v1.CronJobSpec', 'timeZone', 8],
        ['io.k8s.api.batch.v1.CronJobStatus', 'lastScheduleTime', 4],
        ['io.k8s.api.discovery.v1.EndpointSlice', 'addressType', 4],
        ['io.k8s.api.events.v1.Event', 'note', 10],
        ['io.k8s.api.events.v1.Event', 'deprecatedCount', 15],
        ['io.k8s.api.policy.v1.PodDisruptionBudgetSpec', 'maxUnavailable', 3],
        ['io.k8s.api.core.v1.PersistentVolumeClaimSpec', 'selector', 4],
      ];
      for (const [type, f, n] of expect) assert.equal(typeDef(type).fields[f]?.proto, n, `${type}.${f}`);
    });

    it('carry upstream strategic-merge keys and list types', () => {
      const conds = typeDef('io.k8s.api.apps.v1.DeploymentStatus').fields.conditions;
      assert.deepEqual([conds.mergeKey, conds.strategy, conds.listType, conds.listMapKeys], ['type', 'merge', 'map', ['type']]);
      assert.equal(typeDef('io.k8s.api.apps.v1.DeploymentSpec').fields.strategy.strategy, 'retainKeys');
      const jobConds = typeDef('io.k8s.api.batch.v1.JobStatus').fields.conditions;
      assert.deepEqual([jobConds.mergeKey, jobConds.listType], ['type', 'atomic']);
      assert.equal(typeDef('io.k8s.api.policy.v1.PodDisruptionBudgetSpec').fields.selector.strategy, 'replace');
      assert.equal(typeDef('io.k8s.api.discovery.v1.Endpoint').fields.addresses.listType, 'set');
      assert.deepEqual(
        Object.entries(typeDef('io.k8s.api.apps.v1.DeploymentSpec').fields).filter(([, f]) => f.required).map(([n]) => n).sort(),
        ['selector', 'template'],
      );
    });
  });

  it('decode a protobuf Job body with the upstream field numbers', () => {
    const job = [
      ...pbBytes(1, [...pbString(1, 'pi'), ...pbString(3, 'default')]),
      ...pbBytes(2, [
        ...pbVarint(1, 2), // parallelism
        ...pbVarint(2, 4), // completions
        ...pbVarint(3, 600), // activeDeadlineSeconds
        ...pbVarint(7, 3), // backoffLimit
        ...pbVarint(8, 100), // ttlSecondsAfterFinished
        ...pbString(9, 'Indexed'), // completionMode
        ...pbVarint(10, 1), // suspend
        ...pbBytes(11, pbBytes(1, [...pbString(1, 'Ignore'), ...pbBytes(3, [...pbString(1, 'DisruptionTarget'), ...pbString(2, 'True')])])),
        ...pbVarint(12, 1), // backoffLimitPerIndex
      ]),
    ];
    const body = Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...pbBytes(1, [...pbString(1, 'batch/v1'), ...pbString(2, 'Job')]), ...pbBytes(2, job)]);
    const decoded = decodeKubernetesProtobuf(body);
    assert.deepEqual(decoded.object, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: 'default' },
      spec: {
        parallelism: 2,
        completions: 4,
        activeDeadlineSeconds: 600,
        backoffLimit: 3,
        ttlSecondsAfterFinished: 100,
        completionMode: 'Indexed',
        suspend: true,
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
        backoffLimitPerIndex: 1,
      },
    });
  });

  describe('registration', () => {
    it('registers names, scope, categories and subresources as upstream discovery shows them', () => {
      const summary = (g: string, p: string) => {
        const k = kind(g, p);
        return [k.kind, k.shortNames ?? [], k.namespaced, k.categories ?? [], k.subresources ?? [], !!k.generation];
      };
      assert.deepEqual(summary('apps', 'deployments'), ['Deployment', ['deploy'], true, ['all'], ['status', 'scale'], true]);
      assert.deepEqual(summary('apps', 'replicasets'), ['ReplicaSet', ['rs'], true, ['all'], ['status', 'scale'], true]);
      assert.deepEqual(summary('apps', 'daemonsets'), ['DaemonSet', ['ds'], true, ['all'], ['status'], true]);
      assert.deepEqual(summary('apps', 'statefulsets'), ['StatefulSet', ['sts'], true, ['all'], ['status', 'scale'], true]);
      assert.deepEqual(summary('batch', 'jobs'), ['Job', [], true, ['all'], ['status'], true]);
      assert.deepEqual(summary('batch', 'cronjobs'), ['CronJob', ['cj'], true, ['all'], ['status'], true]);
      assert.deepEqual(summary('coordination.k8s.io', 'leases'), ['Lease', [], true, [], [], false]);
      assert.deepEqual(summary('scheduling.k8s.io', 'priorityclasses'), ['PriorityClass', ['pc'], false, [], [], false]);
      assert.deepEqual(summary('discovery.k8s.io', 'endpointslices'), ['EndpointSlice', [], true, [], [], false]);
      assert.deepEqual(summary('policy', 'poddisruptionbudgets'), ['PodDisruptionBudget', ['pdb'], true, [], ['status'], true]);
      assert.deepEqual(kind('apps', 'deployments').scale, { specReplicas: ['spec', 'replicas'], statusReplicas: ['status', 'replicas'], labelSelector: ['spec', 'selector'] });
      assert.equal(kind('batch', 'jobs').fieldSelectors?.['status.successful']?.({ status: { succeeded: 2 } }), '2');
    });
  });

  describe('defaults', () => {
    it('default a Deployment as upstream SetDefaults_Deployment', () => {
      const d: any = { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: {} } };
      kind('apps', 'deployments').defaults!(d);
      assert.equal(d.spec.replicas, 1);
      assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
      assert.equal(d.spec.revisionHistoryLimit, 10);
      assert.equal(d.spec.progressDeadlineSeconds, 600);
      const recreate: any = { spec: { strategy: { type: 'Recreate' } } };
      kind('apps', 'deployments').defaults!(recreate);
      assert.deepEqual(recreate.spec.strategy, { type: 'Recreate' });
    });

    it('default a Job and generate its selector from the uid', () => {
      const j: any = { metadata: { name: 'pi', uid: 'u-1' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } } };
      kind('batch', 'jobs').defaults!(j);
      assert.deepEqual([j.spec.completions, j.spec.parallelism, j.spec.backoffLimit, j.spec.completionMode, j.spec.suspend], [1, 1, 6, 'NonIndexed', false]);
      assert.deepEqual(j.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } });
      assert.deepEqual(j.spec.template.metadata.labels, {
        'job-name': 'pi',
        'batch.kubernetes.io/job-name': 'pi',
        'controller-uid': 'u-1',
        'batch.kubernetes.io/controller-uid': 'u-1',
      });
      assert.deepEqual(j.metadata.labels, j.spec.template.metadata.labels);
      assert.deepEqual(kind('batch', 'jobs').validate!(j), []);
      const parallel: any = { metadata: { name: 'p' }, spec: { parallelism: 3, template: {} } };
      kind('batch', 'jobs').defaults!(parallel);
      assert.equal(parallel.spec.completions, undefined, 'completions stay unset when parallelism is given');
    });

    it('default StatefulSets, DaemonSets, CronJobs and PriorityClasses', () => {
      const s: any = { spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: {} }] } };
      kind('apps', 'statefulsets').defaults!(s);
      assert.deepEqual(
        [s.spec.replicas, s.spec.podManagementPolicy, s.spec.updateStrategy, s.spec.revisionHistoryLimit, s.spec.persistentVolumeClaimRetentionPolicy],
        [1, 'OrderedReady', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, 10, { whenDeleted: 'Retain', whenScaled: 'Retain' }],
      );
      assert.equal(s.spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
      const ds: any = { spec: {} };
      kind('apps', 'daemonsets').defaults!(ds);
      assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
      const cj: any = { spec: { schedule: '@hourly' } };
      kind('batch', 'cronjobs').defaults!(cj);
      assert.deepEqual([cj.spec.concurrencyPolicy, cj.spec.suspend, cj.spec.successfulJobsHistoryLimit, cj.spec.failedJobsHistoryLimit], ['Allow', false, 3, 1]);
      const pc: any = { value: 1000 };
      kind('scheduling.k8s.io', 'priorityclasses').defaults!(pc);
      assert.equal(pc.preemptionPolicy, 'PreemptLowerPriority');
    });
  });

  describe('validation', () => {
    const deployment = (podLabels: Record<string, string>) => ({
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: podLabels }, spec: { restartPolicy: 'Always', containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
      },
    });

    it('accepts a Deployment whose selector matches its template labels', () => {
      const d = deployment({ app: 'web', tier: 'front' });
      kind('apps', 'deployments').defaults!(d);
      assert.deepEqual(kind('apps', 'deployments').validate!(d), []);
    });

    it('rejects a selector that does not match the template labels, with the upstream message and path', () => {
      for (const plural of ['deployments', 'replicasets', 'daemonsets', 'statefulsets']) {
        const errs = kind('apps', plural).validate!(deployment({ tier: 'front', app: 'db' }));
        assert.deepEqual(errs, [
          {
            field: 'spec.template.metadata.labels',
            reason: 'FieldValueInvalid',
            message: 'Invalid value: {"app":"db","tier":"front"}: `selector` does not match template `labels`',
          },
        ], plural);
      }
    });

    it('requires a selector, non-negative replicas and an Always restart policy for replicated pods', () => {
      const d: any = deployment({ app: 'web' });
      delete d.spec.selector;
      d.spec.replicas = -1;
      d.spec.template.spec.restartPolicy = 'Never';
      const errs = kind('apps', 'deployments').validate!(d);
      assert.deepEqual(errs.map((e) => [e.field, e.reason]), [
        ['spec.replicas', 'FieldValueInvalid'],
        ['spec.selector', 'FieldValueRequired'],
        ['spec.template.spec.restartPolicy', 'FieldValueNotSupported'],
      ]);
      assert.equal(errs[0].message, 'Invalid value: -1: must be greater than or equal to 0');
      assert.equal(errs[2].message, 'Unsupported value: "Never": supported values: "Always"');
    });

    it('rejects changing a Deployment selector on update', () => {
      const old = deployment({ app: 'web', v: '2' });
      const next: any = deployment({ app: 'web', v: '2' });
      next.spec.selector = { matchLabels: { app: 'web', v: '2' } };
      assert.deepEqual(kind('apps', 'deployments').validate!(next, old).map((e) => [e.field, e.message]), [
        ['spec.selector', 'Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable'],
      ]);
    });

    it('requires a Job restart policy of Never or OnFailure', () => {
      const j: any = { metadata: { name: 'x', uid: 'u' }, spec: { template: { spec: { restartPolicy: 'Always', containers: [] } } } };
      kind('batch', 'jobs').defaults!(j);
      assert.deepEqual(kind('batch', 'jobs').validate!(j), [
        { field: 'spec.template.spec.restartPolicy', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"' },
      ]);
    });

    it('requires a CronJob schedule and checks its syntax', () => {
      const cj = (schedule?: string) => ({ metadata: { name: 'nightly' }, spec: { schedule, jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure' } } } } } });
      const v = kind('batch', 'cronjobs').validate!;
      assert.deepEqual(v(cj()), [{ field: 'spec.schedule', reason: 'FieldValueRequired', message: 'Required value' }]);
      assert.deepEqual(v(cj('*/5 * * * *')), []);
      assert.deepEqual(v(cj('@daily')), []);
      assert.deepEqual(v(cj('* * *')).map((e) => e.field), ['spec.schedule']);
    });

    it('checks leases and priority classes', () => {
      assert.deepEqual(kind('coordination.k8s.io', 'leases').validate!({ spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } }), []);
      assert.deepEqual(kind('coordination.k8s.io', 'leases').validate!({ spec: { leaseDurationSeconds: 0 } }).map((e) => e.message), ['Invalid value: 0: must be greater than 0']);
      const pcv = kind('scheduling.k8s.io', 'priorityclasses').validate!;
      assert.deepEqual(pcv({ metadata: { name: 'high' }, value: 1000 }), []);
      assert.deepEqual(pcv({ metadata: { name: 'huge' }, value: 2_000_000_000 }).map((e) => [e.field, e.reason]), [['value', 'FieldValueForbidden']]);
      assert.deepEqual(pcv({ metadata: { name: 'system-node-critical' }, value: 2_000_001_000 }), []);
      assert.deepEqual(pcv({ metadata: { name: 'high' }, value: 5 }, { metadata: { name: 'high' }, value: 1000 }).map((e) => e.message), ['Forbidden: may not be changed in an update.']);
    });

    it('refuses a PodDisruptionBudget with both minAvailable and maxUnavailable', () => {
      const errs = kind('policy', 'poddisruptionbudgets').validate!({ spec: { minAvailable: 1, maxUnavailable: '50%', selector: { matchLabels: { app: 'web' } } } });
      assert.deepEqual(errs.map((e) => [e.field, e.reason]), [['spec', 'FieldValueInvalid']]);
      assert.match(errs[0].message, /minAvailable and maxUnavailable cannot be both set$/);
    });
  });

  describe('printer columns', () => {
    it('show a Deployment with 2 of 3 pods ready as upstream does', () => {
      const k = kind('apps', 'deployments');
      assert.deepEqual(k.columns.map((c) => [c.name, c.priority]), [
        ['Ready', 0], ['Up-to-date', 0], ['Available', 0], ['Age', 0], ['Containers', 1], ['Images', 1], ['Selector', 1],
      ]);
      const d = {
        metadata: { name: 'web', creationTimestamp: ago(5 * 60) },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] },
          template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'log', image: 'busybox' }] } },
        },
        status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
      };
      assert.deepEqual(cells(k, d, true), {
        Ready: '2/3',
        'Up-to-date': 3,
        Available: 2,
        Age: '5m',
        Containers: 'nginx,log',
        Images: 'nginx:1.27,busybox',
        Selector: 'app=web,tier in (edge,front)',
      });
      assert.equal(cells(k, { metadata: {}, spec: { replicas: 1 } }).Ready, '0/1');
    });

    it('show a completed Job with its duration, and the other job states', () => {
      const k = kind('batch', 'jobs');
      assert.deepEqual(k.columns.filter((c) => c.priority === 0).map((c) => c.name), ['Status', 'Completions', 'Duration', 'Age']);
      const job = {
        metadata: { name: 'pi', creationTimestamp: ago(3 * 60) },
        spec: { completions: 1, parallelism: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } }, template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }] } } },
        status: {
          startTime: ago(170),
          completionTime: ago(128),
          succeeded: 1,
          conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }],
        },
      };
      assert.deepEqual(cells(k, job, true), {
        Status: 'Complete',
        Completions: '1/1',
        Duration: '42s',
        Age: '3m',
        Containers: 'pi',
        Images: 'perl:5.34',
        Selector: 'batch.kubernetes.io/controller-uid=u-1',
      });
      const running = { metadata: { creationTimestamp: ago(60) }, spec: { parallelism: 2 }, status: { startTime: ago(30) } };
      assert.deepEqual(cells(k, running), { Status: 'Running', Completions: '0/1 of 2', Duration: '30s', Age: '60s' });
      assert.equal(cells(k, { spec: {}, status: { conditions: [{ type: 'Failed', status: 'True' }] } }).Status, 'Failed');
      assert.equal(cells(k, { spec: {}, status: { conditions: [{ type: 'Suspended', status: 'True' }] } }).Status, 'Suspended');
      assert.equal(cells(k, { spec: {}, status: {} }).Duration, '');
    });

    it('show a CronJob schedule, time zone, suspension and last run', () => {
      const k = kind('batch', 'cronjobs');
      const cj = {
        metadata: { name: 'nightly', creationTimestamp: ago(3 * 86400) },
        spec: {
          schedule: '0 3 * * *',
          suspend: false,
          jobTemplate: { spec: { template: { spec: { containers: [{ name: 'backup', image: 'restic:0.16' }] } } } },
        },
        status: { active: [{ kind: 'Job', name: 'nightly-29100000' }], lastScheduleTime: ago(9 * 3600) },
      };
      assert.deepEqual(cells(k, cj, true), {
        Schedule: '0 3 * * *',
        Timezone: '<none>',
        Suspend: 'False',
        Active: 1,
        'Last Schedule': '9h',
        Age: '3d',
        Containers: 'backup',
        Images: 'restic:0.16',
        Selector: '<none>',
      });
      assert.equal(cells(k, { spec: { schedule: '@hourly', timeZone: 'Etc/UTC' }, status: {} })['Last Schedule'], '<none>');
      assert.equal(cells(k, { spec: { schedule: '@hourly', timeZone: 'Etc/UTC' }, status: {} }).Timezone, 'Etc/UTC');
    });

    it('show the other kinds with upstream-looking cells', () => {
      const ds = { metadata: { creationTimestamp: ago(10) }, spec: { template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' } } } }, status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 } };
      assert.deepEqual(Object.values(cells(kind('apps', 'daemonsets'), ds)), [3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '10s']);
      assert.deepEqual(cells(kind('apps', 'statefulsets'), { metadata: { creationTimestamp: ago(10) }, spec: { replicas: 3 }, status: { readyReplicas: 3 } }), { Ready: '3/3', Age: '10s' });
      assert.deepEqual(cells(kind('coordination.k8s.io', 'leases'), { metadata: { creationTimestamp: ago(45) }, spec: { holderIdentity: 'node-1' } }), { Holder: 'node-1', Age: '45s' });
      assert.deepEqual(cells(kind('scheduling.k8s.io', 'priorityclasses'), { metadata: { creationTimestamp: ago(45) }, value: 1000, preemptionPolicy: 'Never' }), { Value: 1000, 'Global-Default': false, Age: '45s', PreemptionPolicy: 'Never' });
      const slice = {
        metadata: { creationTimestamp: ago(45) },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'https', port: 443, protocol: 'TCP' }],
        endpoints: [{ addresses: ['127.1.0.2'] }, { addresses: ['127.1.0.3'] }, { addresses: ['127.1.0.4'] }, { addresses: ['127.1.0.5'] }, { addresses: ['127.1.0.6'] }],
      };
      assert.deepEqual(cells(kind('discovery.k8s.io', 'endpointslices'), slice), { AddressType: 'IPv4', Ports: '80,443', Endpoints: '127.1.0.2,127.1.0.3,127.1.0.4 + 2 more...', Age: '45s' });
      assert.deepEqual(cells(kind('discovery.k8s.io', 'endpointslices'), { addressType: 'IPv4', endpoints: [] }).Endpoints, '<unset>');
      assert.deepEqual(cells(kind('policy', 'poddisruptionbudgets'), { metadata: { creationTimestamp: ago(45) }, spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 1 } }), {
        'Min Available': '50%', 'Max Unavailable': 'N/A', 'Allowed Disruptions': 1, Age: '45s',
      });
    });
  });

  describe('events.k8s.io/v1 Event', () => {
    const modern = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web-7d4b9c-x2x.17c2a1f0b3e', namespace: 'default', uid: 'e-1', resourceVersion: '812', creationTimestamp: ago(40) },
      eventTime: '2025-06-01T11:59:20.123456Z',
      series: { count: 4, lastObservedTime: '2025-06-01T11:59:50.000001Z' },
      reportingController: 'flotilla.io/kubelet',
      reportingInstance: 'kubelet-node-1',
      action: 'Pulling',
      reason: 'BackOff',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web-7d4b9c-x2x', uid: 'p-1', apiVersion: 'v1', resourceVersion: '800', fieldPath: 'spec.containers{nginx}' },
      related: { kind: 'Node', name: 'node-1', apiVersion: 'v1' },
      note: 'Back-off pulling image "nginx:bad"',
      type: 'Warning',
    };

    it('is stored as a core/v1 Event under the core events resource', () => {
      const k = kind('events.k8s.io', 'events');
      assert.equal(k.storage?.plural, 'events');
      assert.equal(k.storage?.group, '');
      const core = k.storage!.toStorage(structuredClone(modern));
      assert.equal(core.apiVersion, 'v1');
      assert.deepEqual(core.involvedObject, modern.regarding);
      assert.equal(core.message, modern.note);
      assert.equal(core.reportingComponent, 'flotilla.io/kubelet');
      assert.equal(core.reportingInstance, 'kubelet-node-1');
      assert.deepEqual(core.series, modern.series);
      assert.equal(core.regarding, undefined);
      assert.equal(core.note, undefined);
    });

    it('round-trips between events.k8s.io/v1 and core/v1', () => {
      assert.deepEqual(eventFromCore(eventToCore(structuredClone(modern))), modern);
      const legacy = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'node-1.17c2', namespace: 'default' },
        involvedObject: { kind: 'Node', name: 'node-1', uid: 'node-1' },
        reason: 'NodeReady',
        message: 'Node node-1 status is now: NodeReady',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: ago(600),
        lastTimestamp: ago(60),
        count: 3,
        type: 'Normal',
      };
      const asModern = eventFromCore(structuredClone(legacy));
      assert.deepEqual(
        [asModern.regarding, asModern.note, asModern.deprecatedSource, asModern.deprecatedCount, asModern.deprecatedFirstTimestamp],
        [legacy.involvedObject, legacy.message, legacy.source, 3, legacy.firstTimestamp],
      );
      // the stored shape names the unset time, as upstream serves it: null
      assert.deepEqual(eventToCore(asModern), { ...legacy, eventTime: null });
    });

    it('prints the columns of kubectl get events for either shape', () => {
      const k = kind('events.k8s.io', 'events');
      const expected = { 'Last Seen': '10s', Type: 'Warning', Reason: 'BackOff', Object: 'pod/web-7d4b9c-x2x', Message: 'Back-off pulling image "nginx:bad"' };
      assert.deepEqual(cells(k, modern), expected);
      assert.deepEqual(cells(k, eventToCore(structuredClone(modern))), expected);
      const wide = cells(k, modern, true);
      assert.deepEqual([wide.Subobject, wide.Source, wide['First Seen'], wide.Count, wide.Name], ['spec.containers{nginx}', 'flotilla.io/kubelet, kubelet-node-1', '39s', 4, modern.metadata.name]);
      assert.deepEqual(k.columns.map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name']);
    });

    it('validates new events as upstream does for events.k8s.io/v1', () => {
      const v = kind('events.k8s.io', 'events').validate!;
      assert.deepEqual(v(modern), []);
      const bad: any = { ...structuredClone(modern), reportingController: undefined, type: 'Info', deprecatedCount: 2 };
      assert.deepEqual(v(bad).map((e) => [e.field, e.reason]), [
        ['type', 'FieldValueInvalid'],
        ['reportingController', 'FieldValueRequired'],
        ['deprecatedCount', 'FieldValueInvalid'],
      ]);
    });
  });
});
