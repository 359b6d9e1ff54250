/**
 * Server-side apply as a user types it, with the oldest and newest kubectl this project
 * supports: create, a second manager's conflict, --force-conflicts, --show-managed-fields,
 * removal of a field no longer applied, and switching between client-side and server-side
 * apply in both directions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeKubeconfig } from '../cli/kubeconfig.js';
import { testApiServer } from './apiserver.js';
import { deploymentManifest, kubectlRunner } from './kubectl.js';

const CONFIGMAP = (data: Record<string, string>) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}
`;

for (const version of ['1.27', '1.33']) {
  describe(`kubectl ${version} server-side apply`, function () {
    this.timeout(120_000);
    let server: Awaited<ReturnType<typeof testApiServer>>;
    let dir: string;
    let kubeconfig: string;
    const { k, kFail } = kubectlRunner(version, () => ({ dir, kubeconfig }));
    const write = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
    const managersOf = async (resource: string) => {
      const obj = JSON.parse(await k('get', resource, '-o', 'json', '--show-managed-fields'));
      return (obj.metadata.managedFields ?? []).map((e: any) => `${e.manager}/${e.operation}`).sort();
    };

    before(async () => {
      server = await testApiServer();
      dir = mkdtempSync(path.join(os.tmpdir(), `flotilla-kubectl-ssa-${version}-`));
      kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), server.httpUrl);
    });
    after(async () => {
      await server.stop();
    });

    it('creates, conflicts with a second manager, forces, shows both managers and removes a field no longer applied', async () => {
      write('cm.yaml', CONFIGMAP({ key: 'a', other: 'x' }));
      assert.match(await k('apply', '--server-side', '-f', 'cm.yaml'), /configmap\/settings serverside-applied/);

      write('cm-other.yaml', CONFIGMAP({ key: 'b' }));
      const err = await kFail('apply', '--server-side', '--field-manager=other', '-f', 'cm-other.yaml');
      assert.match(err, /Apply failed with 1 conflict: conflict with "kubectl": \.data\.key/);
      assert.equal(await k('get', 'cm', 'settings', '-o', 'jsonpath={.data.key}'), 'a');

      assert.match(await k('apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', 'cm-other.yaml'), /serverside-applied/);
      assert.equal(await k('get', 'cm', 'settings', '-o', 'jsonpath={.data.key}'), 'b');

      assert.deepEqual(await managersOf('cm/settings'), ['kubectl/Apply', 'other/Apply']);
      const shown = await k('get', 'cm', 'settings', '-o', 'yaml', '--show-managed-fields');
      assert.match(shown, /manager: kubectl\n/);
      assert.match(shown, /manager: other\n/);
      assert.doesNotMatch(await k('get', 'cm', 'settings', '-o', 'yaml'), /managedFields/, 'kubectl hides managed fields by default');

      // kubectl no longer applies "other": it goes; "key" stays, the other manager owns it
      write('cm.yaml', CONFIGMAP({ extra: 'y' }));
      assert.match(await k('apply', '--server-side', '-f', 'cm.yaml'), /serverside-applied/);
      assert.deepEqual(JSON.parse(await k('get', 'cm', 'settings', '-o', 'jsonpath={.data}')), { extra: 'y', key: 'b' });
    });

    it('switches from client-side to server-side apply and back', async () => {
      write('web.yaml', deploymentManifest('nginx:1.25'));
      assert.match(await k('apply', '-f', 'web.yaml'), /deployment.apps\/web created/);
      assert.ok((await managersOf('deploy/web')).includes('kubectl-client-side-apply/Update'));

      write('web.yaml', deploymentManifest('nginx:1.26'));
      assert.match(await k('apply', '--server-side', '-f', 'web.yaml'), /serverside-applied/);
      assert.equal(await k('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'), 'nginx:1.26');
      assert.ok((await managersOf('deploy/web')).includes('kubectl/Apply'));
      const last = JSON.parse(await k('get', 'deploy', 'web', '-o', `jsonpath={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}`));
      assert.equal(last.spec.template.spec.containers[0].image, 'nginx:1.26', 'the server keeps the client-side annotation current');

      write('web.yaml', deploymentManifest('nginx:1.27', 3));
      assert.match(await k('apply', '-f', 'web.yaml'), /deployment.apps\/web configured/);
      assert.equal(await k('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'), 'nginx:1.27');
      assert.equal(await k('get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'), '3');

      write('web.yaml', deploymentManifest('nginx:1.28', 3));
      assert.match(await k('apply', '--server-side', '-f', 'web.yaml'), /serverside-applied/);
      assert.equal(await k('get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'), 'nginx:1.28');
    });
  });
}
