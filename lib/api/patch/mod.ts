/**
 * The patch engine behind PATCH requests: JSON patch, JSON merge patch and strategic
 * merge patch, chosen by Content-Type. Server-side apply (application/apply-patch+yaml)
 * is not one of them; callers answer it with 415 UnsupportedMediaType.
 */
import { BadRequestError } from '../errors.js';
import { applyJsonPatch } from './json.js';
import { applyMergePatch } from './merge.js';
import { applyStrategicMergePatch } from './strategic.js';

export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json.js';
export { applyMergePatch } from './merge.js';
export { applyStrategicMergePatch } from './strategic.js';

export type PatchType = 'json' | 'merge' | 'strategic';

/** The patch Content-Types the apiserver accepts, as upstream names them (types.PatchType). */
export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

/** The patch type of a request's Content-Type (parameters such as charset ignored), if supported. */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return PATCH_CONTENT_TYPES[mediaType];
}

/** Parses a patch body; upstream requires valid JSON for every non-apply patch type. */
export function parsePatchBody(body: string | Uint8Array): unknown {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('invalid JSON patch');
  }
}

/**
 * Applies a parsed patch body to `original`, an object of the schema type `typeName`
 * (only strategic merge patch reads the schema). Returns a new object; inputs are not
 * modified. Throws StatusError (400, 413 or 422) for patches that cannot be applied.
 */
export function applyPatch(patchType: PatchType, original: object, patchBody: unknown, typeName: string): unknown {
  switch (patchType) {
    case 'json':
      return applyJsonPatch(original, patchBody);
    case 'merge':
      return applyMergePatch(original, patchBody);
    case 'strategic':
      // applyStrategicMergePatch rejects a body that is not an object.
      return applyStrategicMergePatch(original, patchBody as object, typeName);
  }
}
