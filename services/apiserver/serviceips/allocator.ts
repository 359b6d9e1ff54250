/**
 * One range's allocations in the KV store: one key per allocated value, written with
 * create-if-absent and removed with compare-and-swap, so any number of apiservers share a
 * range without locks and a value is never handed out twice. (Upstream keeps one bitmap
 * per range in etcd; a key per value is what its newer IPAddress allocator does, and it
 * spares every allocation a rewrite of the whole range and the conflicts between
 * apiservers that come with it.) The apiserver's watch cache, which sees these keys like
 * every other, is the hint for which values are free; the store decides.
 */
import { randomInt } from 'node:crypto';
import { objectKey } from '../../../lib/store/keys.js';
import { KeyExistsError, RevisionMismatchError, type KvStore } from '../../../lib/store/kvstore.js';
import type { WatchCache } from '../watchcache.js';
import type { OffsetRange } from './ranges.js';

/** The Service a value is allocated to. */
export interface Owner {
  namespace: string;
  name: string;
  uid: string;
}

/** Where the owner's uid is kept on an allocation record. */
export const OWNER_UID_ANNOTATION = 'flotilla.io/service-uid';

export class RangeFullError extends Error {
  constructor(readonly what: string) {
    super('range is full');
    this.name = 'RangeFullError';
  }
}

/** A live allocation record, as the watch cache holds it. */
export interface AllocationRecord {
  name: string;
  owner: Owner;
  /** when it was written (ms), for the repair pass's grace period */
  created: number;
}

export class RangeAllocator {
  constructor(
    private readonly store: KvStore,
    private readonly cache: WatchCache,
    /** storage resource token of the records, e.g. "networking_k8s_io/ipaddresses" */
    readonly resource: string,
    readonly range: OffsetRange,
    /** the record stored for a value */
    private readonly record: (name: string, owner: Owner) => object,
  ) {}

  private key(name: string): string {
    return objectKey(this.resource, undefined, name);
  }

  /** Whether the watch cache knows the value as allocated (a hint; the store decides). */
  isAllocated(name: string): boolean {
    return !!this.cache.get(this.resource, '', name);
  }

  /** Reserves one value; false when someone holds it already. */
  async reserve(name: string, owner: Owner): Promise<boolean> {
    try {
      await this.store.create(this.key(name), Buffer.from(JSON.stringify(this.record(name, owner))));
      return true;
    } catch (e) {
      if (e instanceof KeyExistsError) return false;
      throw e;
    }
  }

  /**
   * Reserves a free value: the upper part of the range first, the static band last, each
   * from a random start. With `dryRun` it only finds one.
   */
  async allocateNext(owner: Owner, dryRun = false): Promise<string> {
    const { size, band } = this.range;
    for (const [lo, hi] of [[band, size], [0, band]] as const) {
      const n = hi - lo;
      if (n <= 0) continue;
      const start = randomInt(n);
      for (let i = 0; i < n; i++) {
        const name = this.range.nameOf(lo + ((start + i) % n));
        if (this.isAllocated(name)) continue;
        if (dryRun || (await this.reserve(name, owner))) return name;
      }
    }
    throw new RangeFullError(this.resource);
  }

  /** Releases a value if it is still the owner's (a later owner's reservation is left alone). */
  async release(name: string, ownerUid: string): Promise<void> {
    const key = this.key(name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const e = await this.store.get(key);
      if (!e?.value) return;
      let uid: string | undefined;
      try {
        uid = JSON.parse(Buffer.from(e.value).toString('utf8'))?.metadata?.annotations?.[OWNER_UID_ANNOTATION];
      } catch {
        uid = undefined;
      }
      if (uid !== ownerUid) return;
      try {
        await this.store.delete(key, e.revision);
        return;
      } catch (err) {
        if (!(err instanceof RevisionMismatchError)) throw err;
      }
    }
  }

  /** Every allocation record the watch cache holds. */
  *records(): Generator<AllocationRecord> {
    for (const c of this.cache.list(this.resource)) {
      const m = c.obj?.metadata ?? {};
      const ref = c.obj?.spec?.parentRef ?? {};
      yield {
        name: c.name,
        owner: { namespace: ref.namespace ?? '', name: ref.name ?? '', uid: m.annotations?.[OWNER_UID_ANNOTATION] ?? '' },
        created: Date.parse(m.creationTimestamp ?? '') || 0,
      };
    }
  }
}
