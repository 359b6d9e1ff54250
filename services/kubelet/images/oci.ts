/**
 * Writes an OCI image archive (image-spec v1 layout in a tar: oci-layout, index.json,
 * blobs/sha256/...) holding one single-layer linux/amd64 image made from a root
 * filesystem folder. Tars are made by GNU tar with fixed owners, times and order, so the
 * same rootfs always gives the same digests (and a cached archive stays valid).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_LAYER = 'application/vnd.oci.image.layer.v1.tar';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface ImageRuntimeConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
}

export interface OciImageSpec {
  /** full reference, e.g. docker.io/library/busybox:latest: containerd names the image by it */
  name: string;
  rootfs: string;
  config: ImageRuntimeConfig;
  /** what made the image, for its history */
  createdBy: string;
}

export interface OciArchive {
  file: string;
  /** sha256:… of the image config: the image ID CRI reports */
  configDigest: string;
  manifestDigest: string;
}

export class ImageBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function tar(args: string[], what: string): void {
  const r = spawnSync('tar', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new ImageBuildError(`${what}: tar ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
}

/** A reproducible tar of a folder's content (paths relative to it, as a layer wants). */
function reproducibleTar(dir: string, out: string, entries: string[], what: string): void {
  tar(['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=gnu', '-C', dir, '-cf', out, ...entries], what);
}

/** Writes blob under layout/blobs/sha256 and returns its descriptor. */
function putBlob(layout: string, mediaType: string, data: Buffer): Descriptor {
  const digest = sha256(data);
  writeFileSync(path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), data);
  return { mediaType, digest, size: data.length };
}

/** Builds the archive at `file` (written beside it, then renamed: a half-written archive is never seen). */
export function writeOciArchive(spec: OciImageSpec, file: string): OciArchive {
  const work = `${file}.build`;
  rmSync(work, { recursive: true, force: true });
  const layout = path.join(work, 'layout');
  mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  try {
    const layerTar = path.join(work, 'layer.tar');
    reproducibleTar(spec.rootfs, layerTar, ['.'], `layer of ${spec.name}`);
    const layerData = readFileSync(layerTar);
    const layer = putBlob(layout, MEDIA_LAYER, layerData);
    const platform = { architecture: 'amd64', os: 'linux' };
    const created = '1970-01-01T00:00:00Z';
    const config = putBlob(
      layout,
      MEDIA_CONFIG,
      Buffer.from(
        JSON.stringify({
          created,
          ...platform,
          config: spec.config,
          // uncompressed layer: its diff ID is its digest
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
          history: [{ created, created_by: spec.createdBy }],
        }),
      ),
    );
    const manifest = putBlob(layout, MEDIA_MANIFEST, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_MANIFEST, config, layers: [layer] })));
    const tag = spec.name.slice(spec.name.lastIndexOf(':') + 1);
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...manifest, platform, annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': tag } }],
    };
    writeFileSync(path.join(layout, 'index.json'), JSON.stringify(index));
    writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    reproducibleTar(layout, `${file}.tmp`, ['oci-layout', 'index.json', 'blobs'], `archive of ${spec.name}`);
    renameSync(`${file}.tmp`, file);
    return { file, configDigest: config.digest, manifestDigest: manifest.digest };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Reads back the digests of an archive written by writeOciArchive (for a cached one). */
export function readOciArchive(file: string): OciArchive {
  statSync(file);
  const r = spawnSync('tar', ['-xOf', file, 'index.json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new ImageBuildError(`cannot read index.json of ${file}: ${r.stderr.trim()}`);
  const manifestDesc = (JSON.parse(r.stdout) as { manifests: Descriptor[] }).manifests[0];
  const m = spawnSync('tar', ['-xOf', file, `blobs/sha256/${manifestDesc.digest.slice(7)}`], { encoding: 'utf8' });
  if (m.status !== 0) throw new ImageBuildError(`cannot read the manifest of ${file}: ${m.stderr.trim()}`);
  const manifest = JSON.parse(m.stdout) as { config: Descriptor };
  return { file, configDigest: manifest.config.digest, manifestDigest: manifestDesc.digest };
}
