import assert from 'node:assert/strict';
import './kinds/mod.js';
import { normaliseTimestamps } from './timestamps.js';

describe('normaliseTimestamps: every time and microTime of an object in upstream\'s serialised form', () => {
  it('gives a Lease\'s microTimes six digits and its metadata Times none', () => {
    const lease: any = {
      metadata: { name: 'l', creationTimestamp: '2026-01-01T00:00:00.5Z' },
      spec: { holderIdentity: 'a', acquireTime: '2026-01-01T00:00:00Z', renewTime: '2026-01-01T00:00:01.123Z' },
    };
    normaliseTimestamps(lease, 'io.k8s.api.coordination.v1.Lease');
    assert.equal(lease.metadata.creationTimestamp, '2026-01-01T00:00:00Z');
    assert.equal(lease.spec.acquireTime, '2026-01-01T00:00:00.000000Z');
    assert.equal(lease.spec.renewTime, '2026-01-01T00:00:01.123000Z');
    assert.equal(lease.spec.holderIdentity, 'a');
  });

  it('reaches times in lists and nested types (pod conditions, container states), and leaves the rest alone', () => {
    const pod: any = {
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
      status: {
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T02:00:00.999+02:00' }],
        containerStatuses: [{ name: 'c', state: { running: { startedAt: '2026-01-01T00:00:00.25Z' } } }],
        startTime: 'not a time',
      },
    };
    normaliseTimestamps(pod, 'io.k8s.api.core.v1.Pod');
    assert.equal(pod.status.conditions[0].lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(pod.status.containerStatuses[0].state.running.startedAt, '2026-01-01T00:00:00Z');
    assert.equal(pod.status.startTime, 'not a time', 'validation reports it');
    assert.deepEqual(pod.spec, { containers: [{ name: 'c', image: 'busybox' }] });
  });

  it('normalises both Event kinds (eventTime, series.lastObservedTime)', () => {
    const core: any = { metadata: { name: 'e' }, eventTime: '2026-01-01T00:00:00Z', series: { count: 2, lastObservedTime: '2026-01-01T00:00:00.1Z' } };
    normaliseTimestamps(core, 'io.k8s.api.core.v1.Event');
    assert.equal(core.eventTime, '2026-01-01T00:00:00.000000Z');
    assert.equal(core.series.lastObservedTime, '2026-01-01T00:00:00.100000Z');
    const ev: any = { metadata: { name: 'e' }, eventTime: '2026-01-01T00:00:00.1234567Z', deprecatedFirstTimestamp: '2026-01-01T00:00:00.7Z' };
    normaliseTimestamps(ev, 'io.k8s.api.events.v1.Event');
    assert.equal(ev.eventTime, '2026-01-01T00:00:00.123456Z');
    assert.equal(ev.deprecatedFirstTimestamp, '2026-01-01T00:00:00Z');
  });
});
