/**
 * JSON with object keys sorted, for comparing API objects: an object that went through
 * the apiserver comes back with its fields in the server's order, which must not read as
 * a change. `omit` names the property values that count as absent (default: undefined,
 * which JSON drops anyway); array elements are kept as they are.
 */
export function canonicalJson(v: unknown, omit: (value: unknown) => boolean = isUndefined): string {
  return JSON.stringify(v, (_key, value) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) if (!omit(value[k])) sorted[k] = value[k];
    return sorted;
  });
}

const isUndefined = (v: unknown) => v === undefined;

/** For canonicalJson: null counts as absent too (a pointer field the server returns as null). */
export const isNullish = (v: unknown) => v === undefined || v === null;

/** For canonicalJson: null and the empty string count as absent (optional strings). */
export const isUnset = (v: unknown) => v === undefined || v === null || v === '';

/** Go's json.Marshal sorts map keys; bad values in messages are rendered the same way. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/**
 * Whether two decoded JSON values are equal: members in any order, and a member set to
 * undefined counts as absent, as in their JSON.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    const v = x[k];
    if (v === undefined) continue;
    n++;
    if (!jsonEqual(v, y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) n--;
  return n === 0;
}

/** Freezes a decoded JSON value and everything in it, so a shared value cannot be changed in place. */
export function deepFreeze<T extends object>(v: T): T {
  if (Object.isFrozen(v)) return v;
  for (const k of Object.keys(v)) {
    const c = (v as Record<string, unknown>)[k];
    if (typeof c === 'object' && c !== null) deepFreeze(c);
  }
  return Object.freeze(v);
}
