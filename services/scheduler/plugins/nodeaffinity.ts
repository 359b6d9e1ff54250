/**
 * NodeAffinity (upstream nodeaffinity): spec.nodeSelector and required node affinity terms
 * (matchExpressions In / NotIn / Exists / DoesNotExist / Gt / Lt, matchFields
 * metadata.name) as requirement bits; preferred terms as weighted masks for the score;
 * NodeAffinityArgs.addedAffinity applied to every pod of the profile.
 */
import type { NodeAffinity as V1NodeAffinity, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1.js';
import { Filter, type ClassSpec } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, PreFilterPlugin, ScorePlugin, Snapshot } from '../framework/types.js';
import { withBit } from '../framework/masks.js';

export const NODEAFFINITY = 'NodeAffinity';
export const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector";

export interface NodeAffinityArgs {
  addedAffinity?: V1NodeAffinity;
}

/** The requirement bits of one term; a term without requirements matches no node (upstream). */
function termMask(snapshot: Snapshot, term: NodeSelectorTerm): Uint32Array {
  let mask: Uint32Array = new Uint32Array(0);
  let any = false;
  for (const r of term.matchExpressions ?? []) {
    mask = withBit(mask, snapshot.requirementBit({ key: r.key, operator: r.operator, values: r.values }));
    any = true;
  }
  for (const r of term.matchFields ?? []) {
    mask = withBit(mask, snapshot.requirementBit({ key: r.key, operator: r.operator, values: r.values }, true));
    any = true;
  }
  // `In` with no values holds for no node: the bit that makes an empty term match nothing
  if (!any) mask = withBit(mask, snapshot.requirementBit({ key: '', operator: 'In', values: [] }));
  return mask;
}

function requiredTermsOf(snapshot: Snapshot, a: V1NodeAffinity | undefined): Uint32Array[] | undefined {
  const req = a?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!req) return undefined;
  const terms = req.nodeSelectorTerms ?? [];
  if (terms.length === 0) return [termMask(snapshot, {})];
  return terms.map((t) => termMask(snapshot, t));
}

function orInto(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(Math.max(a.length, b.length));
  out.set(a);
  for (let i = 0; i < b.length; i++) out[i] |= b[i];
  return out;
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, ScorePlugin {
  readonly name = NODEAFFINITY;
  readonly filterBit = Filter.NodeAffinity;
  constructor(private readonly args: NodeAffinityArgs = {}) {}

  signature(pod: Pod): string {
    const sel = pod.spec?.nodeSelector;
    const aff = pod.spec?.affinity?.nodeAffinity;
    if (!sel && !aff) return '';
    return JSON.stringify([sel ? Object.entries(sel).sort() : null, aff ?? null]);
  }

  preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
    for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {}).sort()) {
      cls.selector = withBit(cls.selector, snapshot.requirementBit({ key: k, operator: 'In', values: [v] }));
    }
    const podTerms = requiredTermsOf(snapshot, pod.spec?.affinity?.nodeAffinity);
    const addedTerms = requiredTermsOf(snapshot, this.args.addedAffinity);
    if (podTerms && addedTerms) {
      // both must hold: (A1 | A2) & (P1 | P2) = A1P1 | A1P2 | A2P1 | A2P2
      const terms: Uint32Array[] = [];
      for (const a of addedTerms) for (const p of podTerms) terms.push(orInto(a, p));
      cls.requiredTerms = terms;
    } else {
      cls.requiredTerms = podTerms ?? addedTerms ?? [];
    }
    const preferred = [
      ...(this.args.addedAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []),
    ];
    for (const p of preferred) {
      if (!p.weight) continue;
      const exprs = p.preference?.matchExpressions ?? [];
      const fields = p.preference?.matchFields ?? [];
      // an empty preference matches no node: an empty mask says so to the core
      const mask = exprs.length + fields.length === 0 ? new Uint32Array(0) : termMask(snapshot, p.preference);
      cls.preferredTerms.push({ mask, weight: p.weight });
    }
    return undefined;
  }

  reasons(_code: number, _detail: number, _snapshot: Snapshot, _cls: ClassSpec): string[] {
    return [ErrReasonPod];
  }

  configureScore(cls: ClassBuilder, weight: number): void {
    cls.score.nodeAffinityWeight = weight;
  }
}

export function newNodeAffinity(args?: unknown): NodeAffinity {
  return new NodeAffinity((args ?? {}) as NodeAffinityArgs);
}
