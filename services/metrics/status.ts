/** A failure as the HTTP answer metrics-server gives: a metav1.Status with its code. */
import { StatusError } from '../../lib/api/errors.js';

export function errorBodyOf(e: unknown): { code: number; body: object } {
  if (e instanceof StatusError) return { code: e.code, body: e.toStatus() };
  const message = `Internal error occurred: ${(e as Error)?.message ?? String(e)}`;
  return { code: 500, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 } };
}
