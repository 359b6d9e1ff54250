import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImageCommandError, archiveKind, humanSize, imageRows, importedName, table } from './image.js';

describe('flotilla image (without a runtime)', () => {
  it('prints sizes as crictl does', () => {
    assert.deepEqual([0, 999, 1000, 2_205_187, 744_300, 1_234_567_890].map(humanSize), ['0B', '999B', '1kB', '2.21MB', '744kB', '1.23GB']);
  });

  it('lists one row per tag, like crictl images', () => {
    const img = (id: string, repoTags: string[], repoDigests: string[] = []) => ({ id, repoTags, repoDigests, size: '2205187', uid: null, username: '', spec: null, pinned: false });
    const rows = imageRows([
      img('sha256:' + 'a'.repeat(64), ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1']),
      img('sha256:' + 'b'.repeat(64), [], ['localhost:5000/app@sha256:' + 'c'.repeat(64)]),
    ]);
    assert.deepEqual(rows, [
      ['docker.io/library/busybox', '1', 'aaaaaaaaaaaaa', '2.21MB'],
      ['docker.io/library/busybox', 'latest', 'aaaaaaaaaaaaa', '2.21MB'],
      ['localhost:5000/app', '<none>', 'bbbbbbbbbbbbb', '2.21MB'],
    ]);
    assert.equal(table(['IMAGE', 'TAG'], [['a', 'b'], ['ccc', 'd']]), 'IMAGE   TAG\na       b\nccc     d');
  });

  it('gives imported images Docker\'s full names', () => {
    assert.equal(importedName('app:1'), 'docker.io/library/app:1');
    assert.equal(importedName('import-2026-12-03:app'), 'docker.io/library/app:latest');
    assert.equal(importedName('localhost:5000/x/app:2'), 'localhost:5000/x/app:2');
    assert.equal(importedName('docker.io/library/busybox:latest'), 'docker.io/library/busybox:latest');
  });

  it('tells an OCI archive from a docker archive, and refuses anything else', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flt-image-cli-'));
    try {
      const tar = (name: string, files: string[]) => {
        for (const f of files) writeFileSync(path.join(dir, f), '{}');
        spawnSync('tar', ['-cf', path.join(dir, name), '-C', dir, ...files]);
        return path.join(dir, name);
      };
      assert.equal(archiveKind(tar('oci.tar', ['oci-layout', 'index.json'])), 'oci');
      assert.equal(archiveKind(tar('docker.tar', ['manifest.json'])), 'docker');
      assert.throws(() => archiveKind(tar('other.tar', ['index.json'])), (e: unknown) => e instanceof ImageCommandError && /neither an OCI image archive/.test(e.message));
      writeFileSync(path.join(dir, 'not.tar'), 'hello');
      assert.throws(() => archiveKind(path.join(dir, 'not.tar')), /is not a tar archive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
