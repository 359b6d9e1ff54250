/**
 * hostPath volumes: the host's path itself is mounted; its `type` is checked first as
 * upstream's hostpath plugin does (DirectoryOrCreate and FileOrCreate create what is
 * missing, 0755 and 0644), with upstream's messages.
 */
import { closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { VolumeSetUpError } from './configmap.js';

function stat(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

export function checkHostPathType(p: string, type: string | undefined): void {
  const fail = (what: string) => {
    throw new VolumeSetUpError(`hostPath type check failed: ${p} is not ${what}`);
  };
  switch (type ?? '') {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!stat(p)) mkdirSync(p, { recursive: true, mode: 0o755 });
      if (!stat(p)?.isDirectory()) fail('a directory');
      return;
    case 'Directory':
      if (!stat(p)?.isDirectory()) fail('a directory');
      return;
    case 'FileOrCreate':
      if (!stat(p)) {
        try {
          closeSync(openSync(p, 'a', 0o644));
        } catch (e) {
          throw new VolumeSetUpError(`hostPath type check failed: cannot create ${p}: ${(e as Error).message}`);
        }
      }
      if (!stat(p)?.isFile()) fail('a file');
      return;
    case 'File':
      if (!stat(p)?.isFile()) fail('a file');
      return;
    case 'Socket':
      if (!stat(p)?.isSocket()) fail('a socket file');
      return;
    case 'CharDevice':
      if (!stat(p)?.isCharacterDevice()) fail('a character device');
      return;
    case 'BlockDevice':
      if (!stat(p)?.isBlockDevice()) fail('a block device');
      return;
    default:
      throw new VolumeSetUpError(`${type} is an invalid volume type`);
  }
}
