import assert from 'node:assert/strict';
import './kinds/mod.js';
import { applySchemaDefaults, applySchemaDefaultsWalked } from './defaults.js';
import { randomEdits } from '../../test/randomedits.js';

const POD = 'io.k8s.api.core.v1.Pod';

/** a pod whose containers, ports, volumes and init containers can take defaults */
function pod(): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      containers: [
        { name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
        { name: 'b', image: 'busybox' },
      ],
      initContainers: [{ name: 'i', image: 'busybox' }],
      volumes: [{ name: 'v', emptyDir: {} }, { name: 's', secret: { secretName: 's' } }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
    },
  };
}

describe('applySchemaDefaults: the code generated per type', () => {
  it('fills absent fields that declare a default, where the enclosing object exists', () => {
    const p = pod();
    applySchemaDefaults(p, POD);
    assert.equal(p.spec.restartPolicy, 'Always');
    assert.equal(p.spec.schedulerName, 'default-scheduler');
    assert.deepEqual(p.spec.securityContext, {});
    assert.equal(p.spec.containers[1].terminationMessagePath, '/dev/termination-log');
    assert.equal(p.spec.initContainers[0].terminationMessagePolicy, 'File');
    // an object default is a copy of its own, never the schema's
    p.spec.securityContext.runAsUser = 1;
    const q = pod();
    applySchemaDefaults(q, POD);
    assert.deepEqual(q.spec.securityContext, {});
  });

  it('does what the walk does after random changes anywhere in the object', () => {
    const values: unknown[] = [undefined, null, '', 'x', 0, 7, true, [], [{}], [{ name: 'n' }], {}, { name: 'n' }, { containerPort: 1 }];
    const walkedPod = pod();
    applySchemaDefaultsWalked(walkedPod, POD);
    const start = JSON.stringify(walkedPod);
    let differentFromStart = 0;
    for (const { obj, path } of randomEdits(pod, values, { seed: 11, rounds: 3000 })) {
      const walked = structuredClone(obj);
      applySchemaDefaultsWalked(walked, POD);
      applySchemaDefaults(obj, POD);
      // key order included: the stored bytes are JSON.stringify's
      const want = JSON.stringify(walked);
      assert.equal(JSON.stringify(obj), want, `after setting ${path.join('.')}`);
      if (want !== start) differentFromStart++;
    }
    assert.ok(differentFromStart > 1000, `only ${differentFromStart} changes changed the result`);
  });
});
