/** NodePorts (upstream nodeports): a host port (protocol, hostPort) can be taken once per node. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Filter, type ClassSpec } from '../core/types.js';
import type { ClassBuilder, FilterPlugin, PreFilterPlugin, Snapshot } from '../framework/types.js';
import { withBit } from '../framework/masks.js';
import { podHostPorts } from '../backend/cache/podinfo.js';

export const NODEPORTS = 'NodePorts';
export const ErrReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = NODEPORTS;
  readonly filterBit = Filter.NodePorts;

  signature(pod: Pod): string {
    const ports = podHostPorts(pod);
    return ports.length > 0 ? ports.map((p) => `${p.protocol}/${p.port}`).sort().join(',') : '';
  }

  preFilter(snapshot: Snapshot, pod: Pod, cls: ClassBuilder): string | undefined {
    for (const p of podHostPorts(pod)) cls.ports = withBit(cls.ports, snapshot.portBit(p.protocol, p.port));
    return undefined;
  }

  reasons(_code: number, _detail: number, _snapshot: Snapshot, _cls: ClassSpec): string[] {
    return [ErrReasonNodePorts];
  }
}

export function newNodePorts(): NodePorts {
  return new NodePorts();
}
