/**
 * How the client turns what comes back over NATS into the typed errors callers react to:
 * a Failure Status into its StatusError, no responders into ServiceUnavailable, a missing
 * reply into Timeout, each naming the subject and the object.
 */
import { NoRespondersError, RequestError, TimeoutError as NatsTimeoutError } from '@nats-io/transport-node';
import { InternalError, ServiceUnavailableError, StatusError, TimeoutError, type Status } from '../api/errors.js';
import type { KubeObject } from './client.js';
import type { ResourceRef } from './protocol.js';

export function isFailure(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as Status).kind === 'Status' && (v as Status).status === 'Failure';
}

/** The error a Failure Status (or anything else a server put in an error slot) stands for. */
export function toStatusError(v: unknown): StatusError {
  if (isFailure(v)) return StatusError.fromStatus(v);
  if (v instanceof StatusError) return v;
  return new InternalError(`unexpected error from the apiserver: ${JSON.stringify(v)}`);
}

/** `pods/status default/web` for messages. */
export function describe(ref: ResourceRef, body?: unknown): string {
  const name = ref.name ?? (body as KubeObject | undefined)?.metadata?.name ?? (body as KubeObject | undefined)?.metadata?.generateName;
  const what = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
  const qual = ref.group ? `${what}.${ref.group}` : what;
  const obj = name ? ` ${ref.namespace ? `${ref.namespace}/` : ''}${name}` : ref.namespace ? ` in namespace ${ref.namespace}` : '';
  return `${qual}${obj}`;
}

export function isNoResponders(e: unknown): boolean {
  if (e instanceof NoRespondersError) return true;
  if (e instanceof RequestError) return e.isNoResponders();
  return false;
}

/** A NATS failure as the typed error callers react to. */
export function transportError(e: unknown, subject: string, what: string, timeoutMs: number): StatusError {
  if (e instanceof StatusError) return e;
  if (isNoResponders(e)) return new ServiceUnavailableError(`no apiserver answers on ${subject} (${what})`);
  if (e instanceof NatsTimeoutError || (e instanceof Error && e.name === 'TimeoutError'))
    return new TimeoutError(`no reply on ${subject} within ${timeoutMs} ms (${what})`);
  const msg = e instanceof Error ? e.message : String(e);
  return new ServiceUnavailableError(`request on ${subject} failed (${what}): ${msg}`);
}
