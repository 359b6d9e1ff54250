/**
 * Pod requests and node allocatable as the scheduler counts them (upstream v1.31
 * component-helpers/resource PodRequests and the scheduler's NodeInfo):
 *  - a pod requests max(sum of its containers + restartable init containers,
 *    each regular init container + the restartable init containers started before it)
 *    plus spec.overhead;
 *  - for scoring, a container that does not name cpu or memory counts as 100m / 200Mi
 *    (upstream's NonZeroRequested), so empty pods still spread;
 *  - cpu is in millicores, everything else in base units, exact (lib/api/quantity.ts).
 */
import type { Container, Node, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { Dim } from './core/types.js';

/** upstream DefaultMilliCPURequest */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** upstream DefaultMemoryRequest (200Mi) */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export const RESOURCE_CPU = 'cpu';
export const RESOURCE_MEMORY = 'memory';
export const RESOURCE_EPHEMERAL_STORAGE = 'ephemeral-storage';
export const RESOURCE_PODS = 'pods';

/** The first resource names, in the core's dimension order. */
export const BASE_RESOURCES = [RESOURCE_CPU, RESOURCE_MEMORY, RESOURCE_EPHEMERAL_STORAGE, RESOURCE_PODS] as const;

/** Resource name -> dimension; may intern a new (extended) dimension. */
export type DimOf = (name: string) => number;

/** A quantity string in the scheduler's unit for that resource: millicores for cpu, base units otherwise (rounded up, as upstream). */
export function resourceValue(name: string, quantity: string | number): number {
  const q = parseQuantity(String(quantity));
  return Number(name === RESOURCE_CPU ? q.milliValue() : q.value());
}

type ResourceList = Map<string, number>;

function listOf(rl: Record<string, unknown> | undefined): ResourceList {
  const out: ResourceList = new Map();
  if (!rl) return out;
  for (const [name, q] of Object.entries(rl)) {
    if (q === undefined || q === null) continue;
    out.set(name, resourceValue(name, q as string));
  }
  return out;
}

function addTo(dst: ResourceList, src: ResourceList): void {
  for (const [k, v] of src) dst.set(k, (dst.get(k) ?? 0) + v);
}

function maxInto(dst: ResourceList, src: ResourceList): void {
  for (const [k, v] of src) if (!dst.has(k) || v > dst.get(k)!) dst.set(k, v);
}

/** Container requests; with `nonMissing`, cpu/memory the container does not name get upstream's defaults. */
function containerRequests(c: Container, nonMissing: boolean): ResourceList {
  const reqs = listOf(c.resources?.requests as Record<string, unknown> | undefined);
  if (nonMissing) {
    if (!reqs.has(RESOURCE_CPU)) reqs.set(RESOURCE_CPU, DEFAULT_MILLI_CPU_REQUEST);
    if (!reqs.has(RESOURCE_MEMORY)) reqs.set(RESOURCE_MEMORY, DEFAULT_MEMORY_REQUEST);
  }
  return reqs;
}

/** upstream resource.PodRequests: containers, sidecars, init containers, overhead. */
export function podRequestList(pod: Pod, nonMissing = false): ResourceList {
  const spec = pod.spec;
  const reqs: ResourceList = new Map();
  if (!spec) return reqs;
  for (const c of spec.containers ?? []) addTo(reqs, containerRequests(c, nonMissing));
  const restartable: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of spec.initContainers ?? []) {
    const own = containerRequests(c, nonMissing);
    if (c.restartPolicy === 'Always') {
      // a sidecar keeps running beside the app containers and the init containers after it
      addTo(reqs, own);
      addTo(restartable, own);
      maxInto(initMax, restartable);
    } else {
      const tmp: ResourceList = new Map(own);
      addTo(tmp, restartable);
      maxInto(initMax, tmp);
    }
  }
  maxInto(reqs, initMax);
  if (spec.overhead) addTo(reqs, listOf(spec.overhead as Record<string, unknown>));
  return reqs;
}

/** Places a resource list into a vector of `length` dims (interning names through `dim` first). */
function vectorOf(list: ResourceList, dim: DimOf, length: () => number): Float64Array {
  const dims: Array<[number, number]> = [];
  for (const [name, v] of list) {
    if (name === RESOURCE_PODS) continue;
    dims.push([dim(name), v]);
  }
  const out = new Float64Array(Math.max(length(), Dim.FIRST_EXTENDED));
  for (const [d, v] of dims) out[d] = v;
  return out;
}

export interface PodResources {
  /** RESOURCE dims, PODS = 1 */
  request: Float64Array;
  /** [cpu, memory] with non-zero defaults */
  nonZeroRequest: Float64Array;
}

/**
 * A pod's request vector (PODS = 1) and its non-zero [cpu, memory]. `dim` interns
 * resource names before `length` (the current dimension count) is read.
 */
export function podResources(pod: Pod, dim: DimOf, length: () => number): PodResources {
  const request = vectorOf(podRequestList(pod), dim, length);
  request[Dim.PODS] = 1;
  const nz = podRequestList(pod, true);
  const nonZeroRequest = new Float64Array([nz.get(RESOURCE_CPU) ?? 0, nz.get(RESOURCE_MEMORY) ?? 0]);
  return { request, nonZeroRequest };
}

/** status.allocatable (status.capacity when the node reports no allocatable), RESOURCE dims. */
export function nodeAllocatable(node: Node, dim: DimOf, length: () => number): Float64Array {
  const src = (node.status?.allocatable ?? node.status?.capacity) as Record<string, unknown> | undefined;
  const list = listOf(src);
  const out = vectorOf(list, dim, length);
  out[Dim.PODS] = list.get(RESOURCE_PODS) ?? 0;
  return out;
}

/** Resource names a node offers. */
export function nodeResourceNames(node: Node): string[] {
  const src = (node.status?.allocatable ?? node.status?.capacity) as Record<string, unknown> | undefined;
  return src ? Object.keys(src) : [];
}
