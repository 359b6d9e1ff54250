/**
 * NodeUnschedulable (upstream nodeunschedulable): cordoned nodes (spec.unschedulable) take
 * only pods that tolerate node.kubernetes.io/unschedulable:NoSchedule.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Filter, type ClassSpec } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, PreFilterPlugin, Snapshot } from '../framework/types.js';
import { tolerationsTolerateTaint } from '../../../lib/api/tolerations.js';
import { tolerationSignature } from './tainttoleration.js';

export const NODEUNSCHEDULABLE = 'NodeUnschedulable';
export const TaintNodeUnschedulable = 'node.kubernetes.io/unschedulable';
export const ErrReasonUnschedulable = 'node(s) were unschedulable';

export class NodeUnschedulable implements PreFilterPlugin, FilterPlugin {
  readonly name = NODEUNSCHEDULABLE;
  readonly filterBit = Filter.NodeUnschedulable;

  signature(pod: Pod): string {
    return tolerationSignature(pod);
  }

  preFilter(_snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
    cls.toleratesUnschedulable = tolerationsTolerateTaint(pod.spec?.tolerations, { key: TaintNodeUnschedulable, effect: 'NoSchedule' });
    return undefined;
  }

  reasons(_code: number, _detail: number, _snapshot: Snapshot, _cls: ClassSpec): string[] {
    return [ErrReasonUnschedulable];
  }
}

export function newNodeUnschedulable(): NodeUnschedulable {
  return new NodeUnschedulable();
}
