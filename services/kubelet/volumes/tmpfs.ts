/**
 * tmpfs mounts for memory-backed volumes (emptyDir `medium: Memory`, secret and
 * projected volumes, as upstream): mounted with mount(8), found again through
 * /proc/self/mountinfo (so a restarted kubelet keeps them), unmounted on teardown.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { VolumeSetUpError } from './configmap.js';

/** mountinfo escapes spaces and the like as \\ooo */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function isMountPoint(dir: string): boolean {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] && unescape(f[4]) === dir) return true;
  }
  return false;
}

/** Mounts a tmpfs on dir unless one is there; sizeBytes limits it. */
export function mountTmpfs(dir: string, sizeBytes?: bigint): void {
  if (isMountPoint(dir)) return;
  const opts = ['mode=0777', ...(sizeBytes && sizeBytes > 0n ? [`size=${sizeBytes}`] : [])].join(',');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new VolumeSetUpError(`mount tmpfs on ${dir}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Unmounts every mount at or under dir (deepest first). */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map(unescape)
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    const r = spawnSync('umount', [p], { encoding: 'utf8' });
    if (r.status !== 0) spawnSync('umount', ['-l', p]);
  }
}
