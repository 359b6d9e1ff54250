import assert from 'node:assert/strict';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import {
  canonicallyEqual,
  computeHash,
  CONTROLLER_REVISION_HASH_LABEL,
  controllerRevisionName,
  equalIgnoreHash,
  hashWithCollisionCount,
  maxRevision,
  newControllerRevision,
  nextRevision,
  revisionTemplate,
  templateRevisionData,
} from './revisions.js';

describe('pod-template hash', () => {
  it('hashes templates ignoring the pod-template-hash label and empty fields', () => {
    const t = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const labelled = { metadata: { labels: { app: 'a', 'pod-template-hash': 'zz' } }, spec: { containers: [{ name: 'c', image: 'x', env: [] }] } };
    assert.ok(equalIgnoreHash(t, labelled));
    assert.equal(computeHash(t), computeHash(labelled));
    assert.notEqual(computeHash(t), computeHash(t, 1));
    assert.notEqual(computeHash(t), computeHash({ ...t, spec: { containers: [{ name: 'c', image: 'y' }] } }));
  });

  it('folds in a given collision count, 0 included, and only when given', () => {
    const data = { a: 1 };
    assert.notEqual(hashWithCollisionCount(data, 0), hashWithCollisionCount(data));
    assert.notEqual(hashWithCollisionCount(data, 1), hashWithCollisionCount(data, 2));
    assert.equal(hashWithCollisionCount({ b: [], a: 1 }), hashWithCollisionCount(data), 'key order and empty values do not count');
    assert.match(hashWithCollisionCount(data), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.ok(canonicallyEqual({ x: null, y: { z: [] } }, {}));
  });
});

describe('ControllerRevisions', () => {
  const rev = (revision: number | undefined): ControllerRevision => ({ revision }) as ControllerRevision;

  it('records a template as a replace patch and reads the same template back', () => {
    const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    const data = templateRevisionData(template);
    assert.deepEqual(data, { spec: { template: { ...template, $patch: 'replace' } } });
    assert.deepEqual(revisionTemplate({ revision: 1, data } as ControllerRevision), template);
    assert.deepEqual(templateRevisionData(undefined), { spec: { template: { $patch: 'replace' } } });
  });

  it('numbers a new revision one past the highest, from 1', () => {
    assert.equal(maxRevision([]), 0);
    assert.equal(nextRevision([]), 1);
    assert.equal(nextRevision([rev(3), rev(undefined), rev(7), rev(2)]), 8);
  });

  it('names a revision <prefix>-<hash>, cutting the prefix at 223 characters', () => {
    assert.equal(controllerRevisionName('web', 'abc'), 'web-abc');
    assert.equal(controllerRevisionName('x'.repeat(300), 'abc'), `${'x'.repeat(223)}-abc`);
  });

  it('labels a revision as its template plus the hash, controlled by its owner', () => {
    const owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };
    const template = { metadata: { labels: { app: 'web' } } };
    const r = newControllerRevision({ owner, kind: 'StatefulSet', name: 'web-h', template, data: templateRevisionData(template), hash: 'h', revision: 4 });
    assert.equal(r.metadata!.namespace, 'ns');
    assert.deepEqual(r.metadata!.labels, { app: 'web', [CONTROLLER_REVISION_HASH_LABEL]: 'h' });
    assert.deepEqual(r.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(r.revision, 4);
  });
});
