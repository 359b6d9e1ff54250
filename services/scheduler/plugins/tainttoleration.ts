/**
 * TaintToleration (upstream tainttoleration): a node's NoSchedule / NoExecute taints must
 * be tolerated (filter); untolerated PreferNoSchedule taints lower the score.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { tolerationsTolerateTaint } from '../../../lib/api/tolerations.js';
import { Filter, type ClassSpec } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, PreFilterPlugin, ScorePlugin, Snapshot } from '../framework/types.js';
import { withBit } from '../framework/masks.js';

export const TAINTTOLERATION = 'TaintToleration';

export function tolerationSignature(pod: Pod): string {
  const ts = pod.spec?.tolerations;
  return ts && ts.length > 0 ? JSON.stringify(ts.map((t) => [t.key ?? '', t.operator ?? '', t.value ?? '', t.effect ?? ''])) : '';
}

export class TaintToleration implements PreFilterPlugin, FilterPlugin, ScorePlugin {
  readonly name = TAINTTOLERATION;
  readonly filterBit = Filter.TaintToleration;

  signature(pod: Pod): string {
    return tolerationSignature(pod);
  }

  preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
    const tolerations = pod.spec?.tolerations;
    // upstream scores only with tolerations whose effect is empty or PreferNoSchedule
    const preferTolerations = (tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    const n = snapshot.taintCount();
    for (let bit = 0; bit < n; bit++) {
      const taint = snapshot.taintAt(bit);
      if (taint.effect === 'PreferNoSchedule') {
        if (!tolerationsTolerateTaint(preferTolerations, taint)) cls.untoleratedPreferred = withBit(cls.untoleratedPreferred, bit);
      } else if (!tolerationsTolerateTaint(tolerations, taint)) {
        cls.untoleratedHard = withBit(cls.untoleratedHard, bit);
      }
    }
    return undefined;
  }

  reasons(_code: number, detail: number, snapshot: Snapshot, _cls: ClassSpec): string[] {
    const t = snapshot.taintAt(detail);
    return [`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`];
  }

  configureScore(cls: ClassBuilder, weight: number): void {
    cls.score.taintWeight = weight;
  }
}

export function newTaintToleration(): TaintToleration {
  return new TaintToleration();
}
