import assert from 'node:assert/strict';
import '../../schema/kinds/mod.js';
import { createdFieldsV1, createdFieldsV1Walked } from './created.js';
import { rootShape } from './shape.js';
import type { FieldScope } from './types.js';
import { randomEdits } from '../../../test/randomedits.js';

const MAIN: FieldScope = { kind: 'main', ignoreStatus: true };

/** a Deployment that sets structs by value (spec.template), keyed lists, sets, maps and a free-form field */
function deployment(): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { a: 'b' }, finalizers: ['x'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx', args: ['-v'], ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '1' } }, env: [{ name: 'A', value: '1' }] },
            { name: 'side', image: 'busybox', securityContext: { privileged: false } },
          ],
          tolerations: [{ key: 'k', operator: 'Exists' }],
          nodeSelector: { disk: 'ssd' },
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }] } } },
        },
      },
    },
    status: { replicas: 1 },
  };
}

describe('createdFieldsV1: the code generated per struct', () => {
  const root = rootShape('io.k8s.api.apps.v1.Deployment');

  it('gives the walk\'s FieldsV1, key order included, for an object of every kind of member', () => {
    const got = createdFieldsV1(root, deployment(), MAIN);
    const want = createdFieldsV1Walked(root, deployment(), MAIN);
    assert.equal(JSON.stringify(got), JSON.stringify(want));
    assert.ok(JSON.stringify(got).includes('"f:template":{"f:metadata"'), 'a struct held by value has no "." of its own');
  });

  it('gives the walk\'s FieldsV1 or its error after random changes anywhere in the object', () => {
    const values: unknown[] = [undefined, null, '', 'x', 0, 7, true, [], ['a', 'a'], [{}], [{ name: 'n' }], {}, { name: 'n' }, { unknown: 1 }, { name: 'n', extra: { deep: [1] } }];
    const outcome = (f: () => unknown) => {
      try {
        return JSON.stringify(f());
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    };
    let differentFromStart = 0;
    const start = outcome(() => createdFieldsV1Walked(root, deployment(), MAIN));
    for (const { obj, path, parent, rand } of randomEdits(deployment, values, { seed: 7, rounds: 3000 })) {
      // a member the schema does not name, now and then, beside the change
      if (rand(4) === 0 && parent && typeof parent === 'object' && !Array.isArray(parent)) parent.zz = { y: 1 };
      const want = outcome(() => createdFieldsV1Walked(root, structuredClone(obj), MAIN));
      assert.equal(outcome(() => createdFieldsV1(root, obj, MAIN)), want, `after setting ${path.join('.')}`);
      if (want !== start) differentFromStart++;
    }
    assert.ok(differentFromStart > 1000, `only ${differentFromStart} changes changed the fields`);
  });
});
