import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError } from './containerconfig.js';
import { containerSecurity, sandboxSecurity } from './securitycontext.js';

describe('kubelet securityContext', () => {
  const pod = (spec: Partial<NonNullable<Pod['spec']>>): Pod => ({ metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { containers: [], ...spec } });

  it('takes the container’s user and group over the pod’s, and the pod’s groups with fsGroup', () => {
    const p = pod({ securityContext: { runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000], fsGroup: 4000 } });
    assert.deepEqual(containerSecurity(p, { name: 'c', securityContext: { runAsUser: 1500 } }), { runAsUser: 1500, runAsGroup: 2000, supplementalGroups: [3000, 4000] });
    assert.deepEqual(sandboxSecurity(p), { runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000, 4000], namespaceOptions: { network: 'POD', pid: 'POD', ipc: 'POD' } });
    assert.equal(containerSecurity(pod({}), { name: 'c' }), undefined);
  });

  it('maps readOnlyRootFilesystem, capabilities, privileged and allowPrivilegeEscalation', () => {
    const c = { name: 'c', securityContext: { readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, allowPrivilegeEscalation: false } };
    assert.deepEqual(containerSecurity(pod({}), c), { readonlyRootfs: true, capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] }, noNewPrivs: true });
    const priv = { name: 'c', securityContext: { privileged: true, allowPrivilegeEscalation: false } };
    assert.deepEqual(containerSecurity(pod({}), priv), { privileged: true });
    assert.deepEqual(sandboxSecurity(pod({ containers: [priv], hostNetwork: true, shareProcessNamespace: true, hostIPC: true })), {
      privileged: true,
      namespaceOptions: { network: 'NODE', pid: 'POD', ipc: 'NODE' },
    });
    assert.equal(sandboxSecurity(pod({ hostPID: true })).namespaceOptions?.pid, 'NODE');
  });

  it('refuses runAsUser 0 with runAsNonRoot', () => {
    assert.throws(() => containerSecurity(pod({ securityContext: { runAsNonRoot: true } }), { name: 'c', securityContext: { runAsUser: 0 } }), (e: Error) => e instanceof ContainerConfigError && /breaks non-root policy/.test(e.message));
  });
});
