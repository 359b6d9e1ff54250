import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CreateNodesOp } from './config.js';
import { instantiate, makeAny, makeNode, makePod, RUN_LABEL } from './templates.js';

const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bench/scheduler-perf/config/templates');

describe('scheduler_perf templates', () => {
  it('deals labelNodePrepareStrategy values out in turn and keeps the template', () => {
    const op: CreateNodesOp = {
      opcode: 'createNodes',
      index: 0,
      count: 4,
      nodeTemplatePath: path.join(TEMPLATES, 'node-default.yaml'),
      labelNodePrepareStrategy: { labelKey: 'topology.kubernetes.io/zone', labelValues: ['moon-1', 'moon-2', 'moon-3'] },
    };
    const nodes = [0, 1, 2, 3].map((i) => makeNode(op, i));
    assert.deepEqual(nodes.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']), ['moon-1', 'moon-2', 'moon-3', 'moon-1']);
    assert.equal(nodes[0].metadata?.generateName, 'scheduler-perf-');
    assert.equal(nodes[0].metadata?.name, undefined);
    assert.deepEqual(nodes[0].status?.capacity, { pods: '110', cpu: '4', memory: '32Gi' });
    // each node is its own copy
    nodes[0].metadata!.labels!.x = 'y';
    assert.equal(nodes[1].metadata?.labels?.x, undefined);
  });

  it('gives each node a unique label value and extra allocatable', () => {
    const op: CreateNodesOp = {
      opcode: 'createNodes',
      index: 0,
      count: 2,
      uniqueNodeLabelStrategy: { labelKey: 'kubernetes.io/hostname' },
      nodeAllocatableStrategy: { nodeAllocatable: { 'example.com/gpu': '2' } },
    };
    const [a, b] = [makeNode(op, 0, 'run1'), makeNode(op, 1, 'run1')];
    assert.ok(a.metadata?.labels?.['kubernetes.io/hostname']);
    assert.notEqual(a.metadata?.labels?.['kubernetes.io/hostname'], b.metadata?.labels?.['kubernetes.io/hostname']);
    assert.equal(a.metadata?.labels?.[RUN_LABEL], 'run1');
    assert.deepEqual(a.status?.capacity, { pods: '110', cpu: '4', memory: '32Gi', 'example.com/gpu': '2' });
    assert.deepEqual(a.status?.allocatable, { pods: '110', cpu: '4', memory: '32Gi', 'example.com/gpu': '2' });
  });

  it('puts pods in their namespace with the template spec, or upstream default pod', () => {
    const spread = makePod(path.join(TEMPLATES, 'pod-with-topology-spreading.yaml'), 'namespace-2', 0, 10);
    assert.equal(spread.metadata?.namespace, 'namespace-2');
    assert.equal(spread.metadata?.generateName, 'spreading-pod-');
    assert.deepEqual(spread.metadata?.labels, { color: 'blue' });
    assert.equal(spread.spec?.topologySpreadConstraints?.[0].maxSkew, 5);
    const plain = makePod(undefined, 'ns', 0, 1);
    assert.deepEqual(plain.spec?.containers[0].resources?.requests, { cpu: '100m', memory: '500Mi' });
    const preemptor = makePod(path.join(TEMPLATES, 'pod-high-priority.yaml'), 'ns', 0, 1);
    assert.equal(preemptor.spec?.priorityClassName, 'high-priority');
  });

  it('gives each pod metadata of its own and shares the rest of the template, frozen', () => {
    const file = path.join(TEMPLATES, 'pod-with-topology-spreading.yaml');
    const a = makePod(file, 'namespace-a', 0, 2, 'run1');
    const b = makePod(file, 'namespace-b', 1, 2);
    assert.equal(a.metadata?.namespace, 'namespace-a');
    assert.equal(b.metadata?.namespace, 'namespace-b');
    assert.deepEqual(a.metadata?.labels, { color: 'blue', [RUN_LABEL]: 'run1' });
    assert.deepEqual(b.metadata?.labels, { color: 'blue' });
    a.metadata!.name = 'a';
    assert.equal(b.metadata?.name, undefined);
    assert.equal(a.spec, b.spec);
    assert.throws(() => ((a.spec!.containers[0] as { name: string }).name = 'x'), TypeError);
    assert.equal(makePod(file, 'namespace-c', 2, 3).spec?.containers[0].name, 'pause');
    // the template as instantiate gives it stays a copy of its own
    const copy = instantiate<any>(file);
    copy.spec.containers[0].name = 'changed';
    assert.equal(makePod(file, 'namespace-d', 3, 4).spec?.containers[0].name, 'pause');
  });

  it('replaces {{.Index}} and {{.Count}} per object', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'perf-tpl-'));
    const file = path.join(dir, 'cm.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{.Index}}\ndata:\n  of: "{{.Count}}"\n');
    const cm = instantiate<any>(file, 7, 9);
    assert.equal(cm.metadata.name, 'cm-7');
    assert.equal(cm.data.of, '9');
  });

  it('maps createAny objects to their API resource', () => {
    const pc = makeAny(path.join(TEMPLATES, 'priorityclass-high.yaml'), 0, 1, undefined, 'r');
    assert.deepEqual(pc.ref, { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' });
    assert.equal((pc.body as any).value, 10);
    const pod = makeAny(path.join(TEMPLATES, 'pod-large-cpu.yaml'), 0, 1, 'churn');
    assert.deepEqual(pod.ref, { group: '', version: 'v1', resource: 'pods', namespace: 'churn' });
    assert.equal(pod.body.metadata?.namespace, 'churn');
  });
});
