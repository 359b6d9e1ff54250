/**
 * Node-selector matching with upstream's semantics (k8s.io/component-helpers
 * nodeaffinity): nodeSelector, required node-affinity terms, matchExpressions and
 * matchFields. The scheduler, its plugins and the DaemonSet controller all ask it.
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec } from 'kubernetes-types/core/v1.js';
import { parseInt64 } from './labels.js';

/** Whether a value (undefined: the label is absent) satisfies one requirement. */
export function requirementMatches(r: Pick<NodeSelectorRequirement, 'operator' | 'values'>, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1) return false;
      const have = parseInt64(value);
      const bound = parseInt64(values[0]!);
      if (have === undefined || bound === undefined) return false;
      return r.operator === 'Gt' ? have > bound : have < bound;
    }
    default:
      return false;
  }
}

/** A term: every expression on labels and every field (metadata.name, In / NotIn only); an empty term matches nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length + fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (!requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
    if (!requirementMatches(r, node.metadata?.name ?? '')) return false;
  }
  return true;
}

/** upstream GetRequiredNodeAffinity(pod).Match: the nodeSelector and any one required term. */
export function requiredNodeAffinity(spec: PodSpec | undefined): (node: Node) => boolean {
  const sel = Object.entries(spec?.nodeSelector ?? {});
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return (node) => {
    const labels = node.metadata?.labels ?? {};
    for (const [k, v] of sel) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
    return !terms || terms.some((t) => nodeSelectorTermMatches(t, node));
  };
}
