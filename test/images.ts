/**
 * Small images for tests that bring their own (import, push to a registry): one layer
 * whose only program is this machine's static busybox, as an OCI archive.
 */
import { copyFileSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { writeOciArchive } from '../services/kubelet/images/oci.js';

/** Writes `<dir>/<file>`: image `name` running `sleep 3600` by default; returns the archive's path. */
export function busyboxImageArchive(dir: string, name: string, file = 'image.oci.tar'): string {
  const rootfs = path.join(dir, `${file}.rootfs`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  for (const applet of ['sh', 'sleep', 'echo', 'httpd']) symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  try {
    return writeOciArchive({ name, rootfs, config: { Cmd: ['sleep', '3600'], Env: ['PATH=/bin'] }, createdBy: 'flotilla test image' }, path.join(dir, file)).file;
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}
