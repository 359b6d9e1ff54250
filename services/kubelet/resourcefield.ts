/**
 * The downward API's resourceFieldRef (env and downwardAPI volumes), as upstream's
 * pkg/api/v1/resource ExtractContainerResourceValue: a container's limit or request of
 * cpu, memory or ephemeral-storage divided by the divisor (default 1) and rounded up.
 * Limits the container does not set are the node's allocatable, as the kubelet's
 * defaultPodLimitsForDownwardAPI does; a request it does not set is its limit when it
 * has one (the API's defaulting), otherwise 0.
 */
import type { Container, Pod, ResourceFieldSelector } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import { ContainerConfigError } from './containerconfig.js';

const RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a || a < 0n ? q : q + 1n;
}

/** The value of one resourceFieldRef for container c of the pod; allocatable is the node's. */
export function resourceFieldValue(fs: ResourceFieldSelector, pod: Pod, c: Container | undefined, allocatable: Record<string, string>): string {
  if (fs.containerName) c = pod.spec?.containers?.find((x) => x.name === fs.containerName) ?? pod.spec?.initContainers?.find((x) => x.name === fs.containerName);
  if (!c) throw new ContainerConfigError(`resourceFieldRef: container "${fs.containerName ?? ''}" not found in pod`);
  const m = /^(limits|requests)\.(.+)$/.exec(fs.resource);
  if (!m || !RESOURCES.includes(m[2]!)) throw new ContainerConfigError(`unsupported container resource : ${fs.resource}`);
  const [, kind, resource] = m as unknown as [string, 'limits' | 'requests', string];
  const limit = c.resources?.limits?.[resource] ?? allocatable[resource];
  const raw = kind === 'limits' ? limit : (c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource] ?? '0');
  const quantity = parseQuantity(String(raw ?? '0'));
  // an unset or zero divisor is 1 (upstream)
  let divisor = parseQuantity(String(fs.divisor ?? '1'));
  if (divisor.milliValue() === 0n) divisor = parseQuantity('1');
  // cpu is counted in thousandths, the others in units, as upstream's convertResource*ToString
  if (resource === 'cpu') return String(ceilDiv(quantity.milliValue(), divisor.milliValue()));
  return String(ceilDiv(quantity.value(), divisor.value()));
}
