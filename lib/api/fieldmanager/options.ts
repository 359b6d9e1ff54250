/**
 * Upstream's checks of the write options (ValidateCreateOptions, ValidateUpdateOptions,
 * ValidatePatchOptions): apply needs a fieldManager, only apply takes force, a manager
 * name is at most 128 bytes of printable characters, dryRun holds only "All" and
 * fieldValidation is one of "", Ignore, Strict, Warn. Any of these is a 422 Invalid on
 * `<Kind>Options.meta.k8s.io ""`, every failing field a cause.
 */
import { StatusError, type StatusCause } from '../errors.js';

const FIELD_MANAGER_MAX_LENGTH = 128;

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

function isPrintable(ch: string): boolean {
  return /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch);
}

/** How field.Error prints a bad value: Go's %q for a string, %#v for a []string. */
function goValue(v: string | string[]): string {
  return Array.isArray(v) ? `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}` : JSON.stringify(v);
}

/** sets.List order of allowedFieldValidationValues */
const FIELD_VALIDATION_VALUES = ['', 'Ignore', 'Strict', 'Warn'];

export interface RawWriteOptions {
  fieldManager?: string;
  force?: boolean;
  apply?: boolean;
  /** as sent: every dryRun query value (HTTP) or the NATS request's string or list */
  dryRun?: string | string[];
  fieldValidation?: string;
}

/** Throws upstream's 422 (`PatchOptions.meta.k8s.io "" is invalid: ...`) for options it refuses. */
export function validateWriteOptions(kind: OptionsKind, opts: RawWriteOptions): void {
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
  const dryRun = opts.dryRun === undefined ? [] : Array.isArray(opts.dryRun) ? opts.dryRun : [opts.dryRun];
  if (dryRun.some((d) => d !== 'All')) {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${goValue(dryRun)}: supported values: "All"`, field: 'dryRun' });
  }
  const fv = opts.fieldValidation ?? '';
  if (!FIELD_VALIDATION_VALUES.includes(fv)) {
    const supported = FIELD_VALIDATION_VALUES.map((v) => JSON.stringify(v)).join(', ');
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${goValue(fv)}: supported values: ${supported}`, field: 'fieldValidation' });
  }
  if (!causes.length) return;
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  const message = `${kind}.meta.k8s.io "" is invalid: ${causes.length === 1 ? list : `[${list}]`}`;
  throw new StatusError(422, 'Invalid', message, { group: 'meta.k8s.io', kind, causes });
}
