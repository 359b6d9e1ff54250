/**
 * Generic object storage for every served kind: the upstream "registry" layer. It does
 * the object bookkeeping (uid, generateName, creationTimestamp, generation, finalizers,
 * graceful deletion), validation, dry-run and compare-and-swap against the KV store,
 * and reads from the watch cache. The HTTP and NATS front ends both call it.
 */
import { randomFillSync, randomUUID } from 'node:crypto';
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  InvalidError,
  NotFoundError,
  StatusError,
  type StatusCause,
} from '../../lib/api/errors.js';
import type { DeleteOptions, PatchType } from '../../lib/client/mod.js';
import { jsonEqual } from '../../lib/api/canonical.js';
import { applyPatch } from '../../lib/api/patch/mod.js';
import { applyConfiguration, fieldManagerTarget, trackUpdate, type FieldManagerTarget } from '../../lib/api/fieldmanager/mod.js';
import { applySchemaDefaults } from '../../lib/schema/defaults.js';
import { normaliseTimestamps } from '../../lib/schema/timestamps.js';
import type { FieldError } from '../../lib/schema/types.js';
import { invalid as invalidValue, required } from '../../lib/schema/fielderrors.js';
import { checkFieldValidation, findDuplicateYamlKeys } from '../../lib/schema/fieldvalidation.js';
import { validateObject } from '../../lib/schema/validate.js';
import { objectKey } from '../../lib/store/keys.js';
import { KeyExistsError, RevisionMismatchError, type KvStore } from '../../lib/store/kvstore.js';
import type { ServedKind } from './kinds.js';
import { findKind } from './kinds.js';
import type { WatchCache } from './watchcache.js';
import { metaTime } from '../../lib/api/time.js';
import { encodeStored, isPlainJson, splicedStored, storedBytes, type StoredBytes } from './objectjson.js';
import { SharedSpecs } from './sharedspecs.js';

export interface WriteContext {
  dryRun?: boolean;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** the request body as text, for duplicate-field detection */
  rawBody?: string;
  /** warnings for the response's Warning headers */
  warnings: string[];
  /** the manager this write's fields are recorded under (managedFields) */
  fieldManager?: string;
  /** apply: take over fields other managers own */
  force?: boolean;
  /** the object's managedFields are already computed (an apply that creates) */
  managedFieldsSet?: boolean;
  /**
   * the body was decoded for this request alone (a front end's create) and its caller keeps
   * nothing of it: the object written from it may become the watch cache's own
   */
  bodyOwned?: boolean;
  /**
   * the front end answers with the object written, encoded as its change event was (NATS
   * replies to writes): the change event keeps its encoding for that reply
   */
  replyAsWritten?: boolean;
}

/** Which part of an object a write goes to, for field management. */
export type WriteTarget = 'main' | 'status' | 'scale';

/** A guaranteedUpdate that records its change in managedFields. */
interface Tracking {
  target: FieldManagerTarget;
  manager: string;
}

/** A change this apiserver made, for change-event publishing. */
export interface ChangeNotice {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: ServedKind;
  /** the object as the kind's API version shows it (converted from the stored shape) */
  obj: any;
  /**
   * the stored encoding obj was written as, when its JSON is that with its resourceVersion
   * spliced in (withResourceVersionParts): set by writes that can vouch for it
   */
  stored?: StoredBytes;
  /** the write's reply is its object encoded as this change event (WriteContext.replyAsWritten) */
  forReply?: boolean;
}

const MAX_CONFLICT_RETRIES = 8;
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

let nowSecond = -1;
let nowText = '';

/** RFC 3339 at second precision (metav1.Time); formatted once a second, as every write stamps one. */
export function now(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== nowSecond) {
    nowSecond = second;
    nowText = metaTime(second * 1000);
  }
  return nowText;
}

/** random bytes drawn from the system in blocks: one call per block, not per generated name */
const entropy = Buffer.alloc(4096);
let entropyAt = entropy.length;

function randomSuffix(n = 5): string {
  if (entropyAt + n > entropy.length) {
    randomFillSync(entropy);
    entropyAt = 0;
  }
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[entropy[entropyAt++] % NAME_CHARS.length];
  return s;
}

/** The stored bytes: the object without resourceVersion (the revision is its version). */
export function encodeForStore(obj: any): Buffer {
  return Buffer.from(encodeStored(obj).text);
}

/**
 * `enc` when the object just written from it is its JSON with the revision spliced in:
 * its resourceVersion set last (every write path deletes it before encoding and sets it
 * after). Undefined when the object's metadata is not in that shape.
 */
function writtenAs(enc: StoredBytes, obj: any, rev: number): StoredBytes | undefined {
  const meta = obj.metadata;
  if (!meta || meta.selfLink !== undefined) return undefined;
  const keys = Object.keys(meta);
  if (keys[keys.length - 1] !== 'resourceVersion' || meta.resourceVersion !== String(rev)) return undefined;
  return enc;
}

function invalid(kind: ServedKind, name: string, errs: FieldError[]): InvalidError {
  const causes: StatusCause[] = errs.map((e) => ({ reason: e.reason, message: e.message, field: e.field }));
  return new InvalidError(kind.qualified, name, causes);
}


/** Everything but metadata and status: the part whose change bumps generation. */
function specOf(obj: any): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

