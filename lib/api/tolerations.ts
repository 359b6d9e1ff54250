/**
 * Whether a pod's tolerations admit a node's taints (upstream k8s.io/api core/v1
 * Toleration.ToleratesTaint and component-helpers v1helper). One definition for every
 * component that weighs taints: the scheduler's plugins, the DaemonSet controller. It
 * depends on nothing but the API types, so importing it cannot pull in a plugin graph.
 */
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';

/**
 * upstream Toleration.ToleratesTaint: an empty effect or key matches any; an empty
 * operator means Equal; an unknown operator tolerates nothing.
 */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** upstream v1helper.TolerationsTolerateTaint: some toleration tolerates the taint. */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The taints with effect NoSchedule or NoExecute: what keeps a pod off a node (upstream DoNotScheduleTaintsFilterFunc). */
export const doNotScheduleTaints = (taint: Taint): boolean => taint.effect === 'NoSchedule' || taint.effect === 'NoExecute';

/**
 * upstream v1helper.FindMatchingUntoleratedTaint: the first taint that inclusionFilter
 * selects and no toleration tolerates, or undefined.
 */
export function findMatchingUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  inclusionFilter: (taint: Taint) => boolean,
): Taint | undefined {
  return (taints ?? []).find((taint) => inclusionFilter(taint) && !tolerationsTolerateTaint(tolerations, taint));
}
