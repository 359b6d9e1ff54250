/**
 * Field errors shaped like upstream field.Error.ErrorBody(): the builders every kind's
 * validation and the schema walk (validate.ts) use, one for each upstream ErrorType.
 */
import { goQuote } from '../api/labels.js';
import type { FieldError } from './types.js';

/** Go's rendering of a bad value: strings quoted, numbers and booleans bare, the rest as JSON. */
function showValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export function required(field: string, detail = ''): FieldError {
  return { field, reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' };
}

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { field, reason: 'FieldValueInvalid', message: `Invalid value: ${showValue(value)}${detail ? ': ' + detail : ''}` };
}

export function typeInvalid(field: string, value: unknown, detail: string): FieldError {
  return { field, reason: 'FieldValueTypeInvalid', message: `Invalid value: ${showValue(value)}${detail ? ': ' + detail : ''}` };
}

export function notSupported(field: string, value: unknown, valid: readonly string[]): FieldError {
  const detail = valid.length ? 'supported values: ' + valid.map(goQuote).join(', ') : '';
  return { field, reason: 'FieldValueNotSupported', message: `Unsupported value: ${showValue(value)}${detail ? ': ' + detail : ''}` };
}

export function forbidden(field: string, detail: string): FieldError {
  return { field, reason: 'FieldValueForbidden', message: detail ? `Forbidden: ${detail}` : 'Forbidden' };
}

export function tooLong(field: string, maxBytes: number): FieldError {
  return { field, reason: 'FieldValueTooLong', message: `Too long: may not be more than ${maxBytes} bytes` };
}

/** How duplicate and not-found values are rendered: strings and objects as JSON, the rest bare. */
const quote = (v: unknown): string => (typeof v === 'string' || (v !== null && typeof v === 'object') ? JSON.stringify(v) : String(v));

export function duplicate(field: string, value: unknown): FieldError {
  return { field, reason: 'FieldValueDuplicate', message: `Duplicate value: ${quote(value)}` };
}

export function notFound(field: string, value: unknown): FieldError {
  return { field, reason: 'FieldValueNotFound', message: `Not found: ${quote(value)}` };
}

/** Every builder by name, for validation code that reads better as `fieldError.invalid(...)`. */
export const fieldError = { required, invalid, typeInvalid, notSupported, forbidden, tooLong, duplicate, notFound };
