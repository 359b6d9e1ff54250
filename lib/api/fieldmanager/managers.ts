/**
 * metadata.managedFields as a table of managers (upstream's managedfields.go and
 * capmanagers.go): entries decoded lazily into field sets, identified as upstream
 * identifies them (the entry without its time and fields, and without apiVersion for an
 * applier), encoded back in upstream's order, with Update entries capped at ten.
 */
import { FieldSet } from './fieldset.js';
import type { ManagedFieldsEntry } from './types.js';

/** The most Update entries kept; the oldest beyond it merge into "ancient-changes" per apiVersion. */
const MAX_UPDATE_MANAGERS = 10;

export class ManagedFieldsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManagedFieldsError';
  }
}

/** Upstream's manager identifier: the entry's JSON without time, fieldsType and fieldsV1 (and apiVersion for Apply). */
export function managerIdentifier(e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const id: Record<string, string> = {};
  if (e.manager) id.manager = e.manager;
  if (e.operation) id.operation = e.operation;
  if (e.apiVersion && e.operation !== 'Apply') id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

interface ManagerRecord {
  entry: ManagedFieldsEntry;
  /** the decoded fields; decoded on first use */
  decoded?: FieldSet;
  /** the fields changed since decoding: the entry is encoded again */
  changed: boolean;
}

export class ManagedFields {
  readonly managers = new Map<string, ManagerRecord>();

  get size(): number {
    return this.managers.size;
  }

  /** Decodes metadata.managedFields; throws ManagedFieldsError for entries upstream refuses. */
  static decode(entries: unknown): ManagedFields {
    const m = new ManagedFields();
    if (entries === undefined || entries === null) return m;
    if (!Array.isArray(entries)) throw new ManagedFieldsError('managedFields must be a list');
    entries.forEach((raw, i) => {
      if (!raw || typeof raw !== 'object') throw new ManagedFieldsError(`managed fields entry ${i} is not an object`);
      const e = raw as ManagedFieldsEntry;
      if (e.operation !== 'Apply' && e.operation !== 'Update') throw new ManagedFieldsError('operation must be `Apply` or `Update`');
      if (!e.apiVersion) throw new ManagedFieldsError('apiVersion must not be empty');
      if (!e.fieldsType) throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${i}`);
      if (e.fieldsType !== 'FieldsV1') throw new ManagedFieldsError(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
      if (e.fieldsV1 !== undefined && (e.fieldsV1 === null || typeof e.fieldsV1 !== 'object' || Array.isArray(e.fieldsV1))) {
        throw new ManagedFieldsError(`error decoding set: FieldsV1 of entry ${i} is not an object`);
      }
      m.managers.set(managerIdentifier(e), { entry: e, changed: false });
    });
    return m;
  }

  /** The fields of a manager (an empty set for one not listed). */
  fields(id: string): FieldSet {
    const r = this.managers.get(id);
    return r ? this.fieldsOf(r) : new FieldSet();
  }

  /** Whether a manager's fields include any of these top-level elements, read without decoding them. */
  mayOwnAny(id: string, topLevel: readonly string[]): boolean {
    const r = this.managers.get(id);
    if (!r) return false;
    if (r.decoded) return topLevel.some((pe) => r.decoded!.touches(pe));
    const f = r.entry.fieldsV1 as Record<string, unknown> | undefined;
    return !!f && topLevel.some((pe) => pe in f);
  }

  set(id: string, entry: Omit<ManagedFieldsEntry, 'fieldsV1' | 'fieldsType'>, fields: FieldSet): void {
    this.managers.set(id, { entry: { ...entry, fieldsType: 'FieldsV1' }, decoded: fields, changed: true });
  }

  /** Replaces a manager's fields, keeping its entry; removes the manager when none are left. */
  replaceFields(id: string, fields: FieldSet): void {
    const r = this.managers.get(id);
    if (!r) return;
    if (fields.empty()) {
      this.managers.delete(id);
      return;
    }
    r.decoded = fields;
    r.changed = true;
  }

  /** Merges the oldest Update entries into "ancient-changes" while there are more than the cap. */
  capUpdaters(): void {
    const updaters = [...this.managers.entries()].filter(([, r]) => r.entry.operation === 'Update');
    if (updaters.length <= MAX_UPDATE_MANAGERS) return;
    updaters.sort(([ia, a], [ib, b]) => seconds(a.entry.time) - seconds(b.entry.time) || (ia < ib ? -1 : ia > ib ? 1 : 0));
    const firstOfVersion = new Map<string, string>();
    let length = updaters.length;
    for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
      const [id, r] = updaters[i];
      const version = r.entry.apiVersion ?? '';
      const bucket = managerIdentifier({ manager: 'ancient-changes', operation: 'Update', apiVersion: version });
      const first = firstOfVersion.get(version);
      if (first === undefined) {
        firstOfVersion.set(version, id);
        continue;
      }
      if (!this.managers.has(bucket)) {
        const f = this.managers.get(first)!;
        this.managers.delete(first);
        this.set(bucket, { ...f.entry, manager: 'ancient-changes', subresource: undefined }, this.fieldsOf(f));
      }
      const merged = this.fields(bucket).union(this.fieldsOf(r));
      this.set(bucket, { manager: 'ancient-changes', operation: 'Update', apiVersion: version, time: r.entry.time }, merged);
      this.managers.delete(id);
      length--;
    }
  }

  /** A record's fields, decoded on first use. */
  private fieldsOf(r: ManagerRecord): FieldSet {
    if (!r.decoded) {
      try {
        r.decoded = FieldSet.fromFieldsV1(r.entry.fieldsV1 ?? {});
      } catch (e) {
        throw new ManagedFieldsError(`error decoding set: ${(e as Error).message}`);
      }
    }
    return r.decoded;
  }

  /** The entries for metadata.managedFields, in upstream's order; undefined when there are none. */
  encode(): ManagedFieldsEntry[] | undefined {
    if (!this.managers.size) return undefined;
    const out: ManagedFieldsEntry[] = [];
    for (const r of this.managers.values()) {
      if (!r.changed) {
        out.push(r.entry);
        continue;
      }
      const e: ManagedFieldsEntry = {};
      if (r.entry.manager) e.manager = r.entry.manager;
      e.operation = r.entry.operation;
      e.apiVersion = r.entry.apiVersion;
      if (r.entry.time) e.time = r.entry.time;
      e.fieldsType = 'FieldsV1';
      e.fieldsV1 = r.decoded!.toFieldsV1();
      if (r.entry.subresource) e.subresource = r.entry.subresource;
      out.push(e);
    }
    return out.sort(compareEntries);
  }
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

function compareStrings(a = '', b = ''): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Upstream's order: operation (Apply first), time, manager, apiVersion, subresource. */
function compareEntries(p: ManagedFieldsEntry, q: ManagedFieldsEntry): number {
  return (
    compareStrings(p.operation, q.operation) ||
    seconds(p.time) - seconds(q.time) ||
    compareStrings(p.manager, q.manager) ||
    compareStrings(p.apiVersion, q.apiVersion) ||
    compareStrings(p.subresource, q.subresource)
  );
}

