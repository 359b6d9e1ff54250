/**
 * What the proxy's table holds, kept per Service so that a sync costs what changed, not
 * what exists: replacing one Service's rules (serviceRules) updates the chains, map
 * elements and affinity sets in place and remembers what each touched item was before,
 * so the incremental transaction is computed from the touched items only (`changes()`
 * gives diffTransaction two small rulesets). Pure, no I/O.
 *
 * Chains belong to one Service (their names hold its namespace and name). Map elements
 * and sets may be claimed by several: a pod behind two Services is one `hairpin` pair,
 * an `endpoints-K` map serves 64 Service ports, two Services may (wrongly) claim the same
 * external IP and port. An element or set stays while any Service claims it, with the
 * value of the latest claim, as a whole rebuild (buildRuleset, in order) would give it.
 */
import { emptyRuleset, EndpointSlots, FIXED_MAPS, type RulesConfig, type Ruleset, type ServiceRules } from './rules.js';

/** one Service's claim on a map element or a set: [owner, value] */
type Claim = [string, string];

function sameRules(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === b) return true;
  return !!a && !!b && a.length === b.length && a.every((r, i) => r === b[i]);
}

/**
 * Keys several Services may claim (a map's elements, the sets), with what each touched
 * key was at the last commit. Nearly every key has one claim: it is kept as the owner's
 * name alone, a list only for the few with more.
 */
class Claims {
  /** key → the value in the table: the latest claim's */
  readonly values = new Map<string, string>();
  /** key → its one claim's owner, or its claims in order */
  private readonly owners = new Map<string, string | Claim[]>();
  readonly touched = new Map<string, string | undefined>();

  get size(): number {
    return this.values.size;
  }

  claim(key: string, owner: string, value: string, tracking: boolean): void {
    if (tracking && !this.touched.has(key)) this.touched.set(key, this.values.get(key));
    const had = this.owners.get(key);
    if (had === undefined) this.owners.set(key, owner);
    else if (typeof had === 'string') this.owners.set(key, [[had, this.values.get(key)!], [owner, value]]);
    else had.push([owner, value]);
    this.values.set(key, value);
  }

  unclaim(key: string, owner: string, tracking: boolean): void {
    const had = this.owners.get(key);
    if (had === undefined) return;
    if (typeof had === 'string') {
      if (had !== owner) return;
      if (tracking && !this.touched.has(key)) this.touched.set(key, this.values.get(key));
      this.owners.delete(key);
      this.values.delete(key);
      return;
    }
    const i = had.findIndex(([o]) => o === owner);
    if (i < 0) return;
    if (tracking && !this.touched.has(key)) this.touched.set(key, this.values.get(key));
    had.splice(i, 1);
    const [lastOwner, lastValue] = had[had.length - 1]!;
    if (had.length === 1) this.owners.set(key, lastOwner);
    this.values.set(key, lastValue);
  }

  /** the touched keys as they were and as they are */
  changes(): { before: Map<string, string>; after: Map<string, string> } {
    const before = new Map<string, string>();
    const after = new Map<string, string>();
    for (const [key, was] of this.touched) {
      const now = this.values.get(key);
      if (was !== undefined) before.set(key, was);
      if (now !== undefined) after.set(key, now);
    }
    return { before, after };
  }
}

export class TableContents {
  /** the endpoint maps' slots of the Services held here */
  readonly slots = new EndpointSlots();
  private readonly pieces = new Map<string, ServiceRules>();
  private readonly chains: Map<string, string[]>;
  /** map → its elements' claims */
  private readonly elements = new Map<string, Claims>();
  /** the sets and maps Services bring (shared: a map `endpoints-K` serves 64 slots) */
  private readonly sets = new Claims();
  private rules = 0;
  /** off until the first commit(): the first transaction is the whole table, nothing to remember */
  private tracking = false;
  /** since the last commit(): what each touched chain was then (undefined: absent) */
  private readonly touchedChains = new Map<string, string[] | undefined>();

  constructor(cfg: RulesConfig) {
    const empty = emptyRuleset(cfg);
    this.chains = empty.chains;
    for (const r of this.chains.values()) this.rules += r.length;
    for (const map of empty.elements.keys()) this.elements.set(map, new Claims());
  }

  get serviceCount(): number {
    return this.pieces.size;
  }

  get chainCount(): number {
    return this.chains.size;
  }

  get ruleCount(): number {
    return this.rules;
  }

  /**
   * Replaces what Service `owner` (namespace/name) brings with `next` (undefined: the
   * Service is gone). `next` must have been rendered with this.slots; slots the Service
   * no longer uses are freed here.
   */
  set(owner: string, next: ServiceRules | undefined): void {
    const prev = this.pieces.get(owner);
    if (prev === next) return;
    if (next) this.pieces.set(owner, next);
    else this.pieces.delete(owner);
    const t = this.tracking;
    if (prev) {
      for (const name of prev.chains.keys()) if (!next?.chains.has(name)) this.setChain(name, undefined);
      for (const [map, key] of prev.elements) this.elements.get(map)?.unclaim(key, owner, t);
      for (const name of prev.sets.keys()) this.sets.unclaim(name, owner, t);
      for (const chain of prev.slotted) if (!next?.slotted.includes(chain)) this.slots.release(chain);
    }
    if (next) {
      for (const [name, rules] of next.chains) this.setChain(name, rules);
      for (const [map, key, value] of next.elements) {
        let claims = this.elements.get(map);
        if (!claims) this.elements.set(map, (claims = new Claims()));
        claims.claim(key, owner, value, t);
      }
      for (const [name, decl] of next.sets) this.sets.claim(name, owner, decl, t);
    }
  }

  /** The whole ruleset (for a full transaction): a view, good until the next set(). */
  ruleset(): Ruleset {
    const elements = new Map<string, Map<string, string>>();
    for (const [map, claims] of this.elements) elements.set(map, claims.values);
    return { chains: this.chains, elements, sets: this.sets.values };
  }

  /** The items touched since the last commit() (none before the first), as they were then and as they are now: diffTransaction's input. */
  changes(): { prev: Ruleset; next: Ruleset } {
    const prev: Ruleset = { chains: new Map(), elements: new Map(), sets: new Map() };
    const next: Ruleset = { chains: new Map(), elements: new Map(), sets: new Map() };
    for (const [name, before] of this.touchedChains) {
      const now = this.chains.get(name);
      if (before) prev.chains.set(name, before);
      if (now) next.chains.set(name, now);
    }
    for (const [map, claims] of this.elements) {
      if (!claims.touched.size) continue;
      const { before, after } = claims.changes();
      prev.elements.set(map, before);
      next.elements.set(map, after);
    }
    const { before, after } = this.sets.changes();
    prev.sets = before;
    next.sets = after;
    return { prev, next };
  }

  /** The table now holds what this holds: forget what was touched (and from now on, remember it). */
  commit(): void {
    this.tracking = true;
    this.touchedChains.clear();
    for (const [map, claims] of this.elements) {
      claims.touched.clear();
      // a Service's map no Service uses any more is gone from the table
      if (!claims.size && !FIXED_MAPS.has(map) && !this.sets.values.has(map)) this.elements.delete(map);
    }
    this.sets.touched.clear();
  }

  private setChain(name: string, rules: string[] | undefined): void {
    const old = this.chains.get(name);
    if (sameRules(old, rules)) return;
    if (this.tracking && !this.touchedChains.has(name)) this.touchedChains.set(name, old);
    this.rules += (rules?.length ?? 0) - (old?.length ?? 0);
    if (rules) this.chains.set(name, rules);
    else this.chains.delete(name);
  }
}
