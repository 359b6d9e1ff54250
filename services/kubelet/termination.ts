/**
 * Stopping one container as upstream's kubelet does (kuberuntime killContainer): a
 * `Killing` event, then the preStop hook, given at most the grace period; then CRI
 * StopContainer with what is left of it (SIGTERM, and SIGKILL when it runs out), never
 * less than 2 s, so a container always gets a moment to shut down. Used for a pod's
 * deletion (grace: metadata.deletionGracePeriodSeconds, else
 * spec.terminationGracePeriodSeconds), a liveness or startup failure (the probe's own
 * terminationGracePeriodSeconds if set) and a failed postStart hook.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { type PodEvents, Reasons } from './events.js';
import { runLifecycleHandler } from './hooks.js';
import type { ContainerRuntime } from './runtime.js';

/** upstream's minimumGracePeriodInSeconds */
export const MIN_GRACE_SECONDS = 2;
/** upstream's default terminationGracePeriodSeconds */
export const DEFAULT_GRACE_SECONDS = 30;

/** The grace period a pod's containers get when it is deleted. */
export function podGraceSeconds(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
}

export interface KillContext {
  runtime: ContainerRuntime;
  events?: PodEvents;
  log: (line: string) => void;
}

export interface KillRequest {
  pod: Pod;
  /** the container's spec (its preStop hook); absent for containers the spec no longer names */
  container?: Container;
  name: string;
  containerId: string;
  podIP: string;
  graceSeconds: number;
  /** the Killing event's message (default `Stopping container <name>`) */
  message?: string;
}

/** Runs preStop within the grace period, then stops the container with the rest of it. */
export async function killContainer(ctx: KillContext, k: KillRequest): Promise<void> {
  const key = `${k.pod.metadata?.namespace}/${k.pod.metadata?.name}`;
  ctx.events?.recordPod(k.pod, 'Normal', Reasons.killing, k.message ?? `Stopping container ${k.name}`, k.name);
  let grace = k.graceSeconds;
  const preStop = k.container?.lifecycle?.preStop;
  if (preStop && grace > 0 && ctx.runtime.execSync && ctx.runtime.containerStatus(k.containerId)?.state === 'CONTAINER_RUNNING') {
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<void>((resolve) => (timer = setTimeout(resolve, grace * 1000)));
    const target = { containerId: k.containerId, container: k.container!, podIP: k.podIP, exec: ctx.runtime.execSync?.bind(ctx.runtime) };
    const hook = runLifecycleHandler(preStop, target, grace).catch((e: Error) => {
      ctx.log(`pod ${key}: container ${k.name}: preStop hook failed: ${e.message}`);
      // upstream leaves the hook's output out of the event: it may carry secrets
      ctx.events?.recordPod(k.pod, 'Warning', Reasons.failedPreStopHook, 'PreStopHook failed', k.name);
    });
    await Promise.race([hook, outOfTime]);
    clearTimeout(timer);
    grace -= Math.floor((Date.now() - t0) / 1000);
  }
  await ctx.runtime.stopContainer(k.containerId, Math.max(grace, MIN_GRACE_SECONDS));
}
