/**
 * configMap volumes (and projected configMap sources): the ConfigMap's keys as files,
 * as upstream's configmap plugin MakePayload: every key of data and binaryData, or only
 * the listed items at their paths; mode from the item, else defaultMode (0644). A
 * listed key the ConfigMap lacks fails unless the source is optional; a missing
 * ConfigMap is an empty payload when optional (the caller decides).
 */
import type { ConfigMap, KeyToPath } from 'kubernetes-types/core/v1.js';
import type { Payload } from './atomicwriter.js';

export const DEFAULT_MODE = 0o644;

export class VolumeSetUpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeSetUpError';
  }
}

/** key → bytes, then the items mapping; `what` names the kind in errors ("config", "secret"). */
export function keysPayload(data: Map<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number | undefined, optional: boolean, what: 'configmap' | 'secret'): Payload {
  const mode = defaultMode ?? DEFAULT_MODE;
  const out: Payload = new Map();
  if (!items?.length) {
    for (const [k, v] of data) out.set(k, { data: v, mode });
    return out;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeSetUpError(what === 'configmap' ? `configmap references non-existent config key: ${item.key}` : `references non-existent secret key: ${item.key}`);
    }
    out.set(item.path, { data: v, mode: item.mode ?? mode });
  }
  return out;
}

export function configMapData(cm: ConfigMap | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm?.data ?? {})) out.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries(cm?.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

export function configMapPayload(cm: ConfigMap | undefined, items: KeyToPath[] | undefined, defaultMode: number | undefined, optional: boolean): Payload {
  return keysPayload(configMapData(cm), items, defaultMode, optional, 'configmap');
}
