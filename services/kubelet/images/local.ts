/**
 * The images a Flotilla node has without any registry, built at set-up from what Debian
 * installed on this machine and imported into containerd's `k8s.io` namespace (the one
 * CRI uses):
 *
 * - `registry.k8s.io/pause:3.9`, the sandbox image: a small C program, as upstream's
 *   pause, built with `gcc -static`. Debian ships no pause image or binary, and a
 *   busybox `sleep` would not do as a sandbox's PID 1: PID 1 ignores SIGTERM unless it
 *   handles it, and pause must also reap the zombies of a shared PID namespace.
 * - `docker.io/library/busybox:latest`, from `busybox-static`: the one static binary and
 *   a link per applet (sh, httpd, wget, nc, nslookup, ...), at the paths busybox lists.
 *
 * Archives are cached under <data>/images, named by a hash of their inputs, and only
 * imported when containerd's copy differs. containerd's CRI learns of an import through
 * its event stream, a moment later (about 2 s was seen): `ensureLocalImages` waits until
 * ImageStatus answers, so no RunPodSandbox ever finds the pause image missing and pulls.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CriClient } from '../cri/client.js';
import { PAUSE_IMAGE } from '../containerd/config.js';
import { ImageBuildError, readOciArchive, writeOciArchive, type OciArchive } from './oci.js';

export const BUSYBOX_IMAGE = 'docker.io/library/busybox:latest';
export const BUSYBOX_BIN = '/bin/busybox';
export const CTR_BIN = '/usr/bin/ctr';
/** bumped when the way an image is built changes, so cached archives are rebuilt */
const BUILDER_VERSION = '1';

const PAUSE_C = `/* Flotilla's pause: holds a pod sandbox's namespaces; exits on SIGINT/SIGTERM; reaps orphans. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void down(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, 0, WNOHANG) > 0) {}
}

int main(void) {
  struct sigaction stop = {0}, child = {0};
  stop.sa_handler = down;
  child.sa_handler = reap;
  child.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGINT, &stop, 0) || sigaction(SIGTERM, &stop, 0) || sigaction(SIGCHLD, &child, 0)) return 1;
  for (;;) pause();
}
`;

const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LocalImage {
  name: string;
  archive: OciArchive;
}

function hashOf(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new ImageBuildError(`${what}: ${cmd} ${args.join(' ')} failed: ${r.error?.message ?? (r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function buildPauseRootfs(rootfs: string): void {
  mkdirSync(rootfs, { recursive: true });
  const src = path.join(path.dirname(rootfs), 'pause.c');
  writeFileSync(src, PAUSE_C);
  run('gcc', ['-static', '-Os', '-s', '-o', path.join(rootfs, 'pause'), src], 'building the pause binary');
  chmodSync(path.join(rootfs, 'pause'), 0o755);
}

function buildBusyboxRootfs(rootfs: string): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home', 'var/www', 'tmp']) mkdirSync(path.join(rootfs, d), { recursive: true, mode: 0o755 });
  chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX_BIN, path.join(rootfs, 'bin/busybox'));
  chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  // `--list-full` names each applet with its usual folder (bin/sh, usr/bin/wget, ...)
  for (const applet of run(BUSYBOX_BIN, ['--list-full'], 'listing busybox applets').split('\n').filter(Boolean)) {
    if (applet === 'bin/busybox') continue;
    const link = path.join(rootfs, applet);
    mkdirSync(path.dirname(link), { recursive: true });
    if (!existsSync(link)) symlinkSync('/bin/busybox', link);
  }
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

interface Recipe {
  name: string;
  /** what the cache key is made of: the inputs that change the image */
  inputs: () => (string | Buffer)[];
  build: (rootfs: string) => void;
  config: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; User?: string };
  createdBy: string;
}

const RECIPES: Recipe[] = [
  {
    name: PAUSE_IMAGE,
    inputs: () => [PAUSE_C, run('gcc', ['-dumpfullversion'], 'gcc version')],
    build: buildPauseRootfs,
    // upstream's pause runs as 65535 too: it needs no privilege
    config: { Entrypoint: ['/pause'], User: '65535:65535', Env: [PATH_ENV] },
    createdBy: 'flotilla: gcc -static pause.c',
  },
  {
    name: BUSYBOX_IMAGE,
    inputs: () => [readFileSync(BUSYBOX_BIN)],
    build: buildBusyboxRootfs,
    config: { Cmd: ['sh'], Env: [PATH_ENV] },
    createdBy: 'flotilla: busybox-static and its applet links',
  },
];

/** Builds (or finds in the cache) the archive of each local image under cacheDir. */
export function buildLocalImages(cacheDir: string): LocalImage[] {
  mkdirSync(cacheDir, { recursive: true });
  return RECIPES.map((r) => {
    const short = r.name.slice(r.name.lastIndexOf('/') + 1).replace(':', '-');
    const file = path.join(cacheDir, `${short}-${hashOf(BUILDER_VERSION, ...r.inputs())}.oci.tar`);
    if (existsSync(file)) return { name: r.name, archive: readOciArchive(file) };
    const work = `${file}.rootfs`;
    rmSync(work, { recursive: true, force: true });
    try {
      const rootfs = path.join(work, 'rootfs');
      r.build(rootfs);
      return { name: r.name, archive: writeOciArchive({ name: r.name, rootfs, config: r.config, createdBy: r.createdBy }, file) };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

/** Imports an OCI archive into containerd's k8s.io namespace (unpacked for its snapshotter). */
export function importImage(socket: string, archive: string): void {
  run(CTR_BIN, ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', archive], `importing ${archive}`);
}

/** Resolves once CRI's ImageStatus reports `name` with image ID `id`. */
export async function waitForImage(client: CriClient, name: string, id: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const img = await client.imageStatus(name);
    if (img?.id === id) return;
    if (Date.now() > deadline) throw new ImageBuildError(`containerd's CRI does not report ${name} as ${id} ${timeoutMs} ms after its import (it reports ${img?.id ?? 'nothing'})`);
    await sleep(100);
  }
}

/**
 * Builds the local images when needed, imports those containerd lacks (or has at another
 * ID), and waits until CRI sees each one. Call before the first RunPodSandbox.
 */
export async function ensureLocalImages(opts: { cacheDir: string; socket: string; client: CriClient }): Promise<LocalImage[]> {
  const images = buildLocalImages(opts.cacheDir);
  for (const img of images) {
    const have = await opts.client.imageStatus(img.name);
    if (have?.id === img.archive.configDigest) continue;
    importImage(opts.socket, img.archive.file);
    await waitForImage(opts.client, img.name, img.archive.configDigest);
  }
  return images;
}
