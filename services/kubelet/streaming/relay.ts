/**
 * The kubelet's end of an exec, attach or port-forward session: the channels arriving
 * over NATS (lib/stream) relayed to the SPDY streams of containerd's streaming server,
 * channel for channel (stdin 0, stdout 1, stderr 2, error 3, resize 4; for a forwarded
 * port, data 0 and error 1).
 */
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InternalError } from '../../../lib/api/errors.js';
import type { RemoteCommandFlags } from '../../../lib/stream/mod.js';
import { openRemoteCommandStreams } from '../../../lib/spdy/mod.js';
import { dialRuntimeStream } from './runtimestream.js';

/** What the kubelet needs of a stream session: its numbered channels (lib/stream's StreamSession). */
export interface ChannelSession {
  channel(id: number): Duplex;
  readonly signal?: AbortSignal;
}

const REMOTECOMMAND_PROTOCOL = 'v4.channel.k8s.io';

/** Resolves when a writable (our side of a channel) has flushed and ended, or was destroyed. */
function ended(s: Duplex): Promise<void> {
  return finished(s, { readable: false }).catch(() => undefined);
}

/** Pipes a -> b, ending b when a ends; errors on either end only stop the copy. */
function relay(a: Duplex, b: Duplex): Promise<void> {
  a.on('error', () => undefined);
  b.on('error', () => undefined);
  a.pipe(b);
  return ended(b);
}

export interface RemoteCommandRelayOptions {
  /**
   * Once the output has drained: the Status to send on the error channel instead of the
   * runtime's (undefined keeps the runtime's), given the output bytes relayed. Not asked
   * when the client went away.
   */
  replaceStatus?: (outputBytes: number) => Promise<Uint8Array | undefined>;
}

/**
 * Runs an exec or attach: upstream's v4 client streams (error first, then stdin, stdout,
 * stderr, resize; stderr never with a TTY), relayed until containerd closed the error
 * stream (the Status: exit code or failure) and the output streams drained. containerd
 * always writes a Status before it closes; a connection that ended without one was cut
 * (its output may be short), which fails the session (500) instead of passing for exit 0.
 */
export async function relayRemoteCommand(url: string, flags: RemoteCommandFlags, ch: ChannelSession, opts: RemoteCommandRelayOptions = {}): Promise<void> {
  const { session } = await dialRuntimeStream(url, [REMOTECOMMAND_PROTOCOL]);
  const abort = () => session.destroy();
  ch.signal?.addEventListener('abort', abort, { once: true });
  try {
    const { error, stdin, stdout, stderr, resize } = await openRemoteCommandStreams(session, flags);
    const outputs: Promise<void>[] = [];
    const status: Buffer[] = [];
    let outputBytes = 0;
    error.on('data', (c: Buffer) => status.push(c));
    if (stdin) void relay(ch.channel(0), stdin);
    if (resize) void relay(ch.channel(4), resize);
    for (const [s, id] of [[stdout, 1], [stderr, 2]] as const) {
      if (!s) continue;
      s.on('data', (c: Buffer) => (outputBytes += c.length));
      outputs.push(relay(s, ch.channel(id)));
    }
    const { replaceStatus } = opts;
    if (!replaceStatus) outputs.push(relay(error, ch.channel(3)));
    else outputs.push(finished(error).catch(() => undefined));
    await Promise.all(outputs);
    if (!status.length && !ch.signal?.aborted) {
      throw new InternalError(`the container runtime's streaming server closed the connection before the command's exit status arrived; its output may be incomplete`);
    }
    if (replaceStatus) {
      const errorChannel = ch.channel(3);
      errorChannel.end((ch.signal?.aborted ? undefined : await replaceStatus(outputBytes)) ?? Buffer.concat(status));
      await ended(errorChannel);
    }
  } finally {
    ch.signal?.removeEventListener('abort', abort);
    session.close();
  }
}

/**
 * Forwards one connection to `port` in the pod's network namespace: a data and an error
 * stream (headers port, streamType, requestID as upstream's kubectl sends them).
 */
export async function relayPortForward(url: string, port: number, ch: ChannelSession): Promise<void> {
  const { session } = await dialRuntimeStream(url, ['portforward.k8s.io']);
  const abort = () => session.destroy();
  ch.signal?.addEventListener('abort', abort, { once: true });
  try {
    const headers = { port: String(port), requestid: '0' };
    const error = await session.openStream({ ...headers, streamtype: 'error' }, { fin: true });
    const data = await session.openStream({ ...headers, streamtype: 'data' });
    const up = relay(ch.channel(0), data);
    const down = relay(data, ch.channel(0));
    const errors = relay(error, ch.channel(1));
    // the connection is over when the pod's side ended and so did the client's
    await Promise.all([down, errors, Promise.race([up, finished(data).catch(() => undefined)])]);
  } finally {
    ch.signal?.removeEventListener('abort', abort);
    session.close();
  }
}
