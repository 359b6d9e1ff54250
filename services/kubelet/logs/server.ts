/**
 * The kubelet's side of pods/log: a `log` stream session (lib/stream, opened by the
 * apiserver) names a pod's container and carries PodLogOptions; the container is chosen
 * from the pod's status as upstream's kubelet does (validateContainerLogStatus: the
 * running one, the terminated one, the last terminated one for `previous` or while it
 * waits to restart), and its CRI log file is read (reader.ts) onto channel 1.
 */
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerStatus, PodStatus } from 'kubernetes-types/core/v1.js';
import { BadRequestError, NotFoundError } from '../../../lib/api/errors.js';
import { Channel, type StreamAcceptor, type StreamRequest } from '../../../lib/stream/mod.js';
import type { PodManager } from '../pods.js';
import type { ContainerRuntime } from '../runtime.js';
import { readLogs, type LogReadOptions } from './reader.js';
import type { PodLogOptions } from '../../../lib/api/podlog.js';

/** corev1.PodLogOptions as a log session carries them (checked by the apiserver already; the container is the target's). */
export type LogSessionOptions = Omit<PodLogOptions, 'container'>;

/** Where a log session points: a pod's container. */
export interface LogTarget {
  namespace: string;
  pod: string;
  /** the pod's uid the apiserver saw: a pod of the same name created since is another pod */
  uid?: string;
  container: string;
}

export interface LogServerDeps {
  pods: PodManager;
  /** the runtime: its containers' log paths and states */
  runtime: ContainerRuntime & { containerLogPath(id: string): string | undefined };
  /** the pods' log folder (`<root-dir>/pods`): `<ns>_<name>_<uid>/<container>/<attempt>.log` */
  podLogDir: string;
  /** how often a follow looks for more (default 100 ms) */
  pollMs?: number;
}

/** upstream validateContainerLogStatus: which container's log, or why there is none (a 400). */
export function logContainerId(status: PodStatus, pod: string, container: string, previous: boolean): string {
  const all: ContainerStatus[] = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? []), ...(status.ephemeralContainerStatuses ?? [])];
  const cs = all.find((c) => c.name === container);
  if (!cs) throw new BadRequestError(`container "${container}" in pod "${pod}" is not available`);
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  if (previous) {
    if (!last?.containerID) throw new BadRequestError(`previous terminated container "${container}" in pod "${pod}" not found`);
    return last.containerID;
  }
  if (running) return cs.containerID ?? '';
  if (terminated) {
    if (terminated.containerID) return terminated.containerID;
    if (last?.containerID) return last.containerID;
    throw new BadRequestError(`container "${container}" in pod "${pod}" is terminated`);
  }
  if (last) {
    if (!last.containerID) throw new BadRequestError(`container "${container}" in pod "${pod}" is terminated`);
    return last.containerID;
  }
  if (waiting) {
    if (waiting.reason === 'ErrImagePull') throw new BadRequestError(`container "${container}" in pod "${pod}" is waiting to start: image can't be pulled`);
    if (waiting.reason === 'ImagePullBackOff') throw new BadRequestError(`container "${container}" in pod "${pod}" is waiting to start: trying and failing to pull image`);
    throw new BadRequestError(`container "${container}" in pod "${pod}" is waiting to start: ${waiting.reason ?? ''}`);
  }
  throw new BadRequestError(`container "${container}" in pod "${pod}" is waiting to start - no logs yet`);
}

const ATTEMPT_LOG = /^(\d+)\.log$/;

/** The attempts whose log files the container's folder holds, ascending. */
async function attempts(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .map((n) => ATTEMPT_LOG.exec(n))
    .filter((m) => m !== null)
    .map((m) => Number(m![1]))
    .sort((a, b) => a - b);
}

function attemptOf(logPath: string): number | undefined {
  const m = ATTEMPT_LOG.exec(path.basename(logPath));
  return m ? Number(m[1]) : undefined;
}

/** The stream acceptor for `log` sessions. */
export function logAcceptor(d: LogServerDeps): StreamAcceptor {
  return async (req: StreamRequest) => {
    const t = req.target as Partial<LogTarget>;
    const o = (req.options ?? {}) as LogSessionOptions;
    if (!t.namespace || !t.pod || !t.container) throw new BadRequestError('a log session needs target.namespace, target.pod and target.container');
    const found = d.pods.podStatus(t.namespace, t.pod);
    if (!found || (t.uid && t.uid !== found.uid)) throw new NotFoundError({ resource: 'pods' }, t.pod).withMessage(`pod "${t.pod}" does not exist on this node`);
    const previous = !!o.previous;
    const containerId = logContainerId(found.status, t.pod, t.container, previous).replace(/^[a-z]+:\/\//, '');
    const dir = path.join(d.podLogDir, `${t.namespace}_${t.pod}_${found.uid}`, t.container);
    let logPath = containerId ? d.runtime.containerLogPath(containerId) : undefined;
    if (!logPath) {
      // the container is gone from the runtime (a restart removed it): its file stays,
      // named by its attempt; the previous attempt is the newest before the current one
      const known = await attempts(dir);
      const cur = previous ? current(found.status, t.container) : undefined;
      const curPath = cur ? d.runtime.containerLogPath(cur) : undefined;
      const curAttempt = curPath ? attemptOf(curPath) : undefined;
      const pick = known.filter((a) => curAttempt === undefined || a < curAttempt).pop();
      if (pick === undefined) {
        if (previous) throw new BadRequestError(`previous terminated container "${t.container}" in pod "${t.pod}" not found`);
        return (s) => void s.channel(Channel.STDOUT).end();
      }
      logPath = path.join(dir, `${pick}.log`);
    }
    const read: LogReadOptions = {
      follow: !!o.follow && !previous,
      tailLines: o.tailLines,
      timestamps: o.timestamps,
      limitBytes: o.limitBytes,
      sinceMs: o.sinceSeconds !== undefined ? Date.now() - o.sinceSeconds * 1000 : o.sinceTime ? Date.parse(o.sinceTime) : undefined,
    };
    const file = logPath;
    return async (session) => {
      const out = session.channel(Channel.STDOUT);
      await readLogs(
        file,
        read,
        async (b) => {
          if (!out.write(b)) await once(out, 'drain', { signal: session.signal }).catch(() => undefined);
        },
        { signal: session.signal, running: () => d.runtime.containerStatus(containerId)?.state === 'CONTAINER_RUNNING', pollMs: d.pollMs },
      );
      out.end();
    };
  };
}

/** The id of the container's current attempt, when it has one. */
function current(status: PodStatus, container: string): string | undefined {
  const cs = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])].find((c) => c.name === container);
  const id = cs?.containerID ?? cs?.state?.terminated?.containerID;
  return id?.replace(/^[a-z]+:\/\//, '');
}
