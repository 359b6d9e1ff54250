import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AtomicWriter, validatePayloadPath, type Payload } from './atomicwriter.js';

describe('kubelet volumes: the atomic writer', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flt-aw-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const payload = (files: Record<string, string>, mode = 0o644): Payload => new Map(Object.entries(files).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));
  const timestamped = () => readdirSync(dir).filter((n) => n.startsWith('..') && n !== '..data');

  it('writes files into a timestamped folder behind the ..data symlink, with user-visible symlinks', () => {
    const w = new AtomicWriter(dir);
    assert.equal(w.write(payload({ a: 'one', 'sub/b': 'two' }, 0o400)), true);
    const ts = readlinkSync(path.join(dir, '..data'));
    assert.match(ts, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./);
    assert.equal(readlinkSync(path.join(dir, 'a')), '..data/a');
    assert.equal(readlinkSync(path.join(dir, 'sub')), '..data/sub');
    assert.equal(readFileSync(path.join(dir, 'sub/b'), 'utf8'), 'two');
    assert.equal(statSync(path.join(dir, 'a')).mode & 0o777, 0o400);
  });

  it('writes nothing for the same payload, swaps ..data for a new one and removes what left it', () => {
    const w = new AtomicWriter(dir);
    w.write(payload({ a: 'one', b: 'two' }));
    const first = readlinkSync(path.join(dir, '..data'));
    assert.equal(w.write(payload({ a: 'one', b: 'two' })), false);
    assert.equal(readlinkSync(path.join(dir, '..data')), first);
    assert.equal(w.write(payload({ a: 'uno', c: 'three' })), true);
    assert.notEqual(readlinkSync(path.join(dir, '..data')), first);
    assert.equal(readFileSync(path.join(dir, 'a'), 'utf8'), 'uno');
    assert.equal(readFileSync(path.join(dir, 'c'), 'utf8'), 'three');
    assert.equal(existsSync(path.join(dir, 'b')), false);
    assert.deepEqual(timestamped().length, 1);
    assert.ok(lstatSync(path.join(dir, '..data')).isSymbolicLink());
    // a mode change is a change
    assert.equal(w.write(payload({ a: 'uno', c: 'three' }, 0o600)), true);
  });

  it('refuses paths that leave the folder or touch its bookkeeping', () => {
    assert.throws(() => validatePayloadPath('/etc/passwd'), /must be relative/);
    assert.throws(() => validatePayloadPath('a/../../x'), /must not contain '\.\.'/);
    assert.throws(() => validatePayloadPath('..data'), /must not start with '\.\.'/);
    assert.throws(() => new AtomicWriter(dir).write(payload({ '../x': 'y' })), /must not contain/);
  });
});
