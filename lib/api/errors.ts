/**
 * Typed API errors. Every failure the apiserver reports is a metav1.Status with the
 * upstream reason and code; callers that must react (conflict, not found, gone) test
 * the class or `reason`, never the message text.
 */

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'NotAcceptable'
  | 'Forbidden'
  | 'Unauthorized'
  | 'Timeout'
  | 'ServiceUnavailable'
  | 'InternalError'
  | 'TooManyRequests';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status as it travels over HTTP and NATS. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | '';
  details?: StatusDetails;
  code: number;
}

/** The resource an error is about, for messages shaped like upstream's `pods "web" not found`. */
export interface Qualified {
  /** plural resource name, e.g. "pods" */
  resource: string;
  /** API group, "" for core */
  group?: string;
  /** the Kind, when known, for details.kind */
  kind?: string;
}

export class StatusError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: StatusDetails;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The same error with a more specific message. */
  withMessage(message: string): this {
    this.message = message;
    return this;
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }

  /** Rebuilds the typed error a remote apiserver reported. */
  static fromStatus(s: Status): StatusError {
    const reason = (s.reason || 'InternalError') as StatusReason;
    const Cls = byReason[reason] ?? StatusError;
    const e = Object.create(Cls.prototype) as StatusError;
    Object.assign(e, { name: Cls.name, message: s.message ?? reason, code: s.code, reason, details: s.details });
    e.stack = `${Cls.name}: ${e.message}`;
    return e;
  }
}

function qname(q: Qualified): string {
  return q.group ? `${q.resource}.${q.group}` : q.resource;
}

/** details for an object's error; the core group is left out, as upstream's `group,omitempty` does. */
function objectDetails(q: Qualified, name: string, kind: string | undefined, causes?: StatusCause[]): StatusDetails {
  const d: StatusDetails = { name };
  if (q.group) d.group = q.group;
  d.kind = kind;
  if (causes) d.causes = causes;
  return d;
}

export class NotFoundError extends StatusError {
  constructor(q: Qualified, name: string) {
    super(404, 'NotFound', `${qname(q)} "${name}" not found`, objectDetails(q, name, q.resource));
  }
}

export class AlreadyExistsError extends StatusError {
  constructor(q: Qualified, name: string) {
    super(409, 'AlreadyExists', `${qname(q)} "${name}" already exists`, objectDetails(q, name, q.resource));
  }
}

export class ConflictError extends StatusError {
  constructor(q: Qualified, name: string, why: string) {
    super(409, 'Conflict', `Operation cannot be fulfilled on ${qname(q)} "${name}": ${why}`, objectDetails(q, name, q.resource));
  }
}

export class InvalidError extends StatusError {
  readonly causes: StatusCause[];
  constructor(q: Qualified & { kind: string }, name: string, causes: StatusCause[]) {
    const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
    // upstream names the kind with its group (schema.GroupKind.String()): `Deployment.apps "web" is invalid`
    const groupKind = q.group ? `${q.kind}.${q.group}` : q.kind;
    const msg = causes.length === 1 ? `${groupKind} "${name}" is invalid: ${list}` : `${groupKind} "${name}" is invalid: [${list}]`;
    super(422, 'Invalid', msg, objectDetails(q, name, q.kind, causes));
    this.causes = causes;
  }
}

export class BadRequestError extends StatusError {
  constructor(message: string) {
    super(400, 'BadRequest', message);
  }
}

export class GoneError extends StatusError {
  constructor(message = 'too old resource version') {
    super(410, 'Expired', message);
  }
}

export class MethodNotAllowedError extends StatusError {
  constructor(message: string) {
    super(405, 'MethodNotAllowed', message);
  }
}

export class UnsupportedMediaTypeError extends StatusError {
  constructor(contentType: string) {
    super(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`);
  }
}

export class RequestEntityTooLargeError extends StatusError {
  constructor(limit: number) {
    super(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
  }
}

export class NotAcceptableError extends StatusError {
  constructor(message: string) {
    super(406, 'NotAcceptable', message);
  }
}

export class InternalError extends StatusError {
  constructor(message: string) {
    super(500, 'InternalError', `Internal error occurred: ${message}`);
  }
}

export class ServiceUnavailableError extends StatusError {
  constructor(message: string) {
    super(503, 'ServiceUnavailable', message);
  }
}

export class TimeoutError extends StatusError {
  constructor(message: string) {
    super(504, 'Timeout', message);
  }
}

const byReason: Partial<Record<StatusReason, { prototype: StatusError; name: string }>> = {
  NotFound: NotFoundError,
  AlreadyExists: AlreadyExistsError,
  Conflict: ConflictError,
  Invalid: InvalidError,
  BadRequest: BadRequestError,
  Gone: GoneError,
  Expired: GoneError,
  MethodNotAllowed: MethodNotAllowedError,
  UnsupportedMediaType: UnsupportedMediaTypeError,
  RequestEntityTooLarge: RequestEntityTooLargeError,
  NotAcceptable: NotAcceptableError,
  InternalError: InternalError,
  ServiceUnavailable: ServiceUnavailableError,
  Timeout: TimeoutError,
};

export const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.reason === 'NotFound';
export const isConflict = (e: unknown): boolean => e instanceof StatusError && e.reason === 'Conflict';
export const isAlreadyExists = (e: unknown): boolean => e instanceof StatusError && e.reason === 'AlreadyExists';
export const isGone = (e: unknown): boolean => e instanceof StatusError && (e.code === 410);

export function successStatus(details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}
