/**
 * secret volumes (and projected secret sources): the Secret's keys as files, decoded,
 * as upstream's secret plugin MakePayload (same rules as configmap.ts). The volume's
 * folder is a tmpfs (manager.ts), as upstream's, so secrets never reach the disk.
 */
import type { KeyToPath, Secret } from 'kubernetes-types/core/v1.js';
import type { Payload } from './atomicwriter.js';
import { keysPayload } from './configmap.js';

export function secretData(s: Secret | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s?.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(s?.stringData ?? {})) if (!out.has(k)) out.set(k, Buffer.from(v));
  return out;
}

export function secretPayload(s: Secret | undefined, items: KeyToPath[] | undefined, defaultMode: number | undefined, optional: boolean): Payload {
  return keysPayload(secretData(s), items, defaultMode, optional, 'secret');
}
