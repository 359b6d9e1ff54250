import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { SchedulingTransforms } from './transform.js';

/** a pod as the apiserver serves it: defaulted, with fields no scheduler reads */
function servedPod(name: string, nodeName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns-1',
      uid: `uid-${name}`,
      resourceVersion: '7',
      generateName: 'pod-',
      creationTimestamp: '2026-12-04T20:00:00Z',
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid', controller: true }],
      managedFields: [{ manager: 'bench', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: {} }],
    },
    spec: {
      nodeName,
      schedulerName: 'default-scheduler',
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      securityContext: {},
      volumes: [{ name: 'v', emptyDir: {} }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      nodeSelector: { disk: 'ssd' },
      containers: [
        {
          name: 'c',
          image: 'registry.k8s.io/pause:3.10',
          imagePullPolicy: 'IfNotPresent',
          terminationMessagePath: '/dev/termination-log',
          env: [{ name: 'A', value: 'b' }],
          ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 8080, hostPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '100m', memory: '500Mi' } },
        },
      ],
      initContainers: [{ name: 'side', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '10m' } } }],
    },
    status: {
      phase: 'Pending',
      qosClass: 'Burstable',
      startTime: '2026-12-04T20:00:01Z',
      nominatedNodeName: 'n2',
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no' },
        { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' },
        { type: 'Ready', status: 'False' },
      ],
    },
  };
}

describe('SchedulingTransforms', () => {
  it('keeps of a pod exactly what the scheduler reads', () => {
    const kept = new SchedulingTransforms().pod(servedPod('p1'));
    assert.deepEqual(kept, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p1',
        namespace: 'ns-1',
        uid: 'uid-p1',
        resourceVersion: '7',
        creationTimestamp: '2026-12-04T20:00:00Z',
        labels: { app: 'web' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid', controller: true }],
      },
      spec: {
        schedulerName: 'default-scheduler',
        priority: 0,
        preemptionPolicy: 'PreemptLowerPriority',
        tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
        nodeSelector: { disk: 'ssd' },
        containers: [{ name: 'c', ports: [{ containerPort: 8080, hostPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '500Mi' } } }],
        initContainers: [{ name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '10m' } } }],
      },
      status: {
        phase: 'Pending',
        startTime: '2026-12-04T20:00:01Z',
        nominatedNodeName: 'n2',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no' },
          { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' },
        ],
      },
    });
  });

  it("drops a bound pod's PodScheduled condition, keeps DisruptionTarget", () => {
    const kept = new SchedulingTransforms().pod(servedPod('p1', 'n1'));
    assert.equal(kept.spec?.nodeName, 'n1');
    assert.deepEqual(kept.status?.conditions?.map((c) => c.type), ['DisruptionTarget']);
  });

  it('shares equal parts and repeated strings between pods, never unequal ones', () => {
    const t = new SchedulingTransforms();
    const a = t.pod(servedPod('a', 'node-' + 'x'.repeat(20)));
    const b = t.pod(servedPod('b', 'node-' + 'x'.repeat(20)));
    assert.equal(a.spec!.containers, b.spec!.containers);
    assert.equal(a.spec!.tolerations, b.spec!.tolerations);
    assert.equal(a.metadata!.labels, b.metadata!.labels);
    const other = servedPod('c');
    other.metadata!.labels = { app: 'db' };
    (other.spec!.containers[0]!.resources!.requests as Record<string, string>).cpu = '200m';
    const c = t.pod(other);
    assert.deepEqual(c.metadata!.labels, { app: 'db' });
    assert.equal(c.spec!.containers[0]!.resources!.requests!.cpu, '200m');
    assert.deepEqual(a.spec!.containers[0]!.resources!.requests, { cpu: '100m', memory: '500Mi' });
  });

  it("keeps each pod's own strings when consecutive pods differ (the pool's last-instance check)", () => {
    const t = new SchedulingTransforms();
    const want: Array<[string, string, string, string]> = [];
    const got: Array<[string, string, string, string]> = [];
    for (let i = 0; i < 12; i++) {
      const p = servedPod(`p${i}`, i % 3 === 0 ? undefined : `node-${i % 2}`);
      const namespace = `ns-${i % 2}`;
      const creationTimestamp = `2026-12-04T20:00:0${i % 4}Z`;
      const phase = i % 5 === 0 ? 'Running' : 'Pending';
      p.metadata = { ...p.metadata, namespace, creationTimestamp };
      p.status!.phase = phase;
      want.push([namespace, creationTimestamp, p.spec!.nodeName ?? '-', phase]);
      const k = t.pod(p);
      got.push([k.metadata!.namespace!, k.metadata!.creationTimestamp!, k.spec!.nodeName ?? '-', k.status!.phase!]);
    }
    assert.deepEqual(got, want);
  });

  it('keeps of a node its name, labels, taints, unschedulable and allocatable', () => {
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', uid: 'u', resourceVersion: '3', labels: { zone: 'a' }, annotations: { x: 'y' } },
      spec: { taints: [{ key: 'k', effect: 'NoSchedule' }], unschedulable: true, podCIDR: '10.0.0.0/24' },
      status: {
        capacity: { cpu: '8' },
        allocatable: { cpu: '7' },
        conditions: [{ type: 'Ready', status: 'True' }],
        images: [{ names: ['x'], sizeBytes: 1 }],
      },
    };
    assert.deepEqual(new SchedulingTransforms().node(node), {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'n1', uid: 'u', resourceVersion: '3', labels: { zone: 'a' } },
      spec: { taints: [{ key: 'k', effect: 'NoSchedule' }], unschedulable: true },
      status: { allocatable: { cpu: '7' } },
    });
    const noAllocatable = { ...node, status: { capacity: { cpu: '8' } } };
    assert.deepEqual(new SchedulingTransforms().node(noAllocatable).status, { capacity: { cpu: '8' } });
  });
});
