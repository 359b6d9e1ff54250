import assert from 'node:assert/strict';
import { controllerManagerOptions } from './main.js';
import { DEFAULT_CONTROLLER_MANAGER_PORT } from './server.js';

describe('flotilla controller-manager command line', () => {
  it('passes the node lifecycle flags to the controller in upstream units', () => {
    const o = controllerManagerOptions([
      '--nats', 'nats://127.0.0.1:4999',
      '--node-monitor-grace-period=1m30s',
      '--node-startup-grace-period', '2m',
      '--node-monitor-period=500ms',
      '--node-eviction-rate=2.5',
      '--secondary-node-eviction-rate=0',
      '--large-cluster-size-threshold=10',
      '--unhealthy-zone-threshold=0.7',
      '--terminated-pod-gc-threshold=100',
    ]);
    assert.notEqual(o, 'help');
    if (o === 'help') return;
    assert.equal(o.natsUrl, 'nats://127.0.0.1:4999');
    assert.equal(o.port, DEFAULT_CONTROLLER_MANAGER_PORT);
    assert.deepEqual(o.nodeLifecycle, {
      nodeMonitorGracePeriodMs: 90_000,
      nodeStartupGracePeriodMs: 120_000,
      nodeMonitorPeriodMs: 500,
      nodeEvictionRate: 2.5,
      secondaryNodeEvictionRate: 0,
      largeClusterSizeThreshold: 10,
      unhealthyZoneThreshold: 0.7,
    });
    assert.deepEqual(o.podGC, { terminatedPodThreshold: 100 });
  });

  it('leaves every node lifecycle default to the controller when no flag is given', () => {
    const o = controllerManagerOptions(['--port', '0', '--controllers', '*,-job-controller', '--leader-elect=false']);
    assert.ok(o !== 'help');
    assert.deepEqual(o.nodeLifecycle, {});
    assert.deepEqual(o.podGC, {});
    assert.equal(o.port, 0);
    assert.equal(o.leaderElect, false);
    assert.deepEqual(o.controllers, ['*', '-job-controller']);
  });

  it('names the flag and the value it refuses', () => {
    assert.throws(() => controllerManagerOptions(['--node-monitor-grace-period=40']), /--node-monitor-grace-period: time: missing unit in duration "40"/);
    assert.throws(() => controllerManagerOptions(['--node-monitor-period=-5s']), /--node-monitor-period: must be positive/);
    assert.throws(() => controllerManagerOptions(['--node-eviction-rate=fast']), /--node-eviction-rate: expected a rate of 0 or more, got "fast"/);
    assert.throws(() => controllerManagerOptions(['--unhealthy-zone-threshold=1.5']), /--unhealthy-zone-threshold: expected a fraction/);
    assert.throws(() => controllerManagerOptions(['--large-cluster-size-threshold=2.5']), /--large-cluster-size-threshold: expected a node count/);
    assert.throws(() => controllerManagerOptions(['--port=http']), /--port: not a port number: http/);
    assert.throws(() => controllerManagerOptions(['--terminated-pod-gc-threshold=many']), /--terminated-pod-gc-threshold: expected a pod count, got "many"/);
  });

  it('turns node IPAM on with --allocate-node-cidrs and checks its range at once', () => {
    const off = controllerManagerOptions(['--cluster-cidr', '10.244.0.0/16']);
    assert.ok(off !== 'help' && off.nodeIpam === undefined);
    for (const flag of ['--allocate-node-cidrs', '--allocate-node-cidrs=true']) {
      const on = controllerManagerOptions([flag, '--cluster-cidr', '10.244.0.0/16', '--node-cidr-mask-size=25']);
      assert.ok(on !== 'help');
      assert.deepEqual(on.nodeIpam, { clusterCIDR: '10.244.0.0/16', nodeCIDRMaskSize: 25 });
    }
    assert.throws(() => controllerManagerOptions(['--allocate-node-cidrs']), /--allocate-node-cidrs needs --cluster-cidr/);
    assert.throws(() => controllerManagerOptions(['--allocate-node-cidrs', '--cluster-cidr', '10.0.0.0/8', '--node-cidr-mask-size', '26']), /more than 16 bits longer/);
  });
});
