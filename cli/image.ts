/**
 * `flotilla image import FILE` and `flotilla image ls`: the real node's images, in the
 * containerd of the cluster on a data folder (`<data>/containerd/containerd.sock`, or the
 * runtime `flotilla up --container-runtime-endpoint` was given).
 *
 * import takes an OCI image archive (an image layout in a tar, as `skopeo copy …
 * oci-archive:FILE:NAME` or `buildah push … oci-archive:FILE:NAME` write) or a docker
 * archive (`docker save`, `skopeo copy … docker-archive:FILE:NAME`) and imports it with
 * containerd's own `ctr` into the `k8s.io` namespace, the one CRI reads; it returns once
 * CRI reports each image, so a pod created next finds it. Pods then use the image by the
 * name the archive gives it (`app:1` is `docker.io/library/app:1`) with
 * imagePullPolicy IfNotPresent or Never. ls lists what CRI reports, as `crictl images`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CriClient, type Image } from '../services/kubelet/cri/client.js';
import { waitForCri } from '../services/kubelet/containerd/launcher.js';
import { CTR_BIN } from '../services/kubelet/images/local.js';
import { normalizeImageReference } from '../services/kubelet/images/reference.js';
import { nodeRuntimeEndpoint, resolveDataDir } from './datafolder.js';

export const IMAGE_USAGE = `usage: flotilla image import FILE [--data DIR] [--container-runtime-endpoint unix://PATH]
       flotilla image ls [--data DIR] [--container-runtime-endpoint unix://PATH]

The real node's images, in the containerd of the cluster on the data folder.

  import FILE   an OCI image archive or a docker archive (docker save); the images it
                names are imported into containerd's k8s.io namespace. Pods use them by
                that name (app:1 is docker.io/library/app:1), with imagePullPolicy
                IfNotPresent (the default for a tag other than latest) or Never.
  ls            the images containerd has: IMAGE, TAG, IMAGE ID, SIZE (as crictl images)

  --data DIR    data folder (default $FLOTILLA_DATA or <project>/.flotilla/data)
  --container-runtime-endpoint URL  a containerd's CRI socket instead of the data folder's

Images can also be pushed to the local registry that flotilla up runs:
  skopeo copy oci-archive:FILE docker://localhost:5000/NAME:TAG --dest-tls-verify=false
and used as localhost:5000/NAME:TAG.`;

/** A failure the user can act on (no runtime, a file that is no image archive). */
export class ImageCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageCommandError';
  }
}

