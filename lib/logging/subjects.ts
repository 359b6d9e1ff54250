/**
 * Where container logs live in JetStream: one stream (file storage, retention by age and
 * bytes) whose subjects are `<prefix>.<namespace>.<pod>.<container>`, so a consumer's
 * subject filter selects a namespace, a pod or a container without reading the rest.
 * Names are escaped as the store's keys are (`lib/store/keys.ts`: "." → "=2E"), so no
 * name adds a token.
 */
import { escapeToken, unescapeToken } from '../store/keys.js';

export const DEFAULT_LOG_STREAM = 'FLOTILLA_LOGS';
export const DEFAULT_LOG_SUBJECT_PREFIX = 'flotilla.logs';
/** the logging service's query sessions (lib/stream, kind `log`) */
export const LOG_QUERY_SUBJECT = 'flotilla.logging.query';

export interface LogStreamRef {
  namespace: string;
  pod: string;
  container: string;
}

export function logSubject(prefix: string, ref: LogStreamRef): string {
  return `${prefix}.${escapeToken(ref.namespace)}.${escapeToken(ref.pod)}.${escapeToken(ref.container)}`;
}

/** The narrowest subject filter that holds every stream matching the given parts (`*` for those not given). */
export function logSubjectFilter(prefix: string, ref: Partial<LogStreamRef>): string {
  const t = (v: string | undefined) => (v === undefined ? '*' : escapeToken(v));
  if (ref.namespace === undefined) return `${prefix}.>`;
  if (ref.pod === undefined && ref.container === undefined) return `${prefix}.${t(ref.namespace)}.>`;
  return `${prefix}.${t(ref.namespace)}.${t(ref.pod)}.${t(ref.container)}`;
}

export function parseLogSubject(prefix: string, subject: string): LogStreamRef | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  const parts = subject.slice(prefix.length + 1).split('.');
  if (parts.length !== 3) return undefined;
  return { namespace: unescapeToken(parts[0]!), pod: unescapeToken(parts[1]!), container: unescapeToken(parts[2]!) };
}
