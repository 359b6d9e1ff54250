/**
 * The kubelet's events about pods and their containers, with upstream's reasons
 * (pkg/kubelet/events) and messages. One EventRecorder per kubelet process (made in
 * server.ts, reportingController `kubelet`, reportingInstance the node's name) is
 * wrapped here so every part of the kubelet records the same way:
 * `events.recordPod(pod, 'Warning', Reasons.unhealthy, 'Liveness probe failed: ...', 'web')`.
 * A container's events carry the fieldPath `spec.containers{name}` (or
 * `spec.initContainers{name}`), as upstream's, so `kubectl describe pod` lists them.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { EventRecorder, EventType } from '../../lib/client/mod.js';

/** upstream's kubelet event reasons */
export const Reasons = {
  created: 'Created',
  started: 'Started',
  failed: 'Failed',
  killing: 'Killing',
  backOff: 'BackOff',
  unhealthy: 'Unhealthy',
  probeWarning: 'ProbeWarning',
  failedPostStartHook: 'FailedPostStartHook',
  failedPreStopHook: 'FailedPreStopHook',
  exceededGracePeriod: 'ExceededGracePeriod',
  pulling: 'Pulling',
  pulled: 'Pulled',
  errImageNeverPull: 'ErrImageNeverPull',
} as const;

export class PodEvents {
  constructor(private readonly recorder: EventRecorder) {}

  /**
   * Records an event about the pod; with `container`, about that container of it (an init
   * container when the pod spec lists it among initContainers). Returns at once.
   */
  recordPod(pod: Pod, type: EventType, reason: string, message: string, container?: string): void {
    let fieldPath: string | undefined;
    if (container) {
      const init = pod.spec?.initContainers?.some((c) => c.name === container);
      fieldPath = `spec.${init ? 'initContainers' : 'containers'}{${container}}`;
    }
    this.recorder.record({ regarding: { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata }, type, reason, action: reason, note: message, fieldPath });
  }

  /** Writes what is queued (the kubelet's stop). */
  stop(): Promise<void> {
    return this.recorder.stop();
  }
}
