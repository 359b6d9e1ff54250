/**
 * JSON patch (RFC 6902, Content-Type application/json-patch+json) on fast-json-patch,
 * with upstream's error mapping (apiserver/pkg/endpoints/handlers/patch.go):
 * a body that is not a list of operation objects is 400 BadRequest; more than 10000
 * operations is 413; an operation that cannot be applied (failed `test`, missing path,
 * unknown `op`, …) is 422 Invalid.
 */
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { BadRequestError, StatusError } from '../errors.js';

/** Upstream's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** Applies RFC 6902 operations to a copy of `original`; neither input is modified. */
export function applyJsonPatch(original: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    throw new BadRequestError(`a JSON patch must be a list of operations, got ${describe(ops)}`);
  }
  ops.forEach((op, i) => {
    if (typeof op !== 'object' || op === null || Array.isArray(op)) {
      throw new BadRequestError(`JSON patch operation ${i} must be an object, got ${describe(op)}`);
    }
  });
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError(
      413,
      'RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  // The library inserts operation values by reference; copies keep the caller's patch untouched.
  const document = JSON.parse(JSON.stringify(original ?? null)) as unknown;
  const operations = JSON.parse(JSON.stringify(ops)) as Operation[];
  try {
    return jsonpatch.applyPatch(document, operations, true, true).newDocument;
  } catch (e) {
    throw unprocessable(e, operations);
  }
}

/**
 * Upstream answers with NewGenericServerResponse(422), whose message is the generic one
 * below; the actual failure goes into details.causes so kubectl prints it.
 */
function unprocessable(e: unknown, ops: Operation[]): StatusError {
  const err = e as { message?: string; index?: number };
  const firstLine = String(err.message ?? e).split('\n')[0];
  const where = typeof err.index === 'number' ? ` (operation ${err.index}: ${JSON.stringify(ops[err.index])})` : '';
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ field: 'patch', message: `${firstLine}${where}` }],
  });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
