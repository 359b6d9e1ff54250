import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import YAML from 'yaml';
import { ApiClient, connectNats, Resources } from '../../lib/client/mod.js';
import { SCHEDULER_MAIN, startCluster } from '../../test/cluster.js';
import { parseConfig, type Workload } from './config.js';
import { thresholdFailure, WorkloadRunner } from './runner.js';
import { PodTracker } from './tracker.js';
import { connectionRole, gcMetricsSources } from './main.js';

const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bench/scheduler-perf/config');

function tinyWorkload(threshold?: number): Workload {
  const doc = YAML.parse(`
- name: Tiny
  defaultPodTemplatePath: templates/pod-default.yaml
  workloadTemplate:
  - opcode: createNodes
    countParam: $initNodes
    nodeTemplatePath: templates/node-default.yaml
    labelNodePrepareStrategy: {labelKey: topology.kubernetes.io/zone, labelValues: [z1, z2]}
  - opcode: createPods
    countParam: $initPods
  - opcode: createPods
    countParam: $measurePods
    podTemplatePath: templates/pod-with-topology-spreading.yaml
    collectMetrics: true
  - opcode: barrier
  workloads:
  - name: 20Nodes
    ${threshold !== undefined ? `threshold: ${threshold}` : ''}
    params: {initNodes: 20, initPods: 10, measurePods: 50}
`);
  return parseConfig(doc, TEMPLATES)[0].workloads[0];
}

describe('scheduler_perf threshold verdict', () => {
  const w = tinyWorkload(100);
  const tp = (avg: number) => [{ data: { Average: avg }, unit: 'pods/s', labels: { Metric: 'SchedulingThroughput' } }];
  it('fails a workload whose average throughput is below its threshold', () => {
    assert.equal(thresholdFailure(w, tp(99.5)), 'SchedulingThroughput Average 99.50 < threshold 100');
    assert.equal(thresholdFailure(w, tp(100)), undefined);
    assert.equal(thresholdFailure(tinyWorkload(), tp(1)), undefined, 'no threshold, no verdict');
  });
  it('judges by the overall rate when the op was too short for a sample', () => {
    const empty = [{ data: {}, unit: '', labels: { Metric: 'SchedulingThroughput' } }];
    assert.equal(thresholdFailure(w, empty, { op: 2, pods: 50, seconds: 1, podsPerSecond: 50 }), 'overall rate 50.00 pods/s < threshold 100');
    assert.equal(thresholdFailure(w, empty, { op: 2, pods: 500, seconds: 1, podsPerSecond: 500 }), undefined);
  });
});

// The end-to-end run needs the scheduler service in the build.
if (existsSync(SCHEDULER_MAIN)) {
  describe('scheduler_perf end to end (nats-server, apiserver and scheduler processes)', function () {
    this.timeout(120_000);

    it('runs a tiny workload through the API and reports upstream data items', async () => {
      const cluster = await startCluster({ scheduler: {} });
      const nc = await connectNats(cluster.natsUrl, { name: 'perf-e2e' });
      const client = new ApiClient(nc);
      const tracker = new PodTracker(client);
      try {
        await tracker.start();
        const lines: string[] = [];
        const w = tinyWorkload(1_000_000);
        const natsMonitor = { url: cluster.natsMonitorUrl!, roleOf: (name: string) => (name === 'perf-e2e' ? 'bench' : connectionRole(name)) };
        const gcMetrics = gcMetricsSources(cluster.httpUrl, cluster.schedulerMetricsUrl);
        const result = await new WorkloadRunner(w, { client, tracker, schedulerMetricsUrl: cluster.schedulerMetricsUrl, log: (l) => lines.push(l), natsMonitor, gcMetrics }).run();
        assert.equal(result.error, undefined, result.error);
        assert.deepEqual(result.measured && { op: result.measured.op, pods: result.measured.pods }, { op: 2, pods: 50 });

        // what the cluster holds: 20 labelled nodes, every measured pod bound to one of them
        const nodes = await client.list<any>(Resources.nodes);
        assert.equal(nodes.items.length, 20);
        const zones = new Map(nodes.items.map((n) => [n.metadata.name, n.metadata.labels['topology.kubernetes.io/zone']]));
        assert.deepEqual([...new Set(zones.values())].sort(), ['z1', 'z2']);
        const pods = await client.list<Pod>({ ...Resources.pods, namespace: 'namespace-2' });
        assert.equal(pods.items.length, 50);
        assert.ok(pods.items.every((p) => p.metadata?.generateName === 'spreading-pod-' && zones.has(p.spec?.nodeName ?? '')));
        // maxSkew 5 over two zones holds
        const perZone = { z1: 0, z2: 0 } as Record<string, number>;
        for (const p of pods.items) perZone[zones.get(p.spec!.nodeName!)!]++;
        assert.ok(Math.abs(perZone.z1 - perZone.z2) <= 5, JSON.stringify(perZone));

        const metrics = result.dataItems.map((d) => `${d.labels.Metric}${d.labels.result ? `/${d.labels.result}` : ''}`);
        assert.ok(metrics.includes('SchedulingThroughput'), metrics.join());
        const attempts = result.dataItems.find((d) => d.labels.Metric === 'scheduler_scheduling_attempt_duration_seconds' && d.labels.result === 'scheduled');
        assert.ok(attempts, `no attempt duration item in ${metrics.join()}`);
        assert.equal(attempts.unit, 'ms');
        assert.equal(attempts.labels.Name, 'Tiny/20Nodes');
        assert.ok(attempts.data.Average > 0 && attempts.data.Perc50 <= attempts.data.Perc99);
        // far below an impossible threshold
        assert.match(result.thresholdFailure ?? '', /< threshold 1000000/);
        assert.ok(lines.some((l) => /op 2 createPods: 50 pods created in namespace-2, all scheduled/.test(l)), lines.join('\n'));

        // NATS traffic of the measured op, from nats-server's monitoring: the bench sent the
        // creates, the scheduler its bindings, the apiserver the writes and watch frames
        const nats = result.measured?.natsPerPod;
        assert.ok(nats, `no NATS figures; notes: ${result.notes.join('; ')}`);
        assert.ok(nats.server.inMsgs > 0 && nats.server.outBytes > nats.server.outMsgs, JSON.stringify(nats.server));
        for (const role of ['bench', 'apiserver', 'scheduler']) assert.ok((nats.byRole[role]?.inBytes ?? 0) > 0, `${role} sent nothing: ${JSON.stringify(nats.byRole)}`);
        // both Node processes' collector histograms were read at the op's start and end
        const gc = result.measured?.gcPerPod;
        assert.deepEqual(Object.keys(gc ?? {}).sort(), ['apiserver', 'bench', 'scheduler'], `notes: ${result.notes.join('; ')}`);
        for (const [role, kinds] of Object.entries(gc!)) {
          assert.ok(kinds, `${role}'s garbage collection was not read: ${result.notes.join('; ')}`);
          for (const [kind, k] of Object.entries(kinds)) assert.ok(['minor', 'major', 'incremental', 'weakcb'].includes(kind) && k.usPerOp > 0 && k.perThousandOps > 0, `${role} ${kind} ${JSON.stringify(k)}`);
        }
        const win = result.measured!.window!;
        assert.ok(win.startUs < win.endUs && win.endUs <= Number(process.hrtime.bigint() / 1000n), JSON.stringify(win));
      } finally {
        await tracker.stop();
        client.close();
        await nc.close();
        await cluster.stop();
      }
    });
  });
}