/** The archive's kind, from its top-level entries: `oci-layout` or docker's `manifest.json`. */
export function archiveKind(file: string): 'oci' | 'docker' {
  const r = spawnSync('tar', ['-tf', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new ImageCommandError(`${file} is not a tar archive: ${(r.stderr || r.error?.message || '').trim()}`);
  const entries = new Set(r.stdout.split('\n').map((e) => e.replace(/^\.\//, '')));
  if (entries.has('oci-layout')) return 'oci';
  if (entries.has('manifest.json')) return 'docker';
  throw new ImageCommandError(`${file} is neither an OCI image archive (no oci-layout) nor a docker archive (no manifest.json)`);
}

function ctr(socket: string, args: string[]): string {
  const r = spawnSync(CTR_BIN, ['--address', socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new ImageCommandError(`ctr ${args.join(' ')}: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
  return r.stdout;
}

/**
 * The name an image ctr imported should have: Docker's full form of what the archive
 * says. ctr keeps an OCI archive's `org.opencontainers.image.ref.name` as it is when it
 * looks like a reference (`app:1`, which CRI would not find as docker.io/library/app:1)
 * and puts `import-<date>:` before a bare one (`app`); docker archives come normalised.
 */
export function importedName(ctrName: string): string {
  return normalizeImageReference(ctrName.replace(/^import-\d{4}-\d{2}-\d{2}:/, ''));
}

/** Imports the archive into containerd's k8s.io namespace; returns the images' names in Docker's full form. */
export function ctrImport(socket: string, file: string): string[] {
  const out = ctr(socket, ['images', 'import', file]);
  // ctr prints "unpacking NAME (sha256:…)...done" per image
  const names = [...out.matchAll(/unpacking (\S+) \(sha256:[0-9a-f]+\)/g)].map((m) => m[1]!);
  return names.map((name) => {
    let full: string;
    try {
      full = importedName(name);
    } catch (e) {
      throw new ImageCommandError(`${file} names an image "${name}": ${(e as Error).message}`);
    }
    if (full !== name) {
      ctr(socket, ['images', 'tag', '--force', name, full]);
      ctr(socket, ['images', 'rm', name]);
    }
    return full;
  });
}

/** Waits until CRI reports the image (it learns of an import a moment later). */
async function waitForCriImage(client: CriClient, name: string, timeoutMs = 15_000): Promise<Image> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const img = await client.imageStatus(name);
    if (img) return img;
    if (Date.now() > deadline) throw new ImageCommandError(`containerd imported ${name} but its CRI does not report it after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Docker's HumanSizeWithPrecision(size, 3), as crictl prints sizes: 2.21MB, 744kB. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** The rows of `image ls`: one per tag (an untagged image shows <none>). */
export function imageRows(images: Image[]): string[][] {
  const rows: string[][] = [];
  for (const img of images) {
    const id = img.id.replace(/^sha256:/, '').slice(0, 13);
    const size = humanSize(Number(img.size));
    const tags = img.repoTags.length ? img.repoTags : img.repoDigests.map((d) => `${d.slice(0, d.indexOf('@'))}:<none>`);
    for (const t of tags) {
      const colon = t.lastIndexOf(':');
      rows.push([t.slice(0, colon), t.slice(colon + 1), id, size]);
    }
  }
  return rows.sort((a, b) => a[0]!.localeCompare(b[0]!) || a[1]!.localeCompare(b[1]!));
}

/** Left-aligned columns, three spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n');
}

async function connectRuntime(dataDir: string, endpoint: string | undefined): Promise<{ client: CriClient; socket: string }> {
  const url = endpoint ?? nodeRuntimeEndpoint(dataDir);
  const socket = url.replace(/^unix:\/\//, '');
  if (!existsSync(socket)) {
    throw new ImageCommandError(`no container runtime at ${socket}: start the cluster with "flotilla up${endpoint ? '' : ` --data ${dataDir}`}" as root (a real node), or name a running containerd with --container-runtime-endpoint`);
  }
  try {
    await waitForCri(socket, 5000);
  } catch (e) {
    throw new ImageCommandError(`the container runtime at ${socket} does not answer: ${(e as Error).message}`);
  }
  return { client: new CriClient(socket), socket };
}

export async function runImage(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { data: { type: 'string' }, 'container-runtime-endpoint': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [verb, ...rest] = positionals;
  if (values.help || !verb) {
    console.log(IMAGE_USAGE);
    return values.help ? 0 : 2;
  }
  if (!((verb === 'import' && rest.length === 1) || (verb === 'ls' && rest.length === 0))) {
    console.error(`flotilla image: ${verb === 'import' || verb === 'ls' ? 'wrong arguments' : `unknown command "${verb}"`}\n\n${IMAGE_USAGE}`);
    return 2;
  }
  const dataDir = resolveDataDir(values.data);
  try {
    if (verb === 'import') {
      const file = path.resolve(rest[0]!);
      if (!existsSync(file)) throw new ImageCommandError(`no such file: ${file}`);
      const kind = archiveKind(file);
      const { client, socket } = await connectRuntime(dataDir, values['container-runtime-endpoint']);
      try {
        const names = ctrImport(socket, file);
        if (names.length === 0) {
          throw new ImageCommandError(
            `${file} (${kind === 'oci' ? 'an OCI archive' : 'a docker archive'}) names no image, so nothing could run it: write it with a name, e.g. skopeo copy … ${kind}-archive:FILE:NAME:TAG`,
          );
        }
        for (const name of names) {
          const img = await waitForCriImage(client, name);
          console.log(`imported ${name} (${kind === 'oci' ? 'OCI' : 'docker'} archive), image ID ${img.id}`);
        }
      } finally {
        client.close();
      }
      return 0;
    }
    const { client } = await connectRuntime(dataDir, values['container-runtime-endpoint']);
    try {
      console.log(table(['IMAGE', 'TAG', 'IMAGE ID', 'SIZE'], imageRows(await client.listImages())));
    } finally {
      client.close();
    }
    return 0;
  } catch (e) {
    if (!(e instanceof ImageCommandError)) throw e;
    console.error(`flotilla image ${verb}: ${e.message}`);
    return 1;
  }
}
