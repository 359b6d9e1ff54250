import assert from 'node:assert/strict';
import { StatusError } from '../errors.js';
import { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json.js';

function expectStatus(fn: () => unknown, code: number, reason: string, pattern?: RegExp): StatusError {
  let caught: StatusError | undefined;
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.reason, reason, e.message);
    caught = e;
    return true;
  });
  if (pattern) {
    const text = `${caught!.message} ${JSON.stringify(caught!.details ?? {})}`;
    assert.match(text, pattern);
  }
  return caught!;
}

describe('JSON patch (RFC 6902)', () => {
  const pod = () => ({
    metadata: { name: 'p', labels: { app: 'web' } },
    spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] },
  });

  it('applies add, remove, replace, move, copy and test in sequence', () => {
    const out = applyJsonPatch(pod(), [
      { op: 'test', path: '/metadata/name', value: 'p' },
      { op: 'add', path: '/metadata/labels/tier', value: 'fe' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'x2' },
      { op: 'remove', path: '/spec/containers/1' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'c' } },
      { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copied' },
      { op: 'move', from: '/metadata/labels/tier', path: '/metadata/labels/moved' },
      { op: 'add', path: '/metadata/labels/a~1b', value: 'escaped' },
    ]);
    assert.deepEqual(out, {
      metadata: { name: 'p', labels: { app: 'web', copied: 'web', moved: 'fe', 'a/b': 'escaped' } },
      spec: { containers: [{ name: 'a', image: 'x2' }, { name: 'c' }] },
    });
  });

  it('answers a failed test operation with 422 Invalid and upstream\'s message, the cause in details', () => {
    const e = expectStatus(() => applyJsonPatch(pod(), [{ op: 'test', path: '/metadata/name', value: 'other' }]), 422, 'Invalid', /Test operation failed/);
    assert.equal(e.message, 'the server rejected our request due to an error in our request');
  });

  it('answers operations on paths that do not exist with 422 Invalid', () => {
    expectStatus(() => applyJsonPatch(pod(), [{ op: 'remove', path: '/metadata/missing' }]), 422, 'Invalid', /path that does not exist/);
    expectStatus(() => applyJsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/5/image', value: 'z' }]), 422, 'Invalid');
    expectStatus(() => applyJsonPatch(pod(), [{ op: 'add', path: '/no/such/parent', value: 1 }]), 422, 'Invalid');
    expectStatus(() => applyJsonPatch(pod(), [{ op: 'add', path: 'metadata/name', value: 1 }]), 422, 'Invalid', /must start with/);
  });

  it('answers an unknown op or a missing value with 422 Invalid', () => {
    expectStatus(() => applyJsonPatch(pod(), [{ op: 'explode', path: '/metadata' }]), 422, 'Invalid', /op/);
    expectStatus(() => applyJsonPatch(pod(), [{ op: 'add', path: '/metadata/x' }]), 422, 'Invalid', /value/);
  });

  it('applies nothing when one operation fails', () => {
    const original = pod();
    expectStatus(
      () => applyJsonPatch(original, [{ op: 'replace', path: '/metadata/name', value: 'q' }, { op: 'test', path: '/metadata/name', value: 'nope' }]),
      422,
      'Invalid',
    );
    assert.deepEqual(original, pod());
  });

  it('answers a body that is not a list of operation objects with 400 BadRequest', () => {
    expectStatus(() => applyJsonPatch(pod(), { op: 'add', path: '/a', value: 1 }), 400, 'BadRequest');
    expectStatus(() => applyJsonPatch(pod(), ['add']), 400, 'BadRequest');
    expectStatus(() => applyJsonPatch(pod(), null), 400, 'BadRequest');
  });

  it('answers more than the upstream maximum of operations with 413', () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/metadata/name', value: 'p' }));
    expectStatus(() => applyJsonPatch(pod(), ops), 413, 'RequestEntityTooLarge', /maximum operations in a JSON patch is 10000, got 10001/);
  });

  it('modifies neither the document nor the operations, and the result shares no values with them', () => {
    const original = pod();
    const value = { name: 'n', env: [{ name: 'E' }] };
    const ops = [{ op: 'add', path: '/spec/containers/0', value }];
    const before = JSON.stringify([original, ops]);
    const out = applyJsonPatch(original, ops) as any;
    assert.deepEqual(out.spec.containers[0], value);
    out.spec.containers[0].env.push({ name: 'F' });
    out.metadata.labels.x = 'y';
    assert.equal(JSON.stringify([original, ops]), before);
  });

  it('refuses to modify object prototypes', () => {
    expectStatus(() => applyJsonPatch({}, [{ op: 'add', path: '/__proto__/polluted', value: true }]), 422, 'Invalid');
    assert.equal(({} as any).polluted, undefined);
  });
});
