/**
 * The cache's interners: Kubernetes vocabulary (resource names, node-selector requirements,
 * taints, host ports, topology keys and their domains) turned into the dense indexes and
 * bits the core evaluates (core/types.ts). Lookups never add; `add*` appends and returns
 * the new index, and the cache grows the core when a table outgrows its dims.
 */
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { requirementMatches } from '../../../../lib/api/nodeaffinity.js';
import { BASE_RESOURCES } from '../../resources.js';

/** An interned node-selector requirement. */
export interface InternedRequirement {
  field: boolean;
  key: string;
  operator: string;
  values: string[];
}

/** One topology key: each node slot's domain id (-1 = the node lacks the label) and the domain values. */
export interface TopologyEntry {
  key: string;
  ids: Int32Array;
  values: string[];
  byValue: Map<string, number>;
}

/** Does a node satisfy one node-selector requirement (upstream nodeaffinity semantics)? */
export function nodeSatisfies(node: Node, r: InternedRequirement): boolean {
  if (r.field) {
    // upstream supports metadata.name only in matchFields
    return r.key === 'metadata.name' && requirementMatches(r, node.metadata?.name ?? '');
  }
  const labels = node.metadata?.labels ?? {};
  return requirementMatches(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined);
}

export function taintId(t: { key: string; value?: string; effect: string }): string {
  return `${t.key}\u0000${t.value ?? ''}\u0000${t.effect}`;
}

function requirementId(req: { key: string; operator: string }, values: string[], field: boolean): string {
  return `${field ? 'f' : 'l'}\u0000${req.key}\u0000${req.operator}\u0000${values.join('\u0001')}`;
}

function portId(protocol: string, port: number): string {
  return `${protocol || 'TCP'}/${port}`;
}

export class Interner {
  readonly resourceNames: string[] = [...BASE_RESOURCES];
  private readonly resourceIndex = new Map<string, number>(BASE_RESOURCES.map((n, i) => [n, i]));
  readonly requirements: InternedRequirement[] = [];
  private readonly requirementIndex = new Map<string, number>();
  readonly taints: Taint[] = [];
  private readonly taintIndex = new Map<string, number>();
  readonly ports: Array<{ protocol: string; port: number }> = [];
  private readonly portIndex = new Map<string, number>();
  readonly topology: TopologyEntry[] = [];
  private readonly topologyIndex = new Map<string, number>();

  resource(name: string): number | undefined {
    return this.resourceIndex.get(name);
  }

  addResource(name: string): number {
    const d = this.resourceNames.length;
    this.resourceNames.push(name);
    this.resourceIndex.set(name, d);
    return d;
  }

  requirement(req: { key: string; operator: string; values?: string[] }, field: boolean): { bit: number | undefined; id: string; values: string[] } {
    const values = [...(req.values ?? [])].sort();
    const id = requirementId(req, values, field);
    return { bit: this.requirementIndex.get(id), id, values };
  }

  addRequirement(id: string, r: InternedRequirement): number {
    const bit = this.requirements.length;
    this.requirements.push(r);
    this.requirementIndex.set(id, bit);
    return bit;
  }

  /** the taint's bit, by (key, value, effect) id */
  taint(id: string): number | undefined {
    return this.taintIndex.get(id);
  }

  addTaint(id: string, taint: Taint): number {
    const bit = this.taints.length;
    this.taints.push({ key: taint.key, value: taint.value, effect: taint.effect });
    this.taintIndex.set(id, bit);
    return bit;
  }

  port(protocol: string, port: number): number | undefined {
    return this.portIndex.get(portId(protocol, port));
  }

  addPort(protocol: string, port: number): number {
    const bit = this.ports.length;
    this.ports.push({ protocol: protocol || 'TCP', port });
    this.portIndex.set(portId(protocol, port), bit);
    return bit;
  }

  topologyKey(key: string): number | undefined {
    return this.topologyIndex.get(key);
  }

  addTopologyKey(t: TopologyEntry): number {
    const k = this.topology.length;
    this.topology.push(t);
    this.topologyIndex.set(t.key, k);
    return k;
  }

  /** The dense id of a domain value of topology key `t`, interned when new. */
  domainId(t: TopologyEntry, value: string): number {
    let id = t.byValue.get(value);
    if (id === undefined) {
      id = t.values.length;
      t.values.push(value);
      t.byValue.set(value, id);
    }
    return id;
  }
}
