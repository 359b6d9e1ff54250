/**
 * Image references as Docker and upstream's kubelet read them (the distribution
 * project's reference grammar and its "normalized named" rules): a short name gets the
 * docker.io domain and, for one path component, the `library/` prefix; a reference
 * naming neither a tag nor a digest gets `:latest`. `busybox` is therefore
 * `docker.io/library/busybox:latest`, `localhost:5000/app` is
 * `localhost:5000/app:latest`, and `app@sha256:…` keeps its digest and gets no tag.
 */

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const MAX_NAME_LENGTH = 255;

// the grammar's pieces (distribution/reference regexp.go, written again here)
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const ANCHORED_ID = /^[a-f0-9]{64}$/;

/** A reference that is no image name: upstream's kubelet reports it as InvalidImageName. */
export class InvalidImageReferenceError extends Error {
  constructor(
    readonly reference: string,
    readonly why: string,
  ) {
    super(`couldn't parse image name "${reference}": ${why}`);
    this.name = 'InvalidImageReferenceError';
  }
}

export interface ImageReference {
  /** the registry host, with its port: docker.io, localhost:5000, registry.k8s.io */
  domain: string;
  /** the repository inside it: library/busybox, app, pause */
  path: string;
  tag?: string;
  /** algorithm:hex */
  digest?: string;
}

function validDomain(domain: string): boolean {
  let host = domain;
  const colon = domain.lastIndexOf(':');
  if (colon >= 0 && !domain.endsWith(']')) {
    if (!PORT.test(domain.slice(colon + 1))) return false;
    host = domain.slice(0, colon);
  }
  if (IPV6_HOST.test(host)) return true;
  return host.split('.').every((c) => DOMAIN_COMPONENT.test(c));
}

/**
 * Parses a reference and fills in what Docker fills in (domain, `library/`, `latest`
 * when there is neither tag nor digest). Throws InvalidImageReferenceError.
 */
export function parseImageReference(reference: string): ImageReference {
  if (reference === '') throw new InvalidImageReferenceError(reference, 'repository name must have at least one component');
  if (ANCHORED_ID.test(reference)) throw new InvalidImageReferenceError(reference, 'invalid repository name (64 hexadecimal characters): give it a name, not an image ID');
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidImageReferenceError(reference, 'invalid digest format');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidImageReferenceError(reference, 'invalid tag format');
  }
  // the first component is a registry host when it looks like one (a dot, a port, localhost, or capitals)
  let domain = DEFAULT_DOMAIN;
  let repo = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      repo = rest.slice(slash + 1);
    }
  }
  if (!validDomain(domain)) throw new InvalidImageReferenceError(reference, `invalid registry host "${domain}"`);
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (repo.toLowerCase() !== repo) throw new InvalidImageReferenceError(reference, 'repository name must be lowercase');
  if (domain === DEFAULT_DOMAIN && !repo.includes('/')) repo = OFFICIAL_REPO_PREFIX + repo;
  if (!repo.split('/').every((c) => PATH_COMPONENT.test(c))) throw new InvalidImageReferenceError(reference, 'invalid reference format');
  if (domain.length + 1 + repo.length > MAX_NAME_LENGTH) throw new InvalidImageReferenceError(reference, `repository name must not be more than ${MAX_NAME_LENGTH} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  const ref: ImageReference = { domain, path: repo };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** domain/path: the repository's full name */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The reference written out in full: docker.io/library/busybox:latest, host/app@sha256:… */
export function formatImageReference(ref: ImageReference): string {
  return repositoryName(ref) + (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

/** `busybox` → `docker.io/library/busybox:latest`. Throws InvalidImageReferenceError. */
export function normalizeImageReference(reference: string): string {
  return formatImageReference(parseImageReference(reference));
}

/**
 * As `normalizeImageReference`, for what reports an image rather than pulls it (a pod's
 * status, the hollow runtime): a reference that does not parse stays as written, since
 * the puller already answered it with InvalidImageName.
 */
export function normalizeImage(reference: string): string {
  let name = normalized.get(reference);
  if (name !== undefined) return name;
  try {
    name = normalizeImageReference(reference);
  } catch (e) {
    if (!(e instanceof InvalidImageReferenceError)) throw e;
    name = reference;
  }
  // a node runs few distinct images; hollow nodes ask once per pod, at 1M pods a run
  if (normalized.size >= 1024) normalized.clear();
  normalized.set(reference, name);
  return name;
}
const normalized = new Map<string, string>();

/** The short form Docker prints: docker.io and library/ dropped (`busybox:latest`). */
export function familiarName(ref: ImageReference): string {
  let name = repositoryName(ref);
  if (ref.domain === DEFAULT_DOMAIN) name = ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
  return name;
}

/** Upstream's default imagePullPolicy: Always for `latest` or no tag (without a digest), else IfNotPresent. */
export function defaultPullPolicy(reference: string): 'Always' | 'IfNotPresent' {
  try {
    return parseImageReference(reference).tag === 'latest' ? 'Always' : 'IfNotPresent';
  } catch {
    return 'IfNotPresent';
  }
}
