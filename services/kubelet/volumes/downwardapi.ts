/**
 * downwardAPI volumes (and projected downwardAPI sources), as upstream's downwardapi
 * plugin CollectData: one file per item, a fieldRef (metadata.name, namespace, uid,
 * labels, annotations, one label or annotation) or a resourceFieldRef (with
 * containerName; limits default to the node's allocatable). Whole labels and
 * annotations are `key="value"` lines sorted by key (upstream fieldpath.FormatMap).
 * The manager rewrites them when the pod's labels or annotations change.
 */
import type { DownwardAPIVolumeFile, Pod } from 'kubernetes-types/core/v1.js';
import { fieldValue } from '../containerconfig.js';
import { resourceFieldValue } from '../resourcefield.js';
import type { Payload } from './atomicwriter.js';
import { DEFAULT_MODE, VolumeSetUpError } from './configmap.js';

/** upstream FormatMap: sorted `k="v"` lines, no trailing newline */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

export function downwardAPIPayload(pod: Pod, items: DownwardAPIVolumeFile[] | undefined, defaultMode: number | undefined, allocatable: Record<string, string>): Payload {
  const out: Payload = new Map();
  const errors: string[] = [];
  for (const item of items ?? []) {
    const p = item.path.replace(/\/+$/, '');
    let value = '';
    try {
      if (item.fieldRef) {
        const f = item.fieldRef.fieldPath;
        if (f === 'metadata.labels') value = formatMap(pod.metadata?.labels);
        else if (f === 'metadata.annotations') value = formatMap(pod.metadata?.annotations);
        else value = fieldValue(pod, f, pod.status?.podIP ?? '', pod.status?.hostIP ?? '');
      } else if (item.resourceFieldRef) value = resourceFieldValue(item.resourceFieldRef, pod, undefined, allocatable);
    } catch (e) {
      errors.push((e as Error).message);
      continue;
    }
    out.set(p, { data: Buffer.from(value), mode: item.mode ?? defaultMode ?? DEFAULT_MODE });
  }
  if (errors.length) throw new VolumeSetUpError(errors.join(', '));
  return out;
}
