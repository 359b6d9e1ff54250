/**
 * What the kubelet does with an exec, attach or port-forward session the apiserver
 * opens over NATS (lib/stream, kinds `exec`, `attach`, `portforward`): find the pod's
 * sandbox and running container through CRI, ask CRI for the streaming URL (which checks
 * the request too), then relay the session's channels to containerd (relay.ts). A
 * refusal is a Status the apiserver hands to kubectl.
 *
 *   exec        target {namespace, pod, uid, container}  options {command[], stdin, stdout, stderr, tty}
 *   attach      target {namespace, pod, uid, container}  options {stdin, stdout, stderr, tty}
 *   portforward target {namespace, pod, uid}             options {port}
 */
import { stat } from 'node:fs/promises';
import { BadRequestError, InternalError, NotFoundError, StatusError } from '../../../lib/api/errors.js';
import type { RemoteCommandFlags, StreamRequest } from '../../../lib/stream/mod.js';
import { CriError, type ContainerStatus, type CriClient } from '../cri/client.js';
import { relayPortForward, relayRemoteCommand, type ChannelSession } from './relay.js';

export type StreamingRun = (session: ChannelSession) => Promise<void>;

const PODS = { resource: 'pods' };

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || !v) throw new BadRequestError(`a streaming request needs ${what}`);
  return v;
}

function flags(o: Record<string, unknown>): RemoteCommandFlags {
  const f = { stdin: o.stdin === true, stdout: o.stdout === true, stderr: o.stderr === true, tty: o.tty === true };
  // upstream: at least one of stdin, stdout and stderr must be specified
  if (!f.stdin && !f.stdout && !f.stderr) throw new BadRequestError('you must specify at least 1 of stdin, stdout, stderr');
  return f;
}

/** CRI's refusal as the Status kubectl shows */
function criStatus(e: unknown, what: string): StatusError {
  if (e instanceof CriError) {
    if (e.notFound) return new StatusError(404, 'NotFound', `${what}: ${e.message}`);
    return new InternalError(`${what}: ${e.message}`);
  }
  return e instanceof StatusError ? e : new InternalError(`${what}: ${(e as Error).message}`);
}

/**
 * The Status for an attach that relayed no output, when the container has exited and its
 * log holds output (`logBytes`): that output was written before the attach was in place
 * and is only in the log. undefined otherwise: the runtime's Status stands.
 */
export function missedOutputStatus(container: string, status: Pick<ContainerStatus, 'state'> | undefined, logBytes: number): Uint8Array | undefined {
  if (status?.state !== 'CONTAINER_EXITED' || logBytes === 0) return undefined;
  const failure = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `container ${container} exited and none of its output reached the attach: it is in its log`,
    reason: 'BadRequest',
    code: 400,
  };
  return Buffer.from(JSON.stringify(failure));
}

export class StreamingAcceptor {
  constructor(private readonly cri: CriClient) {}

  /** The pod's ready sandbox on this node, by uid (the name alone could be a recreated pod). */
  private async sandbox(t: Record<string, unknown>): Promise<string> {
    const ns = str(t.namespace, 'target.namespace');
    const pod = str(t.pod, 'target.pod');
    const uid = typeof t.uid === 'string' ? t.uid : undefined;
    const ready = (await this.cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } })).filter(
      (s) => s.metadata.namespace === ns && s.metadata.name === pod && (!uid || s.metadata.uid === uid),
    );
    if (!ready.length) throw new NotFoundError(PODS, pod).withMessage(`pod "${pod}" has no running sandbox on this node`);
    return ready.sort((a, b) => b.metadata.attempt! - a.metadata.attempt!)[0].id;
  }

  /** The running container of that name (its latest attempt), as upstream's kubelet finds it. */
  private async container(t: Record<string, unknown>): Promise<string> {
    const name = str(t.container, 'target.container');
    const sandbox = await this.sandbox(t);
    const running = (await this.cri.listContainers({ podSandboxId: sandbox, state: { state: 'CONTAINER_RUNNING' } })).filter((c) => c.metadata.name === name);
    if (!running.length) throw new BadRequestError(`container not found ("${name}")`);
    return running.sort((a, b) => (b.metadata.attempt ?? 0) - (a.metadata.attempt ?? 0))[0].id;
  }

  /**
   * An attach accepted while containerd still counted the container running, though its
   * process had already printed and exited (`kubectl run --rm -i -- wget …`), relays
   * nothing and ends with success, and kubectl shows nothing. Answering it as a failure
   * makes kubectl fall back to the container's log, as it does when the container is gone.
   * The log decides, not the times: the exit time is when the shim reaped the process, not
   * when it wrote, and containerd adds the attach's writers only once it handles the
   * streams; under load a lost line came with an exit time 7 ms after the connection.
   */
  private async missedOutput(containerId: string, container: string, outputBytes: number): Promise<Uint8Array | undefined> {
    if (outputBytes > 0) return undefined;
    let status: ContainerStatus | undefined;
    // the streams close as the process exits: CRI says EXITED once containerd handled the exit
    const deadline = Date.now() + 5000;
    do {
      status = await this.cri.containerStatus(containerId).catch(() => undefined);
      if (status?.state !== 'CONTAINER_RUNNING') break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    const logBytes = status?.state === 'CONTAINER_EXITED' && status.logPath ? await stat(status.logPath).then((s) => s.size, () => 0) : 0;
    return missedOutputStatus(container, status, logBytes);
  }

  /** Checks the request and asks CRI for the URL; the returned run relays the session. */
  async accept(req: StreamRequest): Promise<StreamingRun> {
    const o = req.options ?? {};
    switch (req.kind) {
      case 'exec': {
        const command = o.command;
        if (!Array.isArray(command) || !command.length || !command.every((c) => typeof c === 'string')) throw new BadRequestError('you must specify at least one command for the container');
        const f = flags(o);
        const containerId = await this.container(req.target);
        const url = await this.cri.exec({ containerId, cmd: command as string[], ...f, stderr: f.stderr && !f.tty }).catch((e) => {
          throw criStatus(e, 'exec');
        });
        return (s) => relayRemoteCommand(url, f, s);
      }
      case 'attach': {
        const f = flags(o);
        const containerId = await this.container(req.target);
        const url = await this.cri.attach({ containerId, ...f, stderr: f.stderr && !f.tty }).catch((e) => {
          throw criStatus(e, 'attach');
        });
        const container = `${req.target.namespace}/${req.target.pod}/${req.target.container ?? ''}`;
        return (s) => relayRemoteCommand(url, f, s, { replaceStatus: (bytes) => this.missedOutput(containerId, container, bytes) });
      }
      case 'portforward': {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BadRequestError(`invalid port ${String(o.port)}: a port is 1-65535`);
        const sandbox = await this.sandbox(req.target);
        const url = await this.cri.portForward(sandbox, [port]).catch((e) => {
          throw criStatus(e, 'port-forward');
        });
        return (s) => relayPortForward(url, port, s);
      }
      default:
        throw new BadRequestError(`the kubelet does not stream "${req.kind}"`);
    }
  }
}
