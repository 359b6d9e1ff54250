/** What the cache reads of a pod: whether it counts, what it holds on its node. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { labelsEqual } from '../../../../lib/api/labels.js';

export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** upstream: a pod with pod (anti-)affinity terms (HavePodsWithAffinityList). */
export function hasPodAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  return !!a && (!!a.podAffinity || !!a.podAntiAffinity);
}

/** The topology keys of a pod's pod (anti-)affinity terms, required and preferred, as listed. */
export function affinityTopologyKeys(pod: Pod): string[] {
  const a = pod.spec?.affinity;
  const out: string[] = [];
  for (const x of [a?.podAffinity, a?.podAntiAffinity]) {
    for (const t of x?.requiredDuringSchedulingIgnoredDuringExecution ?? []) out.push(t.topologyKey);
    for (const t of x?.preferredDuringSchedulingIgnoredDuringExecution ?? []) out.push(t.podAffinityTerm.topologyKey);
  }
  return out;
}

/**
 * Whether an update leaves what the cache derives from a bound pod as it was: labels (pod
 * affinity and spread count them), resources (in-place resize) and host ports; the rest
 * of a bound pod's spec is immutable.
 */
export function sameSchedulingInputs(a: Pod, b: Pod): boolean {
  if (!labelsEqual(a.metadata?.labels, b.metadata?.labels)) return false;
  if (a.spec === b.spec) return true;
  return schedulingJson(a) === schedulingJson(b);
}

function schedulingJson(p: Pod): string {
  const s = p.spec;
  const containers = (cs: NonNullable<Pod['spec']>['containers'] | undefined) => cs?.map((c) => [c.resources, c.ports, c.restartPolicy]);
  return JSON.stringify([containers(s?.containers), containers(s?.initContainers), s?.overhead]);
}

/** Host ports a pod takes: (protocol, hostPort) of containers and restartable init containers. */
export function podHostPorts(pod: Pod): Array<{ protocol: string; port: number }> {
  const out: Array<{ protocol: string; port: number }> = [];
  const cs = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of cs) {
    for (const p of c.ports ?? []) {
      if (p.hostPort && p.hostPort > 0) out.push({ protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}