/**
 * An admission plugin (upstream's mutating and validating admission), run on writes to the
 * main resource, after defaulting and before validation.
 */
export interface AdmissionPlugin {
  /** may wait (e.g. for the cache to catch up); throws a StatusError to reject */
  admitCreate?(kind: ServedKind, obj: any): Promise<void> | void;
  /** synchronous: runs inside the compare-and-swap loop; `old` is the current object */
  admitUpdate?(kind: ServedKind, obj: any, old: any): void;
}

/** What a write hook does once the store answered: keep its reservations (true) or undo them (false). */
export type WriteOutcome = (committed: boolean) => Promise<void>;

/**
 * Upstream's BeginCreate/BeginUpdate/AfterDelete: a hook that reserves what an object holds
 * outside itself (a Service's cluster IPs and node ports) right before the object is
 * written, learns whether the write landed, and releases it when the object leaves the
 * store. Runs on client writes of the main resource, after validation (dry runs too:
 * `ctx.dryRun` says to reserve nothing).
 */
export interface WriteHook {
  /** the kinds whose writes it takes part in; every other kind's writes skip it altogether */
  appliesTo(kind: ServedKind): boolean;
  beginCreate?(kind: ServedKind, obj: any, ctx: WriteContext): Promise<WriteOutcome | undefined>;
  beginUpdate?(kind: ServedKind, obj: any, old: any, ctx: WriteContext): Promise<WriteOutcome | undefined>;
  /** the object is gone from the store (deleted, or its last finalizer removed) */
  afterDelete?(kind: ServedKind, obj: any): Promise<void>;
}

/** how many names a create with generateName draws before answering AlreadyExists (upstream: 8) */
const GENERATE_NAME_ATTEMPTS = 8;

export class ObjectStorage {
  /** Called after every successful write this instance made (not on dry-run). */
  onChange?: (n: ChangeNotice) => void;
  /** admission plugins, in order */
  readonly admission: AdmissionPlugin[] = [];
  /** write hooks, in order */
  private readonly hooks: WriteHook[] = [];
  /** the hooks of each kind; most kinds have none, and their writes then take no hook step */
  private hooksByKind = new WeakMap<ServedKind, WriteHook[]>();

  /** the specs pods of one template share */
  readonly specs = new SharedSpecs();

  /** draws the random part of a generated name (a test may draw names of its choosing) */
  nameSuffix: () => string = randomSuffix;

  constructor(
    readonly store: KvStore,
    readonly cache: WatchCache,
  ) {}

  /**
   * A name from generateName that the watch cache does not hold (the store's create still
   * decides). A collision found by the store costs far more than a cache lookup: nats-server
   * 2.9 checks the create's expected-last-subject-sequence by loading the 4 MB block that
   * holds the existing key, and the store reads that key to tell a tombstone from an object.
   * Five characters of 27 collide often in a big namespace: one draw in 14 at a million pods.
   */
  private generatedName(kind: ServedKind, namespace: string, generateName: string): string {
    const ns = kind.def.namespaced ? namespace : '';
    let name = '';
    for (let draw = 0; draw < GENERATE_NAME_ATTEMPTS; draw++) {
      name = `${generateName}${this.nameSuffix()}`;
      if (this.cache.revisionOf(kind.storage, ns, name) === undefined) break;
    }
    return name;
  }

  key(kind: ServedKind, namespace: string, name: string): string {
    return objectKey(kind.storage, kind.def.namespaced ? namespace : undefined, name);
  }

  /** Reads from the cache; `consistent` first waits for every acknowledged write. */
  async get(kind: ServedKind, namespace: string, name: string, consistent = true): Promise<any> {
    if (consistent) await this.cache.waitConsistent();
    const c = this.cache.get(kind.storage, kind.def.namespaced ? namespace : '', name);
    if (!c) throw new NotFoundError(kind.qualified, name);
    return this.present(kind, c.obj);
  }

  /** The object as this kind's API version shows it (events.k8s.io converts). */
  addHook(hook: WriteHook): void {
    this.hooks.push(hook);
    this.hooksByKind = new WeakMap();
  }

  private hooksFor(kind: ServedKind): WriteHook[] {
    let hooks = this.hooksByKind.get(kind);
    if (!hooks) this.hooksByKind.set(kind, (hooks = this.hooks.filter((h) => h.appliesTo(kind))));
    return hooks;
  }

  present(kind: ServedKind, stored: any): any {
    return kind.def.storage ? kind.def.storage.fromStorage(stored) : stored;
  }

  private toStored(kind: ServedKind, obj: any): any {
    if (kind.def.storage) {
      const s = kind.def.storage.toStorage(obj);
      return s;
    }
    return obj;
  }

