import assert from 'node:assert/strict';
import { ConfigError, defaultSchedulerConfiguration, effectiveDefaultConstraints, parseSchedulerConfiguration, type PodTopologySpreadArgs } from './config.js';
import { BadRequestError } from '../../lib/api/errors.js';

const HEAD = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n';

function fails(body: string, field: string): void {
  assert.throws(
    () => parseSchedulerConfiguration(HEAD + body),
    (e: unknown) => e instanceof ConfigError && e instanceof BadRequestError && e.field === field,
    `expected an error at ${field}`,
  );
}

describe('KubeSchedulerConfiguration', () => {
  it('defaults as upstream v1', () => {
    const c = parseSchedulerConfiguration(HEAD);
    assert.equal(c.profiles.length, 1);
    assert.equal(c.profiles[0].schedulerName, 'default-scheduler');
    assert.equal(c.podInitialBackoffSeconds, 1);
    assert.equal(c.podMaxBackoffSeconds, 10);
    assert.equal(c.percentageOfNodesToScore, undefined);
    assert.deepEqual(c.leaderElection, {
      leaderElect: true,
      leaseDuration: 15,
      renewDeadline: 10,
      retryPeriod: 2,
      resourceLock: 'leases',
      resourceName: 'kube-scheduler',
      resourceNamespace: 'kube-system',
    });
    const mp = c.profiles[0].plugins.multiPoint.enabled;
    assert.deepEqual(mp.find((p) => p.name === 'TaintToleration'), { name: 'TaintToleration', weight: 3 });
    assert.deepEqual(mp.find((p) => p.name === 'PodTopologySpread'), { name: 'PodTopologySpread', weight: 2 });
    assert.deepEqual(c.profiles[0].pluginConfig.NodeResourcesFit, { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }] } });
    assert.deepEqual(c.profiles[0].pluginConfig.InterPodAffinity, { hardPodAffinityWeight: 1 });
    assert.deepEqual(defaultSchedulerConfiguration().profiles[0].plugins, c.profiles[0].plugins);
  });

  it('reads profiles, percentageOfNodesToScore (global and per profile), backoff and leader election', () => {
    const c = parseSchedulerConfiguration(`${HEAD}percentageOfNodesToScore: 30
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
leaderElection:
  leaderElect: false
  leaseDuration: 1m
  renewDeadline: 30s
  retryPeriod: 500ms
  resourceName: my-scheduler
profiles:
- schedulerName: default-scheduler
- schedulerName: batch
  percentageOfNodesToScore: 70
`);
    assert.deepEqual(c.profiles.map((p) => [p.schedulerName, p.percentageOfNodesToScore]), [['default-scheduler', 30], ['batch', 70]]);
    assert.equal(c.podInitialBackoffSeconds, 2);
    assert.equal(c.podMaxBackoffSeconds, 20);
    assert.equal(c.leaderElection.leaderElect, false);
    assert.equal(c.leaderElection.leaseDuration, 60);
    assert.equal(c.leaderElection.retryPeriod, 0.5);
    assert.equal(c.leaderElection.resourceName, 'my-scheduler');
  });

  it('merges custom plugin sets over the defaults: disabled (one or "*"), weight overrides in place, additions appended', () => {
    const c = parseSchedulerConfiguration(`${HEAD}profiles:
- plugins:
    multiPoint:
      enabled: [{name: NodeResourcesFit, weight: 5}, {name: MyPlugin}]
      disabled: [{name: ImageLocality}]
    score:
      disabled: [{name: "*"}]
      enabled: [{name: NodeAffinity, weight: 9}]
`);
    const p = c.profiles[0].plugins;
    const names = p.multiPoint.enabled.map((e) => e.name);
    assert.ok(!names.includes('ImageLocality'));
    assert.equal(names.indexOf('NodeResourcesFit'), 7, 'an override keeps the default position');
    assert.deepEqual(p.multiPoint.enabled[7], { name: 'NodeResourcesFit', weight: 5 });
    assert.equal(names[names.length - 1], 'MyPlugin');
    assert.deepEqual(p.score, { enabled: [{ name: 'NodeAffinity', weight: 9 }], disabled: [{ name: '*' }] });
  });

  it('reads plugin args with their defaults', () => {
    const c = parseSchedulerConfiguration(`${HEAD}profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        resources: [{name: cpu, weight: 3}, {name: nvidia.com/gpu}]
        requestedToCapacityRatio:
          shape: [{utilization: 0, score: 10}, {utilization: 100, score: 0}]
  - name: NodeResourcesBalancedAllocation
    args: {resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}, {name: nvidia.com/gpu, weight: 1}]}
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]
  - name: InterPodAffinity
    args: {hardPodAffinityWeight: 50}
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms: [{matchExpressions: [{key: pool, operator: In, values: [a]}]}]
`);
    const pc = c.profiles[0].pluginConfig;
    assert.deepEqual(pc.NodeResourcesFit, {
      scoringStrategy: {
        type: 'RequestedToCapacityRatio',
        resources: [{ name: 'cpu', weight: 3 }, { name: 'nvidia.com/gpu', weight: 1 }],
        requestedToCapacityRatio: { shape: [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }] },
      },
    });
    assert.equal((pc.NodeResourcesBalancedAllocation as { resources: unknown[] }).resources.length, 3);
    assert.deepEqual(effectiveDefaultConstraints(pc.PodTopologySpread as PodTopologySpreadArgs), [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }]);
    assert.equal((pc.InterPodAffinity as { hardPodAffinityWeight: number }).hardPodAffinityWeight, 50);
    assert.ok((pc.NodeAffinity as { addedAffinity?: unknown }).addedAffinity);
    const sys = parseSchedulerConfiguration(HEAD).profiles[0].pluginConfig.PodTopologySpread as PodTopologySpreadArgs;
    assert.deepEqual(effectiveDefaultConstraints(sys).map((x) => [x.topologyKey, x.maxSkew]), [['kubernetes.io/hostname', 3], ['topology.kubernetes.io/zone', 5]]);
  });

  it('rejects invalid values, naming the field', () => {
    fails('percentageOfNodesToScore: 101\n', 'percentageOfNodesToScore');
    fails('podInitialBackoffSeconds: 0\n', 'podInitialBackoffSeconds');
    fails('podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n', 'podMaxBackoffSeconds');
    fails('leaderElection: {leaseDuration: 5s, renewDeadline: 10s}\n', 'leaderElection.leaseDuration');
    fails('profiles: [{schedulerName: a}, {schedulerName: a}]\n', 'profiles[1].schedulerName');
    fails('profiles: [{plugins: {score: {enabled: [{name: NodeAffinity, weight: 101}]}}}]\n', 'profiles[0].plugins.score.enabled[0].weight');
    fails('profiles: [{plugins: {score: {enabled: [{weight: 1}]}}}]\n', 'profiles[0].plugins.score.enabled[0].name');
    fails('profiles: [{plugins: {scoring: {}}}]\n', 'profiles[0].plugins.scoring');
    fails('profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: Random}}}]}]\n', 'profiles[0].pluginConfig[0].args.scoringStrategy.type');
    fails(
      'profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: [{utilization: 50, score: 1}, {utilization: 10, score: 2}]}}}}]}]\n',
      'profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape[1].utilization',
    );
    fails('profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {resources: [{name: cpu, weight: 0}]}}}]}]\n', 'profiles[0].pluginConfig[0].args.scoringStrategy.resources[0].weight');
    fails('profiles: [{pluginConfig: [{name: NodeResourcesBalancedAllocation, args: {resources: [{name: cpu, weight: 2}]}}]}]\n', 'profiles[0].pluginConfig[0].args.resources[0].weight');
    fails('profiles: [{pluginConfig: [{name: PodTopologySpread, args: {defaultConstraints: [{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule}]}}]}]\n', 'profiles[0].pluginConfig[0].args.defaultingType');
    fails('profiles: [{pluginConfig: [{name: InterPodAffinity, args: {hardPodAffinityWeight: 101}}]}]\n', 'profiles[0].pluginConfig[0].args.hardPodAffinityWeight');
    fails('profiles: [{pluginConfig: [{name: InterPodAffinity}, {name: InterPodAffinity}]}]\n', 'profiles[0].pluginConfig[1]');
    assert.throws(() => parseSchedulerConfiguration('apiVersion: v1\nkind: KubeSchedulerConfiguration\n'), (e: unknown) => e instanceof ConfigError && e.field === 'apiVersion');
    assert.throws(() => parseSchedulerConfiguration(': : :\n- x'), (e: unknown) => e instanceof ConfigError);
  });
});
