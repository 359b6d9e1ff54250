/**
 * A pod's container spec turned into the runtime's ContainerConfig, as upstream's
 * kubelet does (kuberuntime_container.go generateContainerConfig): command and args,
 * workingDir, the environment with its downward-API fieldRefs resolved, and resources as
 * cgroup limits (a cpu limit is a CFS quota over a 100 ms period, a cpu request is
 * cpu.shares, a memory limit is memory.limit_in_bytes).
 */
import type { Container, EnvVar, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../lib/api/quantity.js';
import type { ContainerConfig, ContainerResources } from './runtime.js';

/** upstream's quotaPeriod (100 ms, in µs) and the kernel's minimum shares */
export const CPU_PERIOD_US = 100_000;
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;

/** A container whose config cannot be made: the pod shows CreateContainerConfigError with this message. */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** The value of a downward-API fieldRef path (upstream podFieldSelectorRuntimeValue). */
export function fieldValue(pod: Pod, fieldPath: string, podIP: string, hostIP: string): string {
  const meta = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (sub) return (sub[1] === 'labels' ? meta.labels : meta.annotations)?.[sub[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

function envValue(pod: Pod, e: EnvVar, podIP: string, hostIP: string): string {
  if (!e.valueFrom) return e.value ?? '';
  if (e.valueFrom.fieldRef) return fieldValue(pod, e.valueFrom.fieldRef.fieldPath, podIP, hostIP);
  throw new ContainerConfigError(`env ${e.name}: only value and valueFrom.fieldRef are supported by this kubelet so far`);
}

/** Requests and limits as cgroup settings; undefined when the container sets none. */
export function containerResources(c: Container): ContainerResources | undefined {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const out: ContainerResources = {};
  const cpuLimit = limits.cpu ?? undefined;
  // upstream: a missing request defaults to the limit
  const cpuRequest = requests.cpu ?? cpuLimit;
  if (cpuLimit !== undefined) {
    out.cpuPeriod = CPU_PERIOD_US;
    out.cpuQuota = Math.max(1000, Number((parseQuantity(String(cpuLimit)).milliValue() * BigInt(CPU_PERIOD_US)) / 1000n));
  }
  if (cpuRequest !== undefined) out.cpuShares = Math.max(MIN_SHARES, Number((parseQuantity(String(cpuRequest)).milliValue() * BigInt(SHARES_PER_CPU)) / 1000n));
  if (limits.memory !== undefined) out.memoryLimitInBytes = Number(parseQuantity(String(limits.memory)).value());
  return Object.keys(out).length ? out : undefined;
}

/** The runtime's config for attempt `attempt` of container c of the pod. */
export function containerConfig(pod: Pod, c: Container, attempt: number, podIP: string, hostIP: string): ContainerConfig {
  const config: ContainerConfig = { metadata: { name: c.name, attempt }, image: c.image ?? '' };
  if (c.command?.length) config.command = c.command;
  if (c.args?.length) config.args = c.args;
  if (c.workingDir) config.workingDir = c.workingDir;
  if (c.env?.length) config.envs = c.env.map((e) => ({ key: e.name, value: envValue(pod, e, podIP, hostIP) }));
  const resources = containerResources(c);
  if (resources) config.resources = resources;
  if (c.stdin) config.stdin = true;
  if (c.stdinOnce) config.stdinOnce = true;
  if (c.tty) config.tty = true;
  return config;
}
