import assert from 'node:assert/strict';
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { NotFoundError } from '../../lib/api/errors.js';
import { ContainerConfigError } from './containerconfig.js';
import { expandCommandAndArgs, makeEnvironment, type EnvSources } from './envvars.js';

describe('kubelet container environment', () => {
  const configMaps: Record<string, ConfigMap> = {
    app: { data: { MODE: 'prod', LEVEL: 'debug', 'bad key': 'x', '1ST': 'y' } },
  };
  const secrets: Record<string, Secret> = {
    creds: { data: { user: Buffer.from('admin').toString('base64'), PASS: Buffer.from('s3cret').toString('base64') } },
  };
  const invalid: string[] = [];
  const src: EnvSources = {
    configMap: async (_ns, name) => configMaps[name] ?? Promise.reject(new NotFoundError({ resource: 'configmap' }, name)),
    secret: async (_ns, name) => secrets[name] ?? Promise.reject(new NotFoundError({ resource: 'secret' }, name)),
    allocatable: { cpu: '2', memory: '1Gi' },
    podIP: '10.1.2.3',
    hostIP: '192.168.1.1',
    invalidKeys: (m) => invalid.push(m),
  };
  const pod: Pod = { metadata: { name: 'p', namespace: 'ns1', uid: 'u1' }, spec: { containers: [] } };
  const env = async (c: Partial<Container>) => Object.fromEntries((await makeEnvironment(pod, { name: 'c', ...c }, src)).map((e) => [e.key, e.value]));

  it('takes envFrom with prefixes, skips invalid names with a report, then env overrides in order', async () => {
    invalid.length = 0;
    const got = await env({
      envFrom: [{ configMapRef: { name: 'app' } }, { secretRef: { name: 'creds' }, prefix: 'DB_' }, { configMapRef: { name: 'gone', optional: true } }],
      env: [
        { name: 'MODE', value: 'test' },
        { name: 'URL', value: '$(DB_user)@$(POD_IP):$(MISSING)/$$(MODE)' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'LATE', value: '$(POD_IP)' },
      ],
    });
    assert.deepEqual(got, { MODE: 'test', LEVEL: 'debug', DB_user: 'admin', DB_PASS: 's3cret', URL: 'admin@$(POD_IP):$(MISSING)/$(MODE)', POD_IP: '10.1.2.3', LATE: '10.1.2.3' });
    assert.deepEqual(invalid, ['Keys [1ST, bad key] from the EnvFrom configMap ns1/app were skipped since they are considered invalid environment variable names.']);
  });

  it('reads configMapKeyRef, secretKeyRef and resourceFieldRef, skipping optional misses', async () => {
    const got = await env({
      resources: { limits: { memory: '64Mi' } },
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'app', key: 'LEVEL' } } },
        { name: 'B', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASS' } } },
        { name: 'C', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
        { name: 'D', valueFrom: { configMapKeyRef: { name: 'gone', key: 'x', optional: true } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      ],
    });
    assert.deepEqual(got, { A: 'debug', B: 's3cret', MEM: '64', CPU: '2000' });
  });

  it('fails with upstream’s messages when a required object or key is missing', async () => {
    const fails = (c: Partial<Container>, message: string) =>
      assert.rejects(env(c), (e: Error) => e instanceof ContainerConfigError && e.message === message);
    await fails({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }] }, 'configmap "gone" not found');
    await fails({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] }, 'secret "gone" not found');
    await fails({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'app', key: 'k' } } }] }, "couldn't find key k in ConfigMap ns1/app");
    await fails({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] }, "couldn't find key k in Secret ns1/creds");
    await fails({ envFrom: [{ configMapRef: { name: 'gone' } }] }, 'configmap "gone" not found');
  });

  it('expands command and args against the environment', () => {
    const envs = [{ key: 'GREETING', value: 'hi' }];
    assert.deepEqual(expandCommandAndArgs({ name: 'c', command: ['echo', '$(GREETING)'], args: ['$$(GREETING)', '$(NOPE)'] }, envs), {
      command: ['echo', 'hi'],
      args: ['$(GREETING)', '$(NOPE)'],
    });
  });
});
