/**
 * Every query docs/monitoring.md lists under "Dashboard queries" answers with series
 * from the Prometheus `flotilla up` runs (the real Debian binary), on a cluster of hollow
 * nodes with a Deployment, a DaemonSet, a StatefulSet and a Job. The queries are read
 * from the document, so the document and this test cannot drift apart.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, readState } from '../cli/datafolder.js';
import { startDashboardCluster, type DashboardCluster } from './browser.js';
import { waitFor } from './wait.js';

interface DocQuery {
  family: string;
  panel: string;
  query: string;
}

/** The queries of the `promql` blocks in the "Dashboard queries" section, with their family and panel. */
export function documentedQueries(markdown: string): DocQuery[] {
  const start = markdown.indexOf('\n## Dashboard queries\n');
  assert.ok(start >= 0, 'docs/monitoring.md has a "## Dashboard queries" section');
  const rest = markdown.slice(start + 1);
  const end = rest.indexOf('\n## ', 3);
  const section = end < 0 ? rest : rest.slice(0, end);
  const out: DocQuery[] = [];
  let family = '';
  let panel = '';
  let inBlock = false;
  for (const line of section.split('\n')) {
    if (line.startsWith('### ')) family = line.slice(4).trim();
    else if (line.trim() === '```promql') inBlock = true;
    else if (inBlock && line.trim() === '```') inBlock = false;
    else if (inBlock && line.startsWith('#')) panel = line.replace(/^#\s*/, '');
    else if (inBlock && line.trim()) out.push({ family, panel, query: line.trim() });
  }
  return out;
}

const WORKLOADS = `
apiVersion: v1
kind: Namespace
metadata: {name: dash}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: dash}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: busybox
        resources: {requests: {cpu: 100m, memory: 32Mi}, limits: {cpu: 200m, memory: 64Mi}}
      - name: side
        image: busybox
        resources: {requests: {cpu: 50m, memory: 16Mi}, limits: {cpu: 100m, memory: 32Mi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: dash}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: agent, image: busybox, resources: {requests: {cpu: 10m, memory: 8Mi}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: dash}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: busybox, resources: {requests: {cpu: 10m, memory: 8Mi}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: dash}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: once, image: busybox}
`;

interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

describe('dashboard queries against Prometheus on a live cluster', function () {
  this.timeout(180_000);
  const docs = readFileSync(path.join(PROJECT_ROOT, 'docs', 'monitoring.md'), 'utf8');
  const queries = documentedQueries(docs);
  let cluster: DashboardCluster | undefined;
  let prometheus = '';
  const query = async (q: string): Promise<PromResult> => {
    const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(q)}`);
    return (await res.json()) as PromResult;
  };

  before(async () => {
    cluster = await startDashboardCluster({
      name: 'dashboards',
      upArgs: ['--no-real-node', '--hollow-nodes', '2', '--scrape-interval', '1s', '--prometheus-port', '0'],
      manifest: WORKLOADS,
      browser: false,
    });
    prometheus = readState(cluster.dataDir)?.prometheusUrl ?? '';
    assert.match(prometheus, /^http:\/\/127\.0\.0\.1:\d+$/, `flotilla up ran Prometheus:\n${cluster.up.output()}`);
  });
  after(async () => {
    await cluster?.stop();
  });

  it('the document lists queries for each dashboard family', () => {
    const families = new Set(queries.map((q) => q.family));
    for (const f of ['scheduler', 'apiserver', 'kubelet', 'workloads', 'pods', 'nodes']) assert.ok(families.has(f), `a "### ${f}" block in docs/monitoring.md`);
    assert.ok(queries.length >= 40, `${queries.length} queries`);
  });

  it('Prometheus scrapes every component it discovers, under the jobs the dashboards select', async () => {
    const jobs = await waitFor('the scrape targets up', async () => {
      const r = await query('up == 1');
      const got = new Set((r.data?.result as Array<{ metric: { job: string } }>).map((s) => s.metric.job));
      // logging and metrics-server come through the flotilla-addons scrape config, with their announced job
      return ['apiserver', 'kube-scheduler', 'kube-controller-manager', 'kube-state-metrics', 'kubelet', 'logging', 'metrics-server'].every((j) => got.has(j)) ? got : undefined;
    }, 60_000);
    assert.ok(jobs.size >= 7);
  });

  it('scrapes the hollow-kubelet process once per path, whatever number of nodes it carries', async () => {
    // every kubelet target, up once its last scrape succeeded (one can fail on a loaded machine)
    const kubelets = await waitFor('both nodes in kubelet_node_name, every kubelet target up', async () => {
      const r = await query('up{job="kubelet"}');
      const nodes = await query('sum(kubelet_node_name{job="kubelet", metrics_path="/metrics"})');
      const targets = (r.data?.result ?? []) as Array<{ metric: Record<string, string>; value: [number, string] }>;
      const up = targets.length > 0 && targets.every((t) => t.value[1] === '1');
      // `up` and kubelet_node_name are read one after the other: wait until both paths have a sample, so the
      // first answer cannot predate the /metrics target's first scrape (a fresh-clone CI saw only /metrics/cadvisor)
      const paths = new Set(targets.map((t) => t.metric.metrics_path));
      return up && paths.has('/metrics') && paths.has('/metrics/cadvisor') && Number((nodes.data?.result[0] as { value: [number, string] } | undefined)?.value[1]) === 2 ? targets : undefined;
    }, 60_000);
    assert.deepEqual(kubelets.map((k) => k.metric.metrics_path).sort(), ['/metrics', '/metrics/cadvisor']);
    assert.equal(new Set(kubelets.map((k) => k.metric.instance)).size, 1, 'one instance: the process');
  });

  it('every documented query returns series', async () => {
    const pod = await waitFor('a Running web pod in kube-state-metrics', async () => {
      const r = await query('kube_pod_status_phase{namespace="dash", phase="Running"} == 1 and on (namespace, pod) kube_pod_owner{owner_kind="ReplicaSet"}');
      return (r.data?.result as Array<{ metric: { pod: string } }> | undefined)?.[0]?.metric.pod;
    }, 60_000);
    const node = await waitFor(`the node of ${pod}`, async () => {
      const r = await query(`kube_pod_info{namespace="dash", pod="${pod}"}`);
      return (r.data?.result as Array<{ metric: { node: string } }> | undefined)?.[0]?.metric.node || undefined;
    });
    const vars: Record<string, string> = {
      $__rate_interval: '1m',
      $cluster: '',
      $instance: '.+',
      $namespace: 'dash',
      $pod: pod,
      $node: node,
      $workload: 'web',
      $type: 'deployment',
    };
    const substitute = (q: string) => q.replace(/\$__rate_interval|\$[a-z]+/g, (v) => {
      assert.ok(v in vars, `unknown variable ${v} in: ${q}`);
      return vars[v]!;
    });
    // the rates need two scrapes and the recording rules an evaluation: each query gets time
    const deadline = Date.now() + 60_000;
    const results = await Promise.all(
      queries.map(async (q) => {
        const text = substitute(q.query);
        let last: PromResult | undefined;
        for (;;) {
          last = await query(text);
          if (last.status === 'success' && (last.data?.result.length ?? 0) > 0) return undefined;
          if (last.status !== 'success' || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 1000));
        }
        return `${q.family} / ${q.panel}: ${text}\n  -> ${last?.status === 'success' ? 'no series' : last?.error}`;
      }),
    );
    const failed = results.filter(Boolean);
    assert.deepEqual(failed, [], `${failed.length} of ${queries.length} documented queries returned no series:\n${failed.join('\n')}`);
  });
});
