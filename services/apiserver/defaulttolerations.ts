/**
 * The DefaultTolerationSeconds admission plugin (upstream
 * plugin/pkg/admission/defaulttolerationseconds): a pod that does not already tolerate
 * node.kubernetes.io/not-ready:NoExecute or node.kubernetes.io/unreachable:NoExecute gets
 * an Exists toleration of that taint for 300 s, so the taint eviction of an unhealthy node
 * waits five minutes for it instead of evicting it at once. Upstream runs it on creates
 * and updates of pods (not their subresources); an update that dropped the tolerations
 * gets them back, which pod validation allows (tolerations may only be added).
 */
import type { Pod, Toleration } from 'kubernetes-types/core/v1.js';
import type { ServedKind } from './kinds.js';
import type { AdmissionPlugin } from './storage.js';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** upstream --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds */
export const DEFAULT_TOLERATION_SECONDS = 300;

export interface DefaultTolerationSecondsOptions {
  notReadyTolerationSeconds?: number;
  unreachableTolerationSeconds?: number;
}

/**
 * upstream's test for "already tolerates": the key is the taint's or empty, and the effect
 * NoExecute or empty. Operator and value are not looked at.
 */
function coversNoExecute(t: Toleration, key: string): boolean {
  return (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect);
}

/** Adds the default not-ready and unreachable tolerations the pod lacks (in place). */
export function addDefaultTolerations(pod: Pod, opts: DefaultTolerationSecondsOptions = {}): void {
  const spec = pod.spec;
  if (!spec) return;
  const tolerations = spec.tolerations ?? [];
  const defaults: Array<[string, number]> = [
    [TAINT_NODE_NOT_READY, opts.notReadyTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS],
    [TAINT_NODE_UNREACHABLE, opts.unreachableTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS],
  ];
  const missing = defaults.filter(([key]) => !tolerations.some((t) => t && coversNoExecute(t, key)));
  if (!missing.length) return;
  spec.tolerations = [
    ...tolerations,
    ...missing.map(([key, seconds]): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds })),
  ];
}

export class DefaultTolerationSecondsAdmission implements AdmissionPlugin {
  constructor(private readonly opts: DefaultTolerationSecondsOptions = {}) {}

  private static isPod(kind: ServedKind): boolean {
    return kind.def.group === '' && kind.def.plural === 'pods';
  }

  admitCreate(kind: ServedKind, obj: any): void {
    if (DefaultTolerationSecondsAdmission.isPod(kind)) addDefaultTolerations(obj, this.opts);
  }

  admitUpdate(kind: ServedKind, obj: any): void {
    if (DefaultTolerationSecondsAdmission.isPod(kind)) addDefaultTolerations(obj, this.opts);
  }
}