  private checkTypeMeta(kind: ServedKind, obj: any): void {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new BadRequestError(`the body of the request must be a ${kind.def.kind} object`);
    }
    if (obj.kind !== undefined && obj.kind !== kind.def.kind) {
      throw new BadRequestError(`the kind in the data (${obj.kind}) does not match the expected kind (${kind.def.kind})`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== kind.apiVersion) {
      throw new BadRequestError(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${kind.apiVersion})`,
      );
    }
    if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata))) {
      throw new BadRequestError('metadata must be an object');
    }
  }

  /** Undefined when the cache had the namespace (no wait: a create awaits only what can wait). */
  private checkNamespace(kind: ServedKind, namespace: string, name: string): Promise<void> | undefined {
    if (!kind.def.namespaced) return undefined;
    const nsKind = findKind('', 'v1', 'namespaces');
    if (!nsKind) return undefined;
    const ns = this.cache.get(nsKind.storage, '', namespace);
    if (ns) {
      this.namespaceOpen(kind, ns.obj, namespace, name);
      return undefined;
    }
    // a namespace created a moment ago may not have reached the cache yet
    return this.cache.waitConsistent().then(() => {
      const caught = this.cache.get(nsKind.storage, '', namespace);
      if (!caught) throw new NotFoundError(nsKind.qualified, namespace);
      this.namespaceOpen(kind, caught.obj, namespace, name);
    });
  }

  private namespaceOpen(kind: ServedKind, ns: any, namespace: string, name: string): void {
    if (ns.metadata?.deletionTimestamp) {
      throw new StatusError(403, 'Forbidden', `${kind.def.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private validate(kind: ServedKind, obj: any, old: any | undefined, ctx: WriteContext, rawObj: any, conformingMember?: string): void {
    // upstream decodes strictly before it validates: a strict error (400) wins over 422
    const mode = ctx.fieldValidation ?? 'Ignore';
    if (mode !== 'Ignore') {
      const r = checkFieldValidation(ctx.rawBody, rawObj, kind.def.definition, mode);
      if (r.errors.length) throw new BadRequestError(`strict decoding error: ${r.errors.join(', ')}`);
      ctx.warnings.push(...r.warnings);
    }
    const errs: FieldError[] = validateObject(obj, kind.def.definition, {
      nameRule: kind.def.nameRule ?? 'subdomain',
      namespaced: kind.def.namespaced,
      conformingMember,
    });
    if (kind.def.validate) errs.push(...kind.def.validate(obj, old));
    if (errs.length) throw invalid(kind, obj.metadata?.name ?? '', errs);
  }

  /** runs on every client write (create, update, patch), not on the apiserver's own trusted ones */
  private applyDefaults(kind: ServedKind, obj: any): void {
    applySchemaDefaults(obj, kind.def.definition);
    kind.def.defaults?.(obj);
    normaliseTimestamps(obj, kind.def.definition);
  }

  async create(kind: ServedKind, namespace: string, body: any, ctx: WriteContext): Promise<any> {
    this.checkTypeMeta(kind, body);
    const raw = body;
    // front ends hand over freshly decoded bodies; a copy is only needed when the
    // untouched original is checked for unknown fields after defaulting
    const obj = ctx.fieldValidation && ctx.fieldValidation !== 'Ignore' ? structuredClone(body) : body;
    obj.apiVersion = kind.apiVersion;
    obj.kind = kind.def.kind;
    const meta = (obj.metadata ??= {});
    if (kind.def.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) {
        throw new BadRequestError('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    const generated = !meta.name && !!meta.generateName;
    if (generated) meta.name = this.generatedName(kind, namespace, meta.generateName);
    if (!meta.name) {
      throw invalid(kind, '', [required('metadata.name', 'name or generateName is required')]);
    }
    const namespaceCaughtUp = this.checkNamespace(kind, namespace, meta.name);
    if (namespaceCaughtUp) await namespaceCaughtUp;
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (kind.def.generation) meta.generation = 1;
    else delete meta.generation;
    if (kind.def.subresources?.includes('status') && kind.def.kind !== 'Node') {
      delete obj.status;
    }
    kind.def.prepareForCreate?.(obj);
    this.applyDefaults(kind, obj);
    // pods of one template share their spec (sharedspecs.ts): only a body nobody else holds, and not one
    // whose original is checked for unknown fields
    const defaulted = kind.def.kind === 'Pod' && !kind.def.storage && ctx.bodyOwned && obj === body ? this.specs.find(obj.spec) : undefined;
    // admission is handed a shell of the shared spec: a plugin replaces members (both do), so the
    // members it leaves alone stay shared and the comparison after it finds them at once
    const ownSpec = defaulted ? { ...defaulted.spec } : obj.spec;
    // upstream records the create's fields after decoding (defaults included), before admission
    if (!ctx.managedFieldsSet) {
      // the shared spec's part of them is made once
      if (defaulted) obj.spec = defaulted.spec;
      try {
        trackUpdate(this.fieldManager(kind, 'main'), undefined, obj, ctx.fieldManager ?? '', now());
      } finally {
        if (defaulted) obj.spec = ownSpec;
      }
    } else if (meta.managedFields) {
      // managedFields last in metadata, where every later write puts them: a no-op stays a no-op
      const mf = meta.managedFields;
      delete meta.managedFields;
      meta.managedFields = mf;
    }
    for (const a of this.admission) {
      // most plugins answer at once: only one that waits is awaited
      const admitted = a.admitCreate?.(kind, obj);
      if (admitted) await admitted;
    }
    // the admitted spec shared too, unless a plugin replaced the spec object itself (none does)
    const shared = defaulted && obj.spec === ownSpec ? this.specs.admitted(defaulted, ownSpec) : undefined;
    if (shared) obj.spec = shared.spec;
    this.validate(kind, obj, undefined, ctx, raw, shared?.conforms ? 'spec' : undefined);
    if (shared) shared.conforms = true;
    const hooks = this.hooksFor(kind);
    const outcome = hooks.length ? await this.begin(hooks.map((h) => h.beginCreate && (() => h.beginCreate!(kind, obj, ctx)))) : undefined;
    if (ctx.dryRun) {
      if (outcome) await outcome(false);
      return obj;
    }
    let rev: number;
    let enc: StoredBytes;
    const stored = this.toStored(kind, obj);
    // the cache keeps the object written rather than parsing the store's copy of it, when
    // nobody else holds it and parsing its text would give it back (a JSON.parse less a write)
    const keep = ctx.bodyOwned && isPlainJson(stored) ? stored : undefined;
    // an unscheduled pod's stored bytes are kept for its binding, which is spliced from them
    const forBinding = stored === obj && !obj.spec?.nodeName && !!kind.def.subresources?.includes('binding');
    try {
      // upstream RetryGenerateName (on by default since 1.31): a generated name that collides is drawn again
      for (let attempt = 1; ; attempt++) {
        enc = storedBytes(encodeStored(stored));
        const key = this.key(kind, namespace, meta.name);
        const forget = this.cache.expectWrite(key, enc, keep, forBinding);
        try {
          rev = await this.store.create(key, enc.bytes);
          break;
        } catch (e) {
          forget();
          if (!(e instanceof KeyExistsError)) throw e;
          if (!generated || attempt >= GENERATE_NAME_ATTEMPTS) throw new AlreadyExistsError(kind.qualified, meta.name);
          meta.name = this.generatedName(kind, namespace, meta.generateName);
        }
      }
    } catch (e) {
      if (outcome) await outcome(false);
      throw e;
    }
    if (outcome) await outcome(true);
    meta.resourceVersion = String(rev);
    this.onChange?.({ type: 'ADDED', kind, obj, stored: stored === obj ? writtenAs(enc!, obj, rev) : undefined, forReply: ctx.replyAsWritten });
    return obj;
  }

  /**
   * Replaces an object (PUT). On the main resource, status changes are ignored for kinds
   * with a status subresource; on "status", only status changes are kept.
   */
  async update(kind: ServedKind, namespace: string, name: string, body: any, ctx: WriteContext, subresource?: 'status'): Promise<any> {
    this.checkTypeMeta(kind, body);
    if (body.metadata?.name && body.metadata.name !== name) {
      throw new BadRequestError(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (kind.def.namespaced && body.metadata?.namespace && body.metadata.namespace !== namespace) {
      throw new BadRequestError('the namespace of the provided object does not match the namespace sent on the request');
    }
    const wantRV = body.metadata?.resourceVersion ? Number(body.metadata.resourceVersion) : undefined;
    if (wantRV !== undefined && !Number.isSafeInteger(wantRV)) {
      throw new BadRequestError(`invalid resourceVersion "${body.metadata.resourceVersion}"`);
    }
    const wantUid: unknown = body.metadata?.uid;
    return this.guaranteedUpdate(kind, namespace, name, ctx, wantRV, (current) => {
      // a uid in the body is a precondition, as upstream's update takes it: a replaced object is not overwritten
      if (wantUid && wantUid !== current.metadata?.uid) {
        throw new ConflictError(kind.qualified, name, `Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${current.metadata?.uid}`);
      }
      const next = structuredClone(body);
      next.apiVersion = kind.apiVersion;
      next.kind = kind.def.kind;
      next.metadata ??= {};
      return this.admitUpdate(kind, this.mergeSystemFields(kind, current, next, subresource, true), current, subresource);
    }, body, false, this.tracking(kind, subresource ?? 'main', ctx));
  }

  /** PATCH: applies the patch to the current object and writes it with compare-and-swap. */
  async patch(kind: ServedKind, namespace: string, name: string, patchType: PatchType, patchBody: unknown, ctx: WriteContext, subresource?: 'status'): Promise<any> {
    if (patchType === 'apply') return (await this.apply(kind, namespace, name, patchBody, ctx, subresource)).obj;
    let precondition: number | undefined;
    const pb = patchBody as any;
    // a patch body is not an object of this kind (directives, JSON patch ops): unknown
    // fields are checked on the patched result instead
    ctx = { ...ctx, rawBody: undefined };
    if (patchType !== 'json' && pb && typeof pb === 'object' && pb.metadata?.resourceVersion) {
      precondition = Number(pb.metadata.resourceVersion);
    }
    return this.guaranteedUpdate(kind, namespace, name, ctx, precondition, (current) => {
      const presented = this.present(kind, current);
      const patched = applyPatch(patchType, presented, patchBody, kind.def.definition) as any;
      if (!patched || typeof patched !== 'object' || Array.isArray(patched)) {
        throw new BadRequestError('the patch produced something that is not an object');
      }
      this.checkTypeMeta(kind, patched);
      if (patched.metadata?.name !== undefined && patched.metadata.name !== name) {
        throw new BadRequestError(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
      }
      if (patched.metadata?.uid && patched.metadata.uid !== presented.metadata?.uid) {
        throw invalid(kind, name, [invalidValue('metadata.uid', patched.metadata.uid, 'field is immutable')]);
      }
      // every patch type's result is a copy of its own (lib/api/patch)
      return this.admitUpdate(kind, this.mergeSystemFields(kind, presented, patched, subresource, true), presented, subresource);
    }, undefined, false, this.tracking(kind, subresource ?? 'main', ctx));
  }

  private readonly targets = new Map<string, FieldManagerTarget>();

  /** The field manager of a kind's main resource, status or scale (its spec replicas). */
  private fieldManager(kind: ServedKind, target: WriteTarget): FieldManagerTarget {
    const key = `${kind.qualified.group ?? ''}/${kind.def.plural}/${target}`;
    let t = this.targets.get(key);
    if (!t) {
      const hasStatus = !!kind.def.subresources?.includes('status');
      const scope =
        target === 'status'
          ? ({ kind: 'status' } as const)
          : target === 'scale'
            ? ({ kind: 'path', path: kind.def.scale?.specReplicas ?? ['spec', 'replicas'] } as const)
            : ({ kind: 'main', ignoreStatus: hasStatus } as const);
      t = fieldManagerTarget(kind.def.definition, kind.apiVersion, kind.def.kind, scope, target === 'main' ? undefined : target);
      this.targets.set(key, t);
    }
    return t;
  }

  private tracking(kind: ServedKind, target: WriteTarget, ctx: WriteContext): Tracking {
    return { target: this.fieldManager(kind, target), manager: ctx.fieldManager ?? '' };
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml): merges the configuration into
   * the object, or creates it when absent, recording the fields under ctx.fieldManager.
   * `target` "scale" applies a Scale's spec.replicas to the object's replicas.
   */
  async apply(kind: ServedKind, namespace: string, name: string, config: unknown, ctx: WriteContext, target: 'status' | 'scale' | undefined = undefined): Promise<{ obj: any; created: boolean }> {
    const manager = ctx.fieldManager ?? '';
    const fm = this.fieldManager(kind, target ?? 'main');
    this.checkApplyDuplicates(ctx);
    const cfg = config as any;
    const pinned = cfg && typeof cfg === 'object' && cfg.metadata?.resourceVersion ? Number(cfg.metadata.resourceVersion) : undefined;
    if (pinned !== undefined && !Number.isSafeInteger(pinned)) throw new BadRequestError(`invalid resourceVersion "${cfg.metadata.resourceVersion}"`);
    for (let attempt = 0; ; attempt++) {
      await this.cache.waitConsistent();
      const c = this.cache.get(kind.storage, kind.def.namespaced ? namespace : '', name);
      if (!c) {
        if (target) throw new NotFoundError(kind.qualified, name);
        // apply creates what does not exist (upstream's forceAllowCreate for apply)
        const r = applyConfiguration(fm, undefined, cfg, manager, !!ctx.force, now());
        const obj = r.object;
        if (obj.metadata?.name !== name) {
          throw new BadRequestError(`the name of the object (${obj.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
        }
        try {
          return { obj: await this.create(kind, namespace, obj, { ...ctx, rawBody: undefined, fieldValidation: undefined, managedFieldsSet: true }), created: true };
        } catch (e) {
          // created meanwhile by someone else: apply to it instead
          if (e instanceof AlreadyExistsError && attempt < MAX_CONFLICT_RETRIES) continue;
          throw e;
        }
      }
      const obj = await this.guaranteedUpdate(kind, namespace, name, { ...ctx, rawBody: undefined }, pinned, (current) => {
        const presented = this.present(kind, current);
        const merged = applyConfiguration(fm, presented, cfg, manager, !!ctx.force, now()).object;
        if (merged.metadata?.name !== undefined && merged.metadata.name !== name) {
          throw new BadRequestError(`the name of the object (${merged.metadata.name}) does not match the name on the URL (${name})`);
        }
        if (kind.def.namespaced && merged.metadata?.namespace && merged.metadata.namespace !== namespace) {
          throw new BadRequestError(`the namespace of the object (${merged.metadata.namespace}) does not match the namespace on the URL (${namespace})`);
        }
        if (merged.metadata?.uid && merged.metadata.uid !== presented.metadata?.uid) {
          throw invalid(kind, name, [invalidValue('metadata.uid', merged.metadata.uid, 'field is immutable')]);
        }
        const managedFields = merged.metadata?.managedFields;
        const next = this.admitUpdate(kind, this.mergeSystemFields(kind, presented, merged, target === 'status' ? 'status' : undefined), presented, target === 'status' ? 'status' : undefined);
        if (managedFields) next.metadata.managedFields = managedFields;
        else delete next.metadata.managedFields;
        return next;
      }, undefined);
      return { obj, created: false };
    }
  }

  /** fieldValidation on an apply body: duplicate keys are what upstream's strict YAML decoding finds. */
  private checkApplyDuplicates(ctx: WriteContext): void {
    const mode = ctx.fieldValidation ?? 'Ignore';
    if (mode === 'Ignore' || ctx.rawBody === undefined) return;
    const dup = findDuplicateYamlKeys(ctx.rawBody);
    if (!dup) return;
    if (mode === 'Strict') throw new BadRequestError(`error strict decoding YAML: ${dup}`);
    ctx.warnings.push(dup);
  }

  /** Runs the hooks' begin steps in order; one that fails undoes those before it. */
  private async begin(steps: Array<(() => Promise<WriteOutcome | undefined>) | undefined>): Promise<WriteOutcome> {
    const outcomes: WriteOutcome[] = [];
    const all: WriteOutcome = async (committed) => {
      for (const o of outcomes) await o(committed);
    };
    for (const step of steps) {
      if (!step) continue;
      try {
        const o = await step();
        if (o) outcomes.push(o);
      } catch (e) {
        await all(false);
        throw e;
      }
    }
    return all;
  }

  private async afterDelete(kind: ServedKind, obj: any): Promise<void> {
    for (const h of this.hooksFor(kind)) {
      // the object is gone either way; what a hook could not release its repair pass finds
      await h.afterDelete?.(kind, obj).catch((e) => console.error(`apiserver: after deleting ${kind.def.plural} ${obj?.metadata?.namespace ?? ''}/${obj?.metadata?.name}: ${(e as Error).message}`));
    }
  }

  private admitUpdate(kind: ServedKind, next: any, current: any, subresource?: 'status'): any {
    if (subresource) return next;
    for (const a of this.admission) a.admitUpdate?.(kind, next, current);
    return next;
  }

  /**
   * The apiserver's own read-modify-write of an object (finalize, eviction, binding, ...).
   * `trusted` writes skip defaulting, validation and the no-op comparison, as upstream's
   * pods/binding storage does: the mutation is the apiserver's own and known to be valid.
   * A trusted mutate must not modify the object it is given (it is the cached one) and
   * returns plain JSON values only: the watch cache keeps the object written, so what a
   * trusted patchWith resolves to is the cached object, not to be changed either.
   */
  async patchWith(kind: ServedKind, namespace: string, name: string, ctx: WriteContext, mutate: (current: any) => any, opts: { trusted?: boolean; track?: WriteTarget } = {}): Promise<any> {
    return this.guaranteedUpdate(kind, namespace, name, ctx, undefined, (current) => {
      const presented = this.present(kind, current);
      return this.mergeSystemFields(kind, presented, mutate(presented), 'internal');
    }, undefined, opts.trusted ?? false, opts.track ? this.tracking(kind, opts.track, ctx) : undefined);
  }

  applyPatchTo(patchType: Exclude<PatchType, 'apply'>, obj: any, patch: unknown, typeName: string): any {
    return applyPatch(patchType, obj, patch, typeName);
  }

  /**
   * Keeps what clients may not change and what the subresource split protects: "status"
   * keeps only status changes; the main resource keeps everything but status; "internal"
   * (the apiserver's own writes) keeps both.
   */
  private mergeSystemFields(kind: ServedKind, current: any, next: any, subresource?: 'status' | 'internal', nextIsOwn = false): any {
    const cm = current.metadata;
    next.apiVersion = kind.apiVersion;
    next.kind = kind.def.kind;
    next.metadata ??= {};
    const nm = next.metadata;
    nm.name = cm.name;
    if (kind.def.namespaced) nm.namespace = cm.namespace;
    else delete nm.namespace;
    nm.uid = cm.uid;
    if (cm.creationTimestamp !== undefined) nm.creationTimestamp = cm.creationTimestamp;
    else delete nm.creationTimestamp;
    if (cm.deletionTimestamp) nm.deletionTimestamp = cm.deletionTimestamp;
    else delete nm.deletionTimestamp;
    if (cm.deletionGracePeriodSeconds !== undefined) nm.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
    else delete nm.deletionGracePeriodSeconds;
    if (cm.generation !== undefined) nm.generation = cm.generation;
    else delete nm.generation;
    delete nm.selfLink;
    const hasStatus = kind.def.subresources?.includes('status');
    if (subresource === 'status') {
      // upstream ResetObjectMetaForStatus: status writes change nothing but status. Members
      // the write left as they were are taken from `next` when nothing of it is shared with
      // `current` (nextIsOwn: a patch's result, a request's body), sparing a copy of the
      // object; the others are copied from `current`
      const kept: any = {};
      for (const k of Object.keys(current)) {
        if (k === 'status') kept.status = next.status;
        else kept[k] = nextIsOwn && jsonEqual(next[k], current[k]) ? next[k] : structuredClone(current[k]);
      }
      if (!('status' in kept)) kept.status = next.status;
      kept.metadata.resourceVersion = nm.resourceVersion;
      return kept;
    }
    if (hasStatus && subresource !== 'internal') {
      if (current.status === undefined) delete next.status;
      else next.status = structuredClone(current.status);
    }
    if (kind.def.generation && specOf(next) !== specOf(current)) nm.generation = (cm.generation ?? 0) + 1;
    return next;
  }

  /**
   * Read-modify-write with compare-and-swap, retried on conflict unless the caller pinned
   * a resourceVersion (then a stale one is a 409 Conflict, as upstream).
   */
  private async guaranteedUpdate(
    kind: ServedKind,
    namespace: string,
    name: string,
    ctx: WriteContext,
    precondition: number | undefined,
    mutate: (current: any) => any,
    rawForValidation: any,
    trusted = false,
    track?: Tracking,
  ): Promise<any> {
    // As upstream's Cacher.GuaranteedUpdate: the first try starts from the cached object as
    // it is, without waiting for the cache to reach the store's revision (a stream-info
    // request, whose cost on nats-server grows with the bucket's deleted entries: at a
    // million pods it delayed every binding by seconds). The compare-and-swap catches a
    // stale object; what a stale object makes fail (absent, refused by mutate or
    // validation, a no-op) is tried once more on the current state, as upstream re-reads
    // etcd before returning such an error.
    let fresh = false;
    if (precondition !== undefined) {
      await this.cache.waitFor(precondition).catch(() => undefined);
      fresh = true;
    }
    // a retry on the cache caught up to the store: what a stale read made fail is tried once
    // more, and counts as no conflict
    const refresh = async () => {
      await this.cache.waitConsistent();
      fresh = true;
    };
    for (let conflicts = 0; ; ) {
      const c = this.cache.get(kind.storage, kind.def.namespaced ? namespace : '', name);
      if (!c) {
        if (fresh) throw new NotFoundError(kind.qualified, name);
        await refresh();
        continue;
      }
      if (precondition !== undefined && precondition !== c.revision) {
        throw new ConflictError(kind.qualified, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      const current = c.obj;
      let next: any;
      let presentedCurrent: any;
      try {
        next = mutate(current);
        if (!trusted) {
          this.applyDefaults(kind, next);
          presentedCurrent = this.present(kind, current);
          // the apiserver's own trusted writes (pods/binding) record no managed fields, as upstream's
          if (track) trackUpdate(track.target, presentedCurrent, next, track.manager, now());
          // a spec the update leaves as it was (every status write) conformed when it was written
          const unchangedSpec = next.spec !== undefined && jsonEqual(next.spec, presentedCurrent.spec) ? 'spec' : undefined;
          this.validate(kind, next, presentedCurrent, ctx, rawForValidation ?? next, unchangedSpec);
        }
      } catch (e) {
        if (fresh) throw e;
        await refresh();
        continue;
      }
      const nextMeta = next.metadata;
      const hooks = trusted ? [] : this.hooksFor(kind);
      const outcome = hooks.length ? await this.begin(hooks.map((h) => h.beginUpdate && (() => h.beginUpdate!(kind, next, presentedCurrent, ctx)))) : undefined;
      delete nextMeta.resourceVersion;
      const stored = this.toStored(kind, next);
      const key = this.key(kind, namespace, name);
      // finalization complete: a deleting object whose last finalizer went away is removed,
      // unless its graceful deletion is still pending (upstream ShouldDeleteDuringUpdate: a
      // kubelet's or scheduler's status write to a terminating pod does not remove it)
      const finalize =
        !!stored.metadata.deletionTimestamp &&
        !stored.metadata.finalizers?.length &&
        !kind.def.deletion?.holds?.(stored).length &&
        !((current.metadata?.deletionGracePeriodSeconds ?? 0) > 0);
      if (ctx.dryRun) {
        if (outcome) await outcome(false);
        nextMeta.resourceVersion = String(c.revision);
        return next;
      }
      // encoded once: compared with the current object's encoding, then written. A trusted
      // write (the binding) changes a few members of the cached object: its bytes are
      // spliced from the bytes the cached object was created from, when the cache kept them
      const base = trusted && stored === next ? this.cache.storedOf(c) : undefined;
      const enc = (base && splicedStored(current, base, next)) || storedBytes(encodeStored(stored));
      const bytes = enc.bytes;
      if (!finalize && !trusted && bytes.equals(encodeForStore(current))) {
        if (outcome) await outcome(false);
        if (!fresh) {
          await refresh();
          continue;
        }
        // a no-op write keeps the resourceVersion, as upstream does
        nextMeta.resourceVersion = String(c.revision);
        return this.present(kind, current);
      }
      let rev: number;
      // a trusted write's object is built from the cached one and JSON values only (the
      // binding's): the cache keeps it rather than parsing the store's copy of it
      const forget = finalize ? undefined : this.cache.expectWrite(key, enc, trusted && stored === next ? next : undefined);
      try {
        if (finalize) await this.store.delete(key, c.revision);
        else rev = await this.store.update(key, bytes, c.revision);
      } catch (e) {
        forget?.();
        if (outcome) await outcome(false);
        if (!(e instanceof RevisionMismatchError)) throw e;
        if (precondition !== undefined || conflicts++ >= MAX_CONFLICT_RETRIES) {
          throw new ConflictError(kind.qualified, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        await refresh();
        continue;
      }
      if (outcome) await outcome(true);
      if (finalize) {
        nextMeta.resourceVersion = String(c.revision);
        await this.afterDelete(kind, next);
        this.onChange?.({ type: 'DELETED', kind, obj: next, forReply: ctx.replyAsWritten });
        return next;
      }
      nextMeta.resourceVersion = String(rev!);
      this.onChange?.({ type: 'MODIFIED', kind, obj: next, stored: stored === next ? writtenAs(enc, next, rev!) : undefined, forReply: ctx.replyAsWritten });
      return next;
    }
  }

  /**
   * DELETE. Objects with finalizers (or a graceful period, for pods on a node) are marked
   * with deletionTimestamp and stay until the finalizers are gone; others are removed.
   * Resolves to the object as it was (or as marked) and whether it is gone.
   */
  async delete(kind: ServedKind, namespace: string, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<{ obj: any; gone: boolean }> {
    // As guaranteedUpdate: the first try starts from the cached object as it is, without
    // waiting for the cache to reach the store's revision (a stream-info request per
    // delete); the compare-and-swap catches a stale object, and what a stale read would
    // decide without writing (absent, a failed precondition, a dry run, a deletion already
    // pending) is decided again on the current state.
    let fresh = false;
    const refresh = async () => {
      await this.cache.waitConsistent();
      fresh = true;
    };
    for (let conflicts = 0; ; ) {
      const c = this.cache.get(kind.storage, kind.def.namespaced ? namespace : '', name);
      if (!c) {
        if (fresh) throw new NotFoundError(kind.qualified, name);
        await refresh();
        continue;
      }
      const cur = c.obj;
      const pre = opts.preconditions;
      const preconditionFails = (pre?.uid && pre.uid !== cur.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion);
      if (preconditionFails && !fresh) {
        await refresh();
        continue;
      }
      if (pre?.uid && pre.uid !== cur.metadata.uid) {
        throw new ConflictError(kind.qualified, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
        throw new ConflictError(kind.qualified, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
      }
      const cm = cur.metadata;
      const oldFinalizers: string[] = cm.finalizers ?? [];
      const held = kind.def.deletion?.holds?.(cur).length ?? 0;
      // upstream BeforeDelete: while a graceful deletion is pending and no shorter period is
      // asked for, DeleteOptions change nothing, finalizers included
      const dgps = cm.deletionGracePeriodSeconds ?? 0;
      const pendingGraceful = !!cm.deletionTimestamp && dgps > 0 && (opts.gracePeriodSeconds === undefined || opts.gracePeriodSeconds >= dgps);
      // upstream deletionFinalizersForGarbageCollection: a propagationPolicy decides both GC
      // finalizers (Orphan: orphan alone, Foreground: foregroundDeletion alone, Background:
      // neither); without one the object keeps what it has
      const pp = pendingGraceful ? undefined : opts.propagationPolicy;
      const wanted = (f: string) => (f === 'orphan' ? pp === 'Orphan' : pp === 'Foreground');
      const finalizers = oldFinalizers.filter((f) => !pp || (f !== 'orphan' && f !== 'foregroundDeletion') || wanted(f));
      if (pp === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (pp === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      const finalizersChanged = finalizers.length !== oldFinalizers.length || finalizers.some((f, i) => f !== oldFinalizers[i]);
      const grace = kind.def.deletion?.gracePeriodSeconds?.(cur, opts.gracePeriodSeconds) ?? 0;
      const graceful = grace > 0;
      const mustWait = finalizers.length > 0 || graceful || held > 0;
      // an answer given without writing is given from the current state only
      const decidesWithoutWriting = ctx.dryRun || (mustWait && !!cm.deletionTimestamp && !finalizersChanged && grace >= dgps);
      if (decidesWithoutWriting && !fresh) {
        await refresh();
        continue;
      }
      if (!mustWait) {
        if (ctx.dryRun) return { obj: this.present(kind, cur), gone: true };
        try {
          await this.store.delete(c.key, c.revision);
        } catch (e) {
          if (e instanceof RevisionMismatchError && conflicts++ < MAX_CONFLICT_RETRIES) {
            await refresh();
            continue;
          }
          throw e;
        }
        const gone = this.present(kind, cur);
        await this.afterDelete(kind, gone);
        this.onChange?.({ type: 'DELETED', kind, obj: gone, forReply: ctx.replyAsWritten });
        return { obj: gone, gone: true };
      }
      // only an object marked for deletion is written: the one removed at once is not copied
      const next = structuredClone(cur);
      const nm = next.metadata;
      kind.def.deletion?.prepareForDelete?.(next);
      if (nm.deletionTimestamp && !finalizersChanged) {
        // already being deleted: only a shorter grace period changes it, 0 included (upstream
        // BeforeDelete): a kubelet's grace-0 delete of a pod still held by a finalizer must
        // leave the pod to go once the finalizer does
        if (grace >= dgps) return { obj: this.present(kind, cur), gone: false };
      }
      nm.finalizers = finalizers.length ? finalizers : undefined;
      if (!nm.finalizers) delete nm.finalizers;
      const ts = metaTime(Date.now() + grace * 1000);
      if (!nm.deletionTimestamp || graceful) nm.deletionTimestamp = ts;
      nm.deletionGracePeriodSeconds = grace;
      // upstream markAsDeleting: only the first deletion bumps generation, not a later finalizer change
      if (kind.def.generation && !cur.metadata.deletionTimestamp) nm.generation = (nm.generation ?? 0) + 1;
      if (ctx.dryRun) return { obj: this.present(kind, next), gone: false };
      delete nm.resourceVersion;
      try {
        const rev = await this.store.update(c.key, encodeForStore(next), c.revision);
        nm.resourceVersion = String(rev);
        if (kind.def.deletion?.readYourDelete) await this.cache.waitFor(rev);
      } catch (e) {
        if (e instanceof RevisionMismatchError && conflicts++ < MAX_CONFLICT_RETRIES) {
          await refresh();
          continue;
        }
        throw e;
      }
      const marked = this.present(kind, next);
      this.onChange?.({ type: 'MODIFIED', kind, obj: marked, forReply: ctx.replyAsWritten });
      return { obj: marked, gone: false };
    }
  }
}
