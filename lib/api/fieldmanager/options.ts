/**
 * Upstream's checks of the write options field management reads (ValidatePatchOptions,
 * ValidateFieldManager): apply needs a fieldManager, only apply takes force, and a
 * manager name is at most 128 bytes of printable characters.
 */
import { StatusError, type StatusCause } from '../errors.js';

export const FIELD_MANAGER_MAX_LENGTH = 128;

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

function isPrintable(ch: string): boolean {
  return /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch);
}

/** Throws upstream's 422 (`PatchOptions.meta.k8s.io "" is invalid: ...`) for options it refuses. */
export function validateWriteOptions(kind: OptionsKind, opts: { fieldManager?: string; force?: boolean; apply?: boolean }): void {
  const causes: StatusCause[] = [];
  if (kind === 'PatchOptions') {
    if (!opts.apply && opts.force !== undefined) {
      causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch', field: 'force' });
    } else if (opts.apply && !opts.fieldManager) {
      causes.push({ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' });
    }
  }
  const m = opts.fieldManager ?? '';
  if (Buffer.byteLength(m) > FIELD_MANAGER_MAX_LENGTH) {
    causes.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`, field: 'fieldManager' });
  }
  let i = 0;
  for (const ch of m) {
    if (!isPrintable(ch)) {
      const cp = ch.codePointAt(0)!;
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(m)}: invalid character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (at position ${i})`,
        field: 'fieldManager',
      });
    }
    i += Buffer.byteLength(ch);
  }
  if (!causes.length) return;
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const message = `${kind}.meta.k8s.io "" is invalid: ${causes.length === 1 ? list : `[${list}]`}`;
  throw new StatusError(422, 'Invalid', message, { group: 'meta.k8s.io', kind, causes });
}
