/**
 * Pods of one template (a ReplicaSet's, a Job's, the scheduler benchmark's) have the same
 * spec once defaulted and admitted. Their creates share one spec object instead of each
 * keeping its own: deep-frozen (so a write that changes a pod in place throws rather than
 * changing its siblings; every write path copies what it changes), parsed from its JSON
 * (JSON values only), and with it what depends on the spec alone: its part of the created
 * managedFields (lib/api/fieldmanager/created.ts keeps it per frozen value), its JSON for
 * the stored bytes and its isPlainJson answer (objectjson.ts shareJson), whether it passed
 * the schema check (validateObject's conformingMember). A cached pod then holds no spec of
 * its own (nor the spec's FieldsV1), which every scavenge would copy and promote.
 *
 * A spec is shared from its second create on: the first only leaves its JSON text, so specs
 * that never repeat (a StatefulSet's pods name themselves in spec.hostname) are not parsed
 * and frozen for nothing, and lookups back off while they keep missing.
 */
import { deepFreeze } from '../../lib/api/canonical.js';
import { shareJson } from './objectjson.js';

/** The defaulted spec (admission is handed a shell of it), and what admission last made of it. */
export interface DefaultedSpec {
  /** deep-frozen */
  readonly spec: object;
  admitted?: AdmittedSpec;
}

export interface AdmittedSpec {
  /** deep-frozen, JSON values only; its JSON is known to objectjson.ts */
  readonly spec: object;
  /** a create with this spec passed validation: the spec's schema check needs no repeating */
  conforms: boolean;
}

/** distinct spec texts remembered (those seen once included): a few MB at most */
const MAX_SPECS = 1024;
/** the longest run of creates that skip the lookup after repeated misses */
const MAX_SKIP = 64;

export class SharedSpecs {
  /** by the defaulted spec's JSON text; null: seen once */
  private readonly byText = new Map<string, DefaultedSpec | null>();
  /** the last spec found or made: pods of one template come in runs */
  private last: DefaultedSpec | undefined;
  private misses = 0;
  private skip = 0;

  /** The shared form of a defaulted spec, when one with the same JSON was created before. */
  find(spec: unknown): DefaultedSpec | undefined {
    if (!isObject(spec)) return undefined;
    const last = this.last;
    if (last !== undefined && sameJson(spec, last.spec)) return last;
    if (this.skip > 0) {
      this.skip--;
      return undefined;
    }
    const text = JSON.stringify(spec);
    let found = this.byText.get(text);
    if (found === undefined) {
      if (this.byText.size >= MAX_SPECS) this.byText.delete(this.byText.keys().next().value!);
      this.byText.set(text, null);
      // specs that do not repeat: look less often, up to one create in MAX_SKIP
      this.skip = Math.min(MAX_SKIP, 2 ** this.misses++ - 1);
      return undefined;
    }
    this.misses = 0;
    if (found === null) {
      const parsed = JSON.parse(text);
      // JSON.parse's copy is the spec only when nothing in it is lost to JSON (an undefined member, a Date)
      if (!sameJson(spec, parsed)) return undefined;
      found = { spec: deepFreeze(parsed) };
      this.byText.set(text, found);
    }
    this.last = found;
    return found;
  }

  /**
   * The shared form of what admission made of `defaulted` (`spec`: a shell of its members,
   * some replaced by admission), made anew when it differs from last time's.
   */
  admitted(defaulted: DefaultedSpec, spec: unknown): AdmittedSpec | undefined {
    const a = defaulted.admitted;
    if (a !== undefined && sameJson(spec, a.spec)) return a;
    if (!isObject(spec)) return undefined;
    const text = JSON.stringify(spec);
    const parsed = JSON.parse(text);
    if (!sameJson(spec, parsed)) return undefined;
    // the members admission left alone are the defaulted spec's: the next comparison finds them by identity
    const d = defaulted.spec as Record<string, unknown>;
    for (const k of Object.keys(parsed)) if (spec[k] === d[k] && Object.hasOwn(d, k)) parsed[k] = d[k];
    const shared: AdmittedSpec = { spec: deepFreeze(parsed), conforms: false };
    shareJson(shared.spec, text);
    defaulted.admitted = shared;
    return shared;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Whether `a` is `b` as JSON values: plain objects with the same members in the same order,
 * arrays of the same length, the same primitives. `b` holds JSON values only (JSON.parse
 * made it), so their JSON texts are equal too.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(b)) {
    if (!Array.isArray(a) || Object.getPrototypeOf(a) !== Array.prototype || a.length !== b.length) return false;
    for (let i = 0; i < b.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Array.isArray(a)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const yk = Object.keys(y);
  let i = 0;
  for (const k in x) {
    if (yk[i] !== k || !sameJson(x[k], y[k])) return false;
    i++;
  }
  return i === yk.length;
}
