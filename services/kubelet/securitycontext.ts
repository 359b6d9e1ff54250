/**
 * A pod's and container's securityContext as CRI Linux security settings, as upstream's
 * kubelet (security_context.go determineEffectiveSecurityContext,
 * convertToRuntimeSecurityContext): runAsUser and runAsGroup from the container, else the
 * pod; supplementalGroups and fsGroup from the pod; readOnlyRootFilesystem, capabilities
 * and privileged from the container; allowPrivilegeEscalation false is no_new_privs
 * (never for privileged containers). runAsNonRoot with runAsUser 0 fails the container
 * config with upstream's message. The pod's namespaces: network NODE with hostNetwork,
 * pid and ipc shared by the pod (NODE with hostPID, hostIPC).
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError } from './containerconfig.js';
import type { ContainerSecurity, SandboxSecurity } from './runtime.js';

/** the container's settings, undefined when neither pod nor container sets any */
export function containerSecurity(pod: Pod, c: Container): ContainerSecurity | undefined {
  const ps = pod.spec?.securityContext ?? {};
  const cs = c.securityContext ?? {};
  const out: ContainerSecurity = {};
  const runAsUser = cs.runAsUser ?? ps.runAsUser;
  const runAsGroup = cs.runAsGroup ?? ps.runAsGroup;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if ((cs.runAsNonRoot ?? ps.runAsNonRoot) && runAsUser === 0)
    throw new ContainerConfigError(`container's runAsUser breaks non-root policy (pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${c.name})`);
  const groups = [...(ps.supplementalGroups ?? []), ...(ps.fsGroup !== undefined ? [ps.fsGroup] : [])];
  if (groups.length) out.supplementalGroups = [...new Set(groups)];
  if (cs.readOnlyRootFilesystem) out.readonlyRootfs = true;
  if (cs.privileged) out.privileged = true;
  if (cs.capabilities?.add?.length || cs.capabilities?.drop?.length)
    out.capabilities = { addCapabilities: cs.capabilities.add ?? [], dropCapabilities: cs.capabilities.drop ?? [] };
  if (!cs.privileged && cs.allowPrivilegeEscalation === false) out.noNewPrivs = true;
  return Object.keys(out).length ? out : undefined;
}

/** the sandbox's settings: the pod's namespaces, user, group and groups; privileged when a container is */
export function sandboxSecurity(pod: Pod): SandboxSecurity {
  const ps = pod.spec?.securityContext ?? {};
  const out: SandboxSecurity = {};
  if (ps.runAsUser !== undefined) out.runAsUser = ps.runAsUser;
  if (ps.runAsGroup !== undefined) out.runAsGroup = ps.runAsGroup;
  const groups = [...(ps.supplementalGroups ?? []), ...(ps.fsGroup !== undefined ? [ps.fsGroup] : [])];
  if (groups.length) out.supplementalGroups = [...new Set(groups)];
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  if (all.some((c) => c.securityContext?.privileged)) out.privileged = true;
  // the pid namespace stays the pod's (what this kubelet did so far; upstream gives each
  // container its own unless shareProcessNamespace, where a PID 1 without a SIGTERM
  // handler then waits out the whole grace period)
  out.namespaceOptions = {
    network: pod.spec?.hostNetwork ? 'NODE' : 'POD',
    pid: pod.spec?.hostPID ? 'NODE' : 'POD',
    ipc: pod.spec?.hostIPC ? 'NODE' : 'POD',
  };
  return out;
}
