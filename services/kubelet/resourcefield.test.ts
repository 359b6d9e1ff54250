import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { resourceFieldValue } from './resourcefield.js';

describe('kubelet resourceFieldRef values', () => {
  const c: Container = { name: 'app', resources: { limits: { cpu: '250m', memory: '64Mi' }, requests: { memory: '32Mi' } } };
  const other: Container = { name: 'side', resources: { requests: { cpu: '1500m' } } };
  const pod: Pod = { spec: { containers: [c, other] } };
  const allocatable = { cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi' };
  const v = (resource: string, divisor?: string, containerName?: string, ctr: Container | undefined = c) =>
    resourceFieldValue({ resource, divisor, containerName }, pod, ctr, allocatable);

  it('divides by the divisor and rounds up, cpu in thousandths', () => {
    assert.equal(v('limits.cpu'), '1');
    assert.equal(v('limits.cpu', '1m'), '250');
    assert.equal(v('limits.cpu', '100m'), '3');
    assert.equal(v('limits.memory'), String(64 * 1024 * 1024));
    assert.equal(v('limits.memory', '1Mi'), '64');
    assert.equal(v('limits.memory', '1M'), '68');
    assert.equal(v('requests.memory', '1Mi'), '32');
    assert.equal(v('limits.cpu', '0'), '1');
  });

  it('defaults a missing limit to node allocatable, a missing request to the limit or 0', () => {
    assert.equal(v('limits.ephemeral-storage', '1Gi'), '10');
    assert.equal(v('limits.memory', '1Gi', 'side'), '4');
    assert.equal(v('limits.cpu', undefined, 'side'), '2');
    assert.equal(v('requests.cpu', '1m'), '250');
    assert.equal(v('requests.cpu', '1m', 'side'), '1500');
    assert.equal(v('requests.ephemeral-storage'), '0');
  });

  it('rejects other resources and unknown containers', () => {
    assert.throws(() => v('limits.nvidia.com/gpu'), /unsupported container resource : limits.nvidia.com\/gpu/);
    assert.throws(() => v('limits.cpu', undefined, 'nope'), /container "nope" not found/);
  });
});
