/**
 * Services as a user makes them with kubectl 1.27 and 1.33: expose, create
 * service, get svc, and the allocation errors as upstream's apiserver words them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeKubeconfig } from '../cli/kubeconfig.js';
import { testApiServer } from './apiserver.js';
import { kubectlRunner } from './kubectl.js';

describe('kubectl: Service cluster IPs and node ports', function () {
  this.timeout(120_000);
  let server: Awaited<ReturnType<typeof testApiServer>>;
  let place: { dir: string; kubeconfig: string };
  before(async () => {
    server = await testApiServer();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flotilla-kubectl-svc-'));
    place = { dir, kubeconfig: writeKubeconfig(path.join(dir, 'kubeconfig'), server.httpUrl) };
  });
  after(() => server?.stop());

  it('shows the kubernetes Service at 10.96.0.1', async () => {
    const { k } = kubectlRunner('1.33', () => place);
    assert.match(await k('get', 'svc', 'kubernetes'), /^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s+/m);
  });

  ['1.27', '1.33'].forEach((v, i) => {
    it(`expose, create service and get svc with kubectl ${v}`, async () => {
      const { k, kFail } = kubectlRunner(v, () => place);
      const ns = `svc-${i}`;
      await k('create', 'namespace', ns);
      await k('-n', ns, 'create', 'deployment', 'web', '--image=busybox', '--replicas=3', '--', 'httpd', '-f', '-p', '8080');
      assert.match(await k('-n', ns, 'expose', 'deployment', 'web', '--port', '80', '--target-port', '8080'), /service\/web exposed/);
      assert.match(await k('-n', ns, 'get', 'svc', 'web'), /^web\s+ClusterIP\s+10\.(9[6-9]|10\d|11[01])\.\d+\.\d+\s+<none>\s+80\/TCP\s+/m);
      await k('-n', ns, 'create', 'service', 'nodeport', 'np', '--tcp=80:8080');
      assert.match(await k('-n', ns, 'get', 'svc', 'np'), /^np\s+NodePort\s+10\.\d+\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP\s+/m);
      const port = String(30700 + i);
      await k('-n', ns, 'create', 'service', 'nodeport', 'fixed', '--tcp=80', `--node-port=${port}`);
      assert.match(await kFail('-n', ns, 'create', 'service', 'nodeport', 'fixed-2', '--tcp=80', `--node-port=${port}`), new RegExp(`spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${port}: provided port is already allocated`));
      const ip = `10.96.0.${60 + i}`;
      await k('-n', ns, 'create', 'service', 'clusterip', 'chosen', '--tcp=80', `--clusterip=${ip}`);
      const clash = await kFail('-n', ns, 'create', 'service', 'clusterip', 'chosen-2', '--tcp=80', `--clusterip=${ip}`);
      assert.match(clash, new RegExp(`spec\\.clusterIPs: Invalid value: \\["${ip.replaceAll('.', '\\.')}"\\]: failed to allocate IP ${ip.replaceAll('.', '\\.')}: provided IP is already allocated`));
      await k('-n', ns, 'create', 'service', 'clusterip', 'headless', '--clusterip=None');
      await k('-n', ns, 'create', 'service', 'externalname', 'ext', '--external-name', 'db.example.com');
      const all = await k('-n', ns, 'get', 'svc');
      assert.match(all, /^headless\s+ClusterIP\s+None\s+<none>\s+<none>\s+/m);
      assert.match(all, /^ext\s+ExternalName\s+<none>\s+db\.example\.com\s+<none>\s+/m);
      assert.match(all, new RegExp(`^chosen\\s+ClusterIP\\s+${ip.replaceAll('.', '\\.')}\\s+`, 'm'));
      // deleting frees the port at once
      await k('-n', ns, 'delete', 'svc', 'fixed');
      await k('-n', ns, 'create', 'service', 'nodeport', 'fixed-2', '--tcp=80', `--node-port=${port}`);
    });
  });
});
