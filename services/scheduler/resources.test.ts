import assert from 'node:assert/strict';
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { Dim } from './core/types.js';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, nodeAllocatable, podResources } from './resources.js';

const names = ['cpu', 'memory', 'ephemeral-storage', 'pods'];
const dim = (n: string): number => {
  let i = names.indexOf(n);
  if (i < 0) i = names.push(n) - 1;
  return i;
};
const len = (): number => names.length;

function container(requests?: Record<string, string>, restartPolicy?: string): Container {
  return { name: 'c', resources: requests ? { requests } : undefined, restartPolicy } as Container;
}

function pod(spec: Partial<Pod['spec']>): Pod {
  return { metadata: { name: 'p' }, spec: { containers: [], ...spec } } as Pod;
}

describe('pod requests (upstream v1.31 resource helpers)', () => {
  it('sums containers: cpu in millicores, memory in bytes, pods = 1', () => {
    const r = podResources(pod({ containers: [container({ cpu: '250m', memory: '1Gi' }), container({ cpu: '1', memory: '512Mi' })] }), dim, len);
    assert.equal(r.request[Dim.CPU], 1250);
    assert.equal(r.request[Dim.MEMORY], 1.5 * 1024 ** 3);
    assert.equal(r.request[Dim.PODS], 1);
  });

  it('takes the largest init container when it exceeds the containers', () => {
    const r = podResources(pod({ containers: [container({ cpu: '100m' })], initContainers: [container({ cpu: '2' }), container({ cpu: '500m' })] }), dim, len);
    assert.equal(r.request[Dim.CPU], 2000);
  });

  it('counts restartable (sidecar) init containers beside the app and beneath later init containers', () => {
    // sidecar 200m runs with the app (300m) -> 500m; init after the sidecar needs 400m + 200m = 600m
    const r = podResources(
      pod({ containers: [container({ cpu: '300m' })], initContainers: [container({ cpu: '200m' }, 'Always'), container({ cpu: '400m' })] }),
      dim,
      len,
    );
    assert.equal(r.request[Dim.CPU], 600);
    const r2 = podResources(pod({ containers: [container({ cpu: '300m' })], initContainers: [container({ cpu: '100m' }), container({ cpu: '200m' }, 'Always')] }), dim, len);
    assert.equal(r2.request[Dim.CPU], 500);
  });

  it('adds spec.overhead', () => {
    const r = podResources(pod({ containers: [container({ cpu: '1' })], overhead: { cpu: '250m', memory: '10Mi' } }), dim, len);
    assert.equal(r.request[Dim.CPU], 1250);
    assert.equal(r.request[Dim.MEMORY], 10 * 1024 * 1024);
  });

  it('puts extended resources in their own dimension', () => {
    const r = podResources(pod({ containers: [container({ 'nvidia.com/gpu': '2' })] }), dim, len);
    assert.equal(r.request[dim('nvidia.com/gpu')], 2);
  });

  it('gives containers that name no cpu or memory the non-zero defaults, but keeps explicit zeros', () => {
    const r = podResources(pod({ containers: [container(), container({ cpu: '0', memory: '0' })] }), dim, len);
    assert.deepEqual([...r.nonZeroRequest], [DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST]);
    assert.equal(r.request[Dim.CPU], 0);
  });
});

describe('node allocatable', () => {
  it('reads status.allocatable, falling back to capacity', () => {
    const n1 = { metadata: { name: 'n' }, status: { allocatable: { cpu: '3500m', memory: '2Gi', pods: '110' }, capacity: { cpu: '4' } } } as Node;
    const a = nodeAllocatable(n1, dim, len);
    assert.equal(a[Dim.CPU], 3500);
    assert.equal(a[Dim.PODS], 110);
    const n2 = { metadata: { name: 'n' }, status: { capacity: { cpu: '4', 'example.com/foo': '3' } } } as Node;
    const b = nodeAllocatable(n2, dim, len);
    assert.equal(b[Dim.CPU], 4000);
    assert.equal(b[dim('example.com/foo')], 3);
  });
});
