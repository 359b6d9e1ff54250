import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MEDIA_CONFIG, MEDIA_LAYER, MEDIA_MANIFEST, readOciArchive, writeOciArchive, type Descriptor } from './oci.js';

function blob(layout: string, d: Descriptor): Buffer {
  const data = readFileSync(path.join(layout, 'blobs', 'sha256', d.digest.slice('sha256:'.length)));
  assert.equal(`sha256:${createHash('sha256').update(data).digest('hex')}`, d.digest, `blob ${d.digest} has its digest`);
  assert.equal(data.length, d.size, `blob ${d.digest} has its size`);
  return data;
}

describe('OCI image archives', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flt-oci-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an image layout whose index, manifest, config and layer chain by sha256 digest and size', () => {
    const rootfs = path.join(dir, 'rootfs');
    mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
    writeFileSync(path.join(rootfs, 'bin', 'hello'), '#!/bin/sh\necho hi\n');
    chmodSync(path.join(rootfs, 'bin', 'hello'), 0o755);
    const archive = writeOciArchive({ name: 'docker.io/library/hello:1.0', rootfs, config: { Cmd: ['/bin/hello'] }, createdBy: 'test' }, path.join(dir, 'hello.tar'));

    const layout = path.join(dir, 'out');
    mkdirSync(layout);
    assert.equal(spawnSync('tar', ['-xf', archive.file, '-C', layout]).status, 0);
    assert.deepEqual(JSON.parse(readFileSync(path.join(layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'));
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.manifests.length, 1);
    const desc = index.manifests[0];
    assert.equal(desc.mediaType, MEDIA_MANIFEST);
    assert.equal(desc.annotations['io.containerd.image.name'], 'docker.io/library/hello:1.0');
    assert.equal(desc.annotations['org.opencontainers.image.ref.name'], '1.0');
    assert.deepEqual(desc.platform, { architecture: 'amd64', os: 'linux' });
    assert.equal(desc.digest, archive.manifestDigest);

    const manifest = JSON.parse(blob(layout, desc).toString());
    assert.equal(manifest.config.mediaType, MEDIA_CONFIG);
    assert.equal(manifest.config.digest, archive.configDigest);
    assert.equal(manifest.layers.length, 1);
    assert.equal(manifest.layers[0].mediaType, MEDIA_LAYER);
    const config = JSON.parse(blob(layout, manifest.config).toString());
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [manifest.layers[0].digest] });
    assert.deepEqual(config.config.Cmd, ['/bin/hello']);
    const layerTar = path.join(dir, 'layer.tar');
    writeFileSync(layerTar, blob(layout, manifest.layers[0]));
    const listing = spawnSync('tar', ['-tvf', layerTar], { encoding: 'utf8' }).stdout;
    assert.match(listing, /^-rwxr-xr-x 0\/0 .* \.\/bin\/hello$/m);
  });

  it('gives the same digests for the same root filesystem, so a cached archive stays valid', () => {
    const rootfs = path.join(dir, 'rootfs');
    mkdirSync(rootfs);
    writeFileSync(path.join(rootfs, 'a'), 'a');
    const spec = { name: 'docker.io/library/same:latest', rootfs, config: {}, createdBy: 'test' };
    const first = writeOciArchive(spec, path.join(dir, 'one.tar'));
    writeFileSync(path.join(rootfs, 'a'), 'a'); // a new mtime: ignored
    const second = writeOciArchive(spec, path.join(dir, 'two.tar'));
    assert.equal(second.manifestDigest, first.manifestDigest);
    assert.equal(second.configDigest, first.configDigest);
    assert.deepEqual(readOciArchive(first.file), first);
  });
});
