/**
 * A kubectl session driven from the tests, as a user would type it, with the oldest and
 * newest kubectl this project supports (kubectl.1.27 and kubectl.1.33, shipped beside
 * the stock kubectl on PATH).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeKubeconfig } from '../cli/kubeconfig.js';
import type { RunningControllerManager } from '../services/controller-manager/server.js';
import { testApiServer } from './apiserver.js';
import { deploymentManifest, kubectlBinary, kubectlRunner } from './kubectl.js';
import { startControllers } from '../services/controller-manager/testing/controllers.js';

const run = promisify(execFile);

const NODE = `apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {kubernetes.io/hostname: node-1, node-role.kubernetes.io/control-plane: ""}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "True", reason: KubeletReady, message: ready, lastHeartbeatTime: "2026-11-24T10:00:00Z", lastTransitionTime: "2026-11-24T10:00:00Z"}
`;

describe('kubectl api-resources on every supported version', function () {
  this.timeout(120_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let kubeconfig: string;
  before(async () => {
    server = await testApiServer();
    kubeconfig = writeKubeconfig(path.join(mkdtempSync(path.join(os.tmpdir(), 'flotilla-kubectl-')), 'kubeconfig'), server.httpUrl);
  });
  after(async () => {
    await server.stop();
  });
  for (const v of ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33', 'stock']) {
    it(`lists all 23 kinds with kubectl ${v}`, async () => {
      const bin = v === 'stock' ? 'kubectl' : kubectlBinary(v);
      const { stdout } = await run(bin, ['--kubeconfig', kubeconfig, 'api-resources', '--no-headers', '-o', 'name']);
      // other suites in the same run register test-only groups (*.test.flotilla.io)
      const names = stdout.trim().split('\n').filter((n) => !n.endsWith('.test.flotilla.io')).sort();
      assert.deepEqual(names, [
        'apiservices.apiregistration.k8s.io', 'configmaps', 'controllerrevisions.apps', 'cronjobs.batch', 'daemonsets.apps', 'deployments.apps', 'endpoints',
        'endpointslices.discovery.k8s.io', 'events', 'events.events.k8s.io', 'jobs.batch', 'leases.coordination.k8s.io',
        'namespaces', 'nodes', 'poddisruptionbudgets.policy', 'pods', 'podtemplates', 'priorityclasses.scheduling.k8s.io',
        'replicasets.apps', 'secrets', 'serviceaccounts', 'services', 'statefulsets.apps',
      ]);
    });
  }
});

for (const version of ['1.27', '1.33']) {
  describe(`kubectl ${version} session`, function () {
    this.timeout(120_000);
    let server: Awaited<ReturnType<typeof testApiServer>>;
    // empties namespaces being deleted, so `kubectl delete namespace` completes
    let controllers: RunningControllerManager;
    let dir: string;
    let kubeconfig: string;
    const bin = () => kubectlBinary(version);
    const { k, kFail } = kubectlRunner(version, () => ({ dir, kubeconfig }));

    before(async () => {
      server = await testApiServer({ bookmarkIntervalMs: 1000 });
      controllers = await startControllers(server.natsUrl, ['namespace-controller']);
      dir = mkdtempSync(path.join(os.tmpdir(), `flotilla-kubectl-${version}-`));
      kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), server.httpUrl);
    });
    after(async () => {
      await controllers?.stop();
      await server.stop();
    });

    it('reports client and server versions', async () => {
      const out = await k('version');
      assert.match(out, new RegExp(`Client Version: .*v${version.replace('.', '\\.')}\\.\\d+`));
      assert.match(out, /Server Version: .*v1\.\d+\.\d+-flotilla/);
    });

    it('lists every kind in api-resources', async () => {
      const out = await k('api-resources');
      for (const line of [
        /^pods\s+po\s+v1\s+true\s+Pod$/m,
        /^nodes\s+no\s+v1\s+false\s+Node$/m,
        /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m,
        /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob$/m,
        /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m,
        /^priorityclasses\s+pc\s+scheduling\.k8s\.io\/v1\s+false\s+PriorityClass$/m,
        /^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice$/m,
        /^events\s+ev\s+events\.k8s\.io\/v1\s+true\s+Event$/m,
      ]) {
        assert.match(out, line);
      }
    });

    it('sorts events by lastTimestamp when none has one (events.k8s.io events), as upstream serves unset times as null', async () => {
      await k('create', 'namespace', 'evsort');
      const event = (name: string, reason: string, eventTime: string) => ({
        apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name, namespace: 'evsort' },
        regarding: { kind: 'Pod', name: 'p', namespace: 'evsort' }, reason, note: 'new style', type: 'Normal', action: 'Act',
        eventTime, reportingController: 'test', reportingInstance: 'test-1',
      });
      writeFileSync(
        path.join(dir, 'events.json'),
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [event('sort-a', 'FirstReason', '2026-01-01T00:00:01.000000Z'), event('sort-b', 'SecondReason', '2026-01-01T00:00:02.000000Z')] }),
      );
      await k('create', '-f', 'events.json');
      const sorted = await k('-n', 'evsort', 'get', 'events', '--sort-by=.lastTimestamp');
      assert.match(sorted, /FirstReason/);
      assert.match(sorted, /SecondReason/);
      assert.equal(JSON.parse(await k('-n', 'evsort', 'get', 'event', 'sort-a', '-o', 'json')).lastTimestamp, null);
    });

    it('applies a manifest three times: created, configured, unchanged; diff shows only the real change', async () => {
      writeFileSync(path.join(dir, 'web.yaml'), deploymentManifest('nginx:1.25'));
      assert.match(await k('apply', '-f', 'web.yaml'), /deployment.apps\/web created/);
      assert.match(await k('apply', '-f', 'web.yaml'), /deployment.apps\/web unchanged/);
      writeFileSync(path.join(dir, 'web.yaml'), deploymentManifest('nginx:1.26'));
      let diff = '';
      try {
        await run(bin(), ['--kubeconfig', kubeconfig, 'diff', '-f', 'web.yaml'], { cwd: dir });
      } catch (e: any) {
        diff = String(e.stdout); // kubectl diff exits 1 when there are differences
      }
      const changed = diff.split('\n').filter((l) => /^[-+] /.test(l)).map((l) => l.replace(/\s+/g, ' ').trim());
      assert.deepEqual(changed, ['- generation: 1', '+ generation: 2', '- image: nginx:1.25', '+ image: nginx:1.26']);
      assert.match(await k('apply', '-f', 'web.yaml'), /deployment.apps\/web configured/);
      assert.match(await k('apply', '-f', 'web.yaml'), /deployment.apps\/web unchanged/);
      assert.equal(await k('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'), 'nginx:1.26');
    });

    it('creates from generators and files, and gets them as tables, wide, yaml, jsonpath, across namespaces', async () => {
      await k('create', 'namespace', 'team');
      await k('create', 'configmap', 'cfg', '-n', 'team', '--from-literal=a=b');
      await k('create', 'secret', 'generic', 'pw', '-n', 'team', '--from-literal=password=s3cret');
      await k('create', 'serviceaccount', 'robot', '-n', 'team');
      const token = (await k('create', 'token', 'robot', '-n', 'team')).trim();
      assert.match(token, /^[-\w]+\.[-\w]+\.[-\w]+$/);
      assert.equal(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub, 'system:serviceaccount:team:robot');
      await k('create', 'service', 'clusterip', 'api', '-n', 'team', '--tcp=80:8080');
      await k('create', 'deployment', 'gen', '-n', 'team', '--image=nginx', '--replicas=3');
      await k('create', 'job', 'once', '-n', 'team', '--image=busybox', '--', 'true');
      writeFileSync(path.join(dir, 'node.yaml'), NODE);
      await k('create', '-f', 'node.yaml');
      await k('run', 'p1', '-n', 'team', '--image=nginx', '--labels=app=p,tier=fe');
      await k('run', 'p2', '-n', 'team', '--image=nginx', '--labels=app=p,tier=be');

      const nodes = await k('get', 'nodes');
      assert.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
      assert.match(nodes, /^node-1\s+Ready\s+control-plane\s+\S+/m);
      const pods = await k('get', 'pods', '-n', 'team', '-o', 'wide');
      assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
      assert.match(pods, /^p1\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>/m);
      const deps = await k('get', 'deployments', '-n', 'team');
      assert.match(deps, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/m);
      assert.match(deps, /^gen\s+0\/3\s+0\s+0\s+/m);
      const svc = await k('get', 'svc', '-n', 'team');
      assert.match(svc, /^api\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP\s+/m);
      const all = await k('get', 'configmaps,secrets,serviceaccounts', '-A');
      assert.match(all, /^team\s+configmap\/cfg\s+1\s+/m);
      assert.match(all, /^team\s+secret\/pw\s+Opaque\s+1\s+/m);
      assert.match(all, /^team\s+serviceaccount\/robot\s+/m);
      const y = await k('get', 'secret', 'pw', '-n', 'team', '-o', 'yaml');
      assert.match(y, new RegExp(`password: ${Buffer.from('s3cret').toString('base64')}`));
      assert.equal(await k('get', 'cm', 'cfg', '-n', 'team', '-o', 'jsonpath={.data.a}'), 'b');
      assert.equal(await k('get', 'pods', '-n', 'team', '-l', 'tier=fe', '-o', 'name'), 'pod/p1\n');
      assert.equal(await k('get', 'pods', '-n', 'team', '-l', 'tier in (fe,be),app=p', '-o', 'name'), 'pod/p1\npod/p2\n');
      assert.equal(await k('get', 'pods', '-A', '--field-selector', 'metadata.name=p2', '-o', 'name'), 'pod/p2\n');
      const chunked = await k('get', 'pods,configmaps', '-n', 'team', '--chunk-size=1', '-o', 'name');
      assert.deepEqual(chunked.trim().split('\n').sort(), ['configmap/cfg', 'pod/p1', 'pod/p2'].concat(chunked.includes('kube-root') ? ['configmap/kube-root-ca.crt'] : []).sort());
    });

    it('describes a pod and explains fields', async () => {
      const d = await k('describe', 'pod', 'p1', '-n', 'team');
      assert.match(d, /^Name:\s+p1$/m);
      assert.match(d, /^Namespace:\s+team$/m);
      assert.match(d, /^Status:\s+Pending$/m);
      assert.match(d, /Image:\s+nginx/);
      const e = await k('explain', 'pod.spec.containers');
      assert.match(e, /KIND:\s+Pod/);
      assert.match(e, /FIELD:\s+containers/);
      assert.match(e, /image\s+<string>/);
    });

    it('patches with json, merge and strategic patches, labels, annotates and scales', async () => {
      await k('patch', 'configmap', 'cfg', '-n', 'team', '--type=json', '-p', '[{"op":"add","path":"/data/c","value":"d"}]');
      await k('patch', 'configmap', 'cfg', '-n', 'team', '--type=merge', '-p', '{"data":{"a":null,"e":"f"}}');
      assert.equal(await k('get', 'cm', 'cfg', '-n', 'team', '-o', 'jsonpath={.data}'), '{"c":"d","e":"f"}');
      await k('patch', 'deployment', 'gen', '-n', 'team', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}');
      assert.equal(await k('get', 'deploy', 'gen', '-n', 'team', '-o', 'jsonpath={.spec.template.spec.containers[*].name}'), 'sidecar nginx');
      await k('label', 'pod', 'p1', '-n', 'team', 'release=canary');
      await k('annotate', 'node', 'node-1', 'owner=ops');
      await k('label', 'node', 'node-1', 'zone=a');
      assert.equal(await k('get', 'pod', 'p1', '-n', 'team', '-o', 'jsonpath={.metadata.labels.release}'), 'canary');
      assert.equal(await k('get', 'node', 'node-1', '-o', 'jsonpath={.metadata.annotations.owner}/{.metadata.labels.zone}'), 'ops/a');
      assert.match(await k('scale', 'deployment', 'gen', '-n', 'team', '--replicas=5'), /scaled/);
      assert.equal(await k('get', 'deploy', 'gen', '-n', 'team', '-o', 'jsonpath={.spec.replicas}'), '5');
      const err = await kFail('patch', 'configmap', 'cfg', '-n', 'team', '--type=json', '-p', '[{"op":"test","path":"/data/c","value":"nope"}]');
      assert.match(err, /request is invalid.*Test operation failed/);
    });

    it('watches: get -w prints the table row of each change', async () => {
      const child = spawn(bin(), ['--kubeconfig', kubeconfig, 'get', 'configmaps', '-n', 'team', '-w'], { cwd: dir });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      try {
        const deadline = Date.now() + 20_000;
        while (!/cfg/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        await k('create', 'configmap', 'watched', '-n', 'team', '--from-literal=x=1', '--from-literal=y=2');
        while (!/watched/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      } finally {
        child.kill();
      }
      assert.match(out, /^NAME\s+DATA\s+AGE$/m);
      assert.match(out, /^watched\s+2\s+\S+$/m);
    });

    it('deletes objects; one held by a finalizer stays until the finalizer is removed', async () => {
      await k('create', 'configmap', 'held', '-n', 'team');
      await k('patch', 'configmap', 'held', '-n', 'team', '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/keep"]}}');
      await k('delete', 'configmap', 'held', '-n', 'team', '--wait=false');
      assert.match(await k('get', 'configmap', 'held', '-n', 'team', '-o', 'jsonpath={.metadata.deletionTimestamp}'), /^\d{4}-/);
      await k('patch', 'configmap', 'held', '-n', 'team', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]');
      assert.match(await kFail('get', 'configmap', 'held', '-n', 'team'), /NotFound|not found/);
      for (const [kind, name] of [['deployment', 'web'], ['svc', 'api'], ['secret', 'pw'], ['pod', 'p2']]) {
        const ns = kind === 'deployment' && name === 'web' ? 'default' : 'team';
        assert.match(await k('delete', kind, name, '-n', ns), /deleted/);
      }
      assert.match(await k('delete', 'node', 'node-1'), /deleted/);
      assert.match(await k('delete', 'namespace', 'team'), /deleted/);
      assert.match(await kFail('get', 'namespace', 'team'), /not found/);
    });

    it('deletes with a label selector exactly what it selects (kubectl delete -l, and the raw delete-collection)', async () => {
      await k('create', 'namespace', 'sel');
      for (const [name, team] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b'], ['none', '']]) {
        await k('create', 'configmap', name, '-n', 'sel');
        if (team) await k('label', 'configmap', name, '-n', 'sel', `team=${team}`);
      }
      const left = async () => (await k('get', 'configmaps', '-n', 'sel', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ').filter((n) => n !== 'kube-root-ca.crt').sort();
      const out = await k('delete', 'configmaps', '-n', 'sel', '-l', 'team=a');
      assert.match(out, /configmap "a1" deleted/);
      assert.match(out, /configmap "a2" deleted/);
      assert.deepEqual(await left(), ['b1', 'none']);
      // the DELETE on the collection itself, which kubectl delete -l does not use
      const raw = JSON.parse(await k('delete', '--raw', '/api/v1/namespaces/sel/configmaps?labelSelector=team%3Db'));
      assert.equal(raw.kind, 'ConfigMapList');
      assert.deepEqual(raw.items.map((i: any) => i.metadata.name), ['b1']);
      assert.deepEqual(await left(), ['none']);
      assert.match(await kFail('delete', '--raw', '/api/v1/namespaces/sel/configmaps?labelSelector=team+in+(a'), /unable to parse requirement/);
      assert.match(await kFail('delete', 'configmaps', '-n', 'sel', '-l', 'team in (a'), /unable to parse requirement/);
      assert.deepEqual(await left(), ['none']);
    });
  });
}
