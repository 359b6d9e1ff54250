/**
 * JSON merge patch (RFC 7386, Content-Type application/merge-patch+json). Written here
 * rather than taken from the npm `json-merge-patch` package: the algorithm is a few
 * lines, and that package modifies its target in place, which this API must not do.
 */
import { BadRequestError } from '../errors.js';

type JsonObject = Record<string, unknown>;

/**
 * Applies an RFC 7386 merge patch: keys set to null are removed, objects merge
 * recursively, anything else (lists included) replaces. The patch must be a JSON object,
 * since a Kubernetes object can only be patched into another object (upstream answers
 * other patches with 400 "Invalid JSON Patch"). Neither input is modified.
 */
export function applyMergePatch(original: object, patch: unknown): JsonObject {
  if (!isObject(patch)) throw new BadRequestError('Invalid JSON Patch: a merge patch must be a JSON object');
  return mergeInto(isObject(original) ? clone(original) : {}, patch);
}

function mergeInto(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete target[k];
      continue;
    }
    const merged = isObject(v) ? mergeInto(isObject(target[k]) && Object.hasOwn(target, k) ? (target[k] as JsonObject) : {}, v) : clone(v);
    // defineProperty keeps a "__proto__" key an own property instead of a prototype change.
    Object.defineProperty(target, k, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return target;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
