import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_FILES, installCommand } from './prerequisites.js';

describe('real node prerequisites', () => {
  it('checks files from exactly the packages bin/ensure.js installs', async () => {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    while (!dir.endsWith(`${path.sep}dist`)) dir = path.dirname(dir);
    const mod = (await import(pathToFileURL(path.join(path.dirname(dir), 'bin', 'node-packages.js')).href)) as { NODE_PACKAGES: string[] };
    assert.deepEqual([...new Set(NODE_FILES.map((f) => f.pkg))].sort(), [...mod.NODE_PACKAGES].sort());
  });

  it('names the one command that installs what is missing', () => {
    assert.equal(installCommand(['containerd', 'runc']), 'sudo apt-get update && sudo apt-get install -y containerd runc');
  });
});
