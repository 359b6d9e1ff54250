import assert from 'node:assert/strict';
import { DEFAULT_EVICTION_HARD, NodeHealth, type NodeReadings, nodeAllocatable, parseEvictionHard, parseReserved, readNodeReadings } from './nodehealth.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

describe('kubelet node health (conditions and allocatable from readings)', () => {
  const calm: NodeReadings = { memoryAvailableBytes: 4 * Gi, memoryCapacityBytes: 8 * Gi, nodefsAvailableBytes: 50 * Gi, nodefsCapacityBytes: 100 * Gi, pidMax: 4_194_304, processes: 300 };

  it('says no pressure and Ready with upstream reasons, then each pressure under its threshold', async () => {
    let r = { ...calm };
    let notReady: string | undefined;
    let clock = 0;
    const health = new NodeHealth({ read: () => r, runtimeNotReady: async () => notReady, now: () => `t${++clock}` });
    assert.equal(await health.refresh(), true);
    const byType = () => Object.fromEntries(health.conditions('hb').map((c) => [c.type, c]));
    let c = byType();
    assert.deepEqual(Object.keys(c), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
    assert.deepEqual([c.MemoryPressure!.status, c.MemoryPressure!.reason, c.MemoryPressure!.message], ['False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available']);
    assert.deepEqual([c.DiskPressure!.status, c.DiskPressure!.reason], ['False', 'KubeletHasNoDiskPressure']);
    assert.deepEqual([c.PIDPressure!.status, c.PIDPressure!.reason], ['False', 'KubeletHasSufficientPID']);
    assert.deepEqual([c.Ready!.status, c.Ready!.reason, c.Ready!.message, c.Ready!.lastHeartbeatTime], ['True', 'KubeletReady', 'kubelet is posting ready status', 'hb']);
    const readySince = c.Ready!.lastTransitionTime;

    // nothing changed: no transition
    assert.equal(await health.refresh(), false);
    assert.equal(byType().Ready!.lastTransitionTime, readySince);

    r = { ...calm, memoryAvailableBytes: 99 * Mi, nodefsAvailableBytes: 9 * Gi, processes: calm.pidMax - 1000 };
    assert.equal(await health.refresh(), true);
    c = byType();
    assert.deepEqual([c.MemoryPressure!.status, c.MemoryPressure!.reason, c.MemoryPressure!.message], ['True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available']);
    assert.deepEqual([c.DiskPressure!.status, c.DiskPressure!.reason, c.DiskPressure!.message], ['True', 'KubeletHasDiskPressure', 'kubelet has disk pressure']);
    assert.deepEqual([c.PIDPressure!.status, c.PIDPressure!.reason], ['True', 'KubeletHasInsufficientPID']);
    assert.notEqual(c.MemoryPressure!.lastTransitionTime, readySince);
    assert.equal(c.Ready!.lastTransitionTime, readySince, 'Ready did not change');

    notReady = 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized';
    r = { ...calm };
    assert.equal(await health.refresh(), true);
    c = byType();
    assert.deepEqual([c.Ready!.status, c.Ready!.reason, c.Ready!.message], ['False', 'KubeletNotReady', notReady]);
    assert.equal(c.MemoryPressure!.status, 'False');
    assert.ok(health.matches(health.conditions('x')));
    assert.ok(!health.matches([{ type: 'Ready', status: 'True', reason: 'KubeletReady' }]));
  });

  it('takes the reservations and the hard eviction thresholds off allocatable, as upstream', () => {
    const capacity = { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    const hard = parseEvictionHard(DEFAULT_EVICTION_HARD);
    assert.deepEqual(nodeAllocatable(capacity, {}, {}, new Map()), { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' });
    const a = nodeAllocatable(capacity, parseReserved('--system-reserved', 'cpu=500m,memory=1Gi'), parseReserved('--kube-reserved', 'cpu=100m,memory=512Mi,ephemeral-storage=1Gi'), hard);
    // 8Gi - 1Gi - 512Mi - 100Mi; 100Gi - 1Gi - 10% of 100Gi
    assert.deepEqual(a, { cpu: '1400m', memory: `${8 * 1024 - 1024 - 512 - 100}Mi`, pods: '110', 'ephemeral-storage': '89Gi' });
    assert.equal(nodeAllocatable(capacity, parseReserved('--system-reserved', 'cpu=3'), {}, hard).cpu, '0');
  });

  it('parses --eviction-hard and the reservations, naming what it refuses', () => {
    const t = parseEvictionHard('memory.available<1Gi, nodefs.available<5%,pid.available<1000');
    assert.deepEqual([...t], [['memory.available', { quantity: Gi }], ['nodefs.available', { percentage: 5 }], ['pid.available', { quantity: 1000 }]]);
    assert.throws(() => parseEvictionHard('memory.free<1Gi'), /unknown signal "memory.free"/);
    assert.throws(() => parseEvictionHard('memory.available>1Gi'), /not signal<quantity/);
    assert.throws(() => parseEvictionHard('nodefs.available<150%'), /not a percentage/);
    assert.throws(() => parseReserved('--system-reserved', 'gpu=1'), /--system-reserved: "gpu=1"/);
    assert.throws(() => parseReserved('--kube-reserved', 'memory=lots'), /--kube-reserved: memory: "lots"/);
  });

  it('reads this machine', async () => {
    const r = await readNodeReadings('/');
    assert.ok(r.memoryAvailableBytes > 0 && r.memoryAvailableBytes <= r.memoryCapacityBytes, JSON.stringify(r));
    assert.ok(r.nodefsAvailableBytes > 0 && r.nodefsAvailableBytes <= r.nodefsCapacityBytes);
    assert.ok(r.pidMax >= 32768 && r.processes > 10 && r.processes < r.pidMax);
  });
});
