import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ConfigError, loadConfig, matchesLabelFilter, parseConfig, parseDurationMs, selectWorkloads, substituteParams, type CreateNodesOp, type CreatePodsOp } from './config.js';
import { instantiate } from './templates.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// the YAML files are not compiled: read them from the source tree
const SOURCE = path.resolve(HERE, '../../../bench/scheduler-perf');
const SHIPPED = path.join(SOURCE, 'config/performance-config.yaml');

const doc = YAML.parse(`
- name: SchedulingBasic
  labels: [performance]
  defaultPodTemplatePath: templates/pod-default.yaml
  workloadTemplate:
  - opcode: createNodes
    countParam: $initNodes
    labelNodePrepareStrategy:
      labelKey: topology.kubernetes.io/zone
      labelValues: [a, b]
  - opcode: createPods
    countParam: $initPods
  - opcode: createPods
    countParam: $measurePods
    podTemplatePath: ../other/pod.yaml
    collectMetrics: true
    namespace: measured
  - opcode: sleep
    durationParam: $pause
  workloads:
  - name: 500Nodes
    labels: [short]
    threshold: 100
    params: {initNodes: 500, initPods: 50, measurePods: 1000, pause: 1m30s}
  - name: 5Nodes
    params: {initNodes: 5, initPods: 1, measurePods: 2, pause: 250ms}
`);

describe('scheduler_perf config parsing', () => {
  it('resolves $params into each workload and paths against the config folder', () => {
    const [tc] = parseConfig(doc, '/cfg');
    const [big, small] = tc.workloads;
    assert.equal(big.fullName, 'SchedulingBasic/500Nodes');
    assert.deepEqual(big.labels, ['performance', 'short']);
    assert.equal(big.threshold, 100);
    const nodes = big.ops[0] as CreateNodesOp;
    assert.equal(nodes.count, 500);
    assert.deepEqual(nodes.labelNodePrepareStrategy, { labelKey: 'topology.kubernetes.io/zone', labelValues: ['a', 'b'] });
    const init = big.ops[1] as CreatePodsOp;
    assert.equal(init.count, 50);
    assert.equal(init.podTemplatePath, '/cfg/templates/pod-default.yaml', 'the default pod template fills in');
    assert.equal(init.namespace, undefined);
    const measured = big.ops[2] as CreatePodsOp;
    assert.equal(measured.count, 1000);
    assert.equal(measured.podTemplatePath, '/other/pod.yaml');
    assert.equal(measured.collectMetrics, true);
    assert.equal(measured.index, 2);
    assert.deepEqual(big.ops[3], { opcode: 'sleep', index: 3, durationMs: 90_000 });
    assert.equal((small.ops[0] as CreateNodesOp).count, 5);
    assert.deepEqual(small.ops[3], { opcode: 'sleep', index: 3, durationMs: 250 });
  });

  it('names the missing parameter', () => {
    const bad = structuredClone(doc);
    delete bad[0].workloads[1].params.initPods;
    assert.throws(() => parseConfig(bad, '/cfg', 'perf.yaml'), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /perf\.yaml: SchedulingBasic\/5Nodes: op 1: countParam refers to parameter \$initPods/);
      return true;
    });
  });

  it('rejects unknown opcodes and fields before anything runs', () => {
    const bad = structuredClone(doc);
    bad[0].workloadTemplate.push({ opcode: 'createPodSets', countParam: '$initPods' });
    assert.throws(() => parseConfig(bad, '/cfg'), /unsupported opcode "createPodSets"/);
    const bad2 = structuredClone(doc);
    bad2[0].workloadTemplate[1].persistentVolumeTemplatePath = 'pv.yaml';
    assert.throws(() => parseConfig(bad2, '/cfg'), /createPods does not support persistentVolumeTemplatePath/);
  });

  it('substitutes $name in any field and turns fooParam into foo', () => {
    assert.deepEqual(substituteParams({ countParam: '$n', namespace: '$ns', list: ['$n', 'x'], keep: '$$' }, { n: 3, ns: 'a' }, 'w'), {
      count: 3,
      namespace: 'a',
      list: [3, 'x'],
      keep: '$$',
    });
  });

  it('reads Go durations', () => {
    assert.equal(parseDurationMs('1h2m3s', 'x'), 3_723_000);
    assert.equal(parseDurationMs('1.5s', 'x'), 1500);
    assert.throws(() => parseDurationMs('5 seconds', 'x'), /cannot read duration/);
  });

  it('selects workloads by name, full name, test case and upstream label filter', () => {
    const cases = parseConfig(doc, '/cfg');
    assert.deepEqual(selectWorkloads(cases, { name: '5Nodes' }).map((w) => w.fullName), ['SchedulingBasic/5Nodes']);
    assert.deepEqual(selectWorkloads(cases, { name: 'SchedulingBasic/500Nodes' }).map((w) => w.name), ['500Nodes']);
    assert.equal(selectWorkloads(cases, { name: 'SchedulingBasic' }).length, 2);
    assert.deepEqual(selectWorkloads(cases, { labelFilter: 'performance,-short' }).map((w) => w.name), ['5Nodes']);
    assert.ok(matchesLabelFilter(['a', 'b'], '+a,b'));
    assert.ok(!matchesLabelFilter(['a'], 'a,b'));
    assert.ok(matchesLabelFilter([], ''));
  });

  it('ships configs whose every workload parses and every template instantiates', () => {
    const cases = loadConfig(SHIPPED);
    const names = cases.map((c) => c.name);
    for (const want of ['SchedulingBasic', 'SchedulingNodeAffinity', 'TopologySpreading', 'SchedulingPodAntiAffinity', 'Unschedulable', 'PreemptionBasic']) assert.ok(names.includes(want), want);
    const basic = cases.find((c) => c.name === 'SchedulingBasic')!;
    const big = basic.workloads.find((w) => w.name === '5000Nodes')!;
    assert.deepEqual(big.params, { initNodes: 5000, initPods: 1000, measurePods: 10000 });
    assert.equal(big.threshold, 680);
    const large = basic.workloads.find((w) => w.name === '100000Nodes_1000000Pods')!;
    assert.deepEqual([(large.ops[0] as CreateNodesOp).count, (large.ops[2] as CreatePodsOp).count], [100_000, 1_000_000]);
    for (const w of cases.flatMap((c) => c.workloads)) {
      for (const op of w.ops) {
        const files = [
          'podTemplatePath' in op ? op.podTemplatePath : undefined,
          'nodeTemplatePath' in op ? op.nodeTemplatePath : undefined,
          'templatePath' in op ? op.templatePath : undefined,
          ...('templatePaths' in op ? op.templatePaths : []),
        ].filter((f): f is string => !!f);
        for (const f of files) {
          assert.ok(existsSync(f), `${w.fullName} op ${op.index}: ${f} is missing`);
          assert.ok(instantiate(f).kind, f);
        }
      }
    }
  });
});
