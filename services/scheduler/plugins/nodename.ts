/** NodeName (upstream nodename): a pod with spec.nodeName fits only that node. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Filter, type ClassSpec } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, PreFilterPlugin, Snapshot } from '../framework/types.js';

export const NODENAME = 'NodeName';
export const ErrReasonNodeName = "node(s) didn't match the requested node name";

export class NodeName implements PreFilterPlugin, FilterPlugin {
  readonly name = NODENAME;
  readonly filterBit = Filter.NodeName;

  /** the slot of a named node changes as nodes come and go, so such classes are recompiled each cycle */
  volatileFor(pod: Pod): boolean {
    return !!pod.spec?.nodeName;
  }

  signature(pod: Pod): string {
    return pod.spec?.nodeName ?? '';
  }

  preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
    const name = pod.spec?.nodeName;
    cls.nodeNameSlot = name ? (snapshot.node(name)?.slot ?? -2) : -1;
    return undefined;
  }

  reasons(_code: number, _detail: number, _snapshot: Snapshot, _cls: ClassSpec): string[] {
    return [ErrReasonNodeName];
  }
}

export function newNodeName(): NodeName {
  return new NodeName();
}
