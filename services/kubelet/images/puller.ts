/**
 * The kubelet's image manager (upstream's EnsureImageExists), for a node whose only
 * image sources are on this machine: containerd's own store (images built at set-up
 * and those `flotilla image import` brought) and the local registry that `flotilla up`
 * runs on 127.0.0.1 (`localhost:5000/NAME`). The puller asks the runtime to pull only
 * references whose registry host is one of those local ones, so no pull ever leaves the
 * machine.
 *
 * imagePullPolicy as upstream: `Never` uses the local store or fails with
 * ErrImageNeverPull; `IfNotPresent` pulls when the store lacks the image; `Always`
 * pulls every time a container starts. An image whose host is not the local registry
 * has no source but the store, so for it `Always` means "use the stored image". A
 * failed pull gives ErrImagePull, then ImagePullBackOff until upstream's back-off
 * (10 s doubling to 5 min, per pod and image) lets the next attempt through.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { EventType } from '../../../lib/client/mod.js';
import { LOCAL_REGISTRY_PORT } from '../containerd/config.js';
import { InvalidImageReferenceError, defaultPullPolicy, formatImageReference, parseImageReference } from './reference.js';


/** upstream's image pull back-off: 10 s, doubling to 5 min */
export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;
/** how long ErrImagePull shows before the container is synced again and shows ImagePullBackOff */
export const ERR_IMAGE_PULL_RESYNC_MS = 2_000;

/** The registry hosts of a local registry on 127.0.0.1:port, as image references name it. */
export function localRegistryHosts(port: number = LOCAL_REGISTRY_PORT): string[] {
  return [`localhost:${port}`, `127.0.0.1:${port}`];
}

/** The CRI ImageService calls the puller needs (CriClient has them). */
export interface ImageService {
  /** null when the runtime does not have the image */
  imageStatus(image: string): Promise<{ id: string; size?: string | number } | null>;
  pullImage(image: string): Promise<string>;
}

/** Where the puller's events go: the kubelet's PodEvents (events.ts). */
export interface PodEventSink {
  recordPod(pod: Pod, type: EventType, reason: string, message: string, container?: string): void;
}

export interface ImagePullerOptions {
  service: ImageService;
  /** registry hosts pulled from (default: localhost:5000 and 127.0.0.1:5000) */
  registries?: string[];
  events?: PodEventSink;
  /** the back-off (tests shorten it) */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  errImagePullResyncMs?: number;
  now?: () => number;
}

/** upstream's waiting reasons of a container whose image is not there */
export type ImageFailureReason = 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';

export type EnsureImageResult =
  | { ok: true; imageRef: string }
  | {
      ok: false;
      reason: ImageFailureReason;
      message: string;
      /** when to try again (absent: not until the pod changes) */
      retryInMs?: number;
    };

interface BackoffEntry {
  /** the current back-off */
  ms: number;
  lastUpdate: number;
  lastError: string;
}

/** Go's time.Duration text for a pull's duration: 1.234s, 512ms. */
function goSeconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}

export class ImagePuller {
  private readonly service: ImageService;
  readonly registries: ReadonlySet<string>;
  private readonly events?: PodEventSink;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resyncMs: number;
  private readonly now: () => number;
  /** key: pod uid + image, as upstream's */
  private readonly backoff = new Map<string, BackoffEntry>();

  constructor(opts: ImagePullerOptions) {
    this.service = opts.service;
    this.registries = new Set(opts.registries ?? localRegistryHosts());
    this.events = opts.events;
    this.initialMs = opts.backoffInitialMs ?? IMAGE_BACKOFF_INITIAL_MS;
    this.maxMs = opts.backoffMaxMs ?? IMAGE_BACKOFF_MAX_MS;
    this.resyncMs = opts.errImagePullResyncMs ?? ERR_IMAGE_PULL_RESYNC_MS;
    this.now = opts.now ?? Date.now;
  }

  /** How to provide an image this node cannot find, for the messages. */
  private howToProvide(domain: string): string {
    const registry = [...this.registries][0] ?? `localhost:${LOCAL_REGISTRY_PORT}`;
    return (
      `this node pulls only from its local registry (${[...this.registries].join(', ')}), never from ${domain}: ` +
      `import the image with "flotilla image import FILE" (an OCI or docker archive), or push it with ` +
      `"skopeo copy oci-archive:FILE docker://${registry}/NAME --dest-tls-verify=false" and use image ${registry}/NAME`
    );
  }

  private record(pod: Pod, container: string, type: EventType, reason: string, message: string): void {
    this.events?.recordPod(pod, type, reason, message, container);
  }

  /**
   * Makes sure the container's image is in the runtime: returns its image ref, or why
   * it is not there (the container's waiting reason and message) and when to try again.
   */
  async ensureImage(pod: Pod, container: Container): Promise<EnsureImageResult> {
    const image = container.image ?? '';
    const name = container.name;
    let normalized: string;
    let domain: string;
    let local: boolean;
    try {
      const ref = parseImageReference(image);
      normalized = formatImageReference(ref);
      domain = ref.domain;
      local = this.registries.has(domain);
    } catch (e) {
      if (!(e instanceof InvalidImageReferenceError)) throw e;
      const message = `Failed to apply default image tag "${image}": ${e.message}`;
      this.record(pod, name, 'Warning', 'InspectFailed', message);
      return { ok: false, reason: 'InvalidImageName', message };
    }
    const policy = container.imagePullPolicy ?? defaultPullPolicy(image);
    const present = await this.service.imageStatus(normalized);
    const pull = local && (policy === 'Always' || (policy === 'IfNotPresent' && !present));
    if (!pull && present) {
      this.record(pod, name, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true, imageRef: present.id };
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.record(pod, name, 'Warning', 'ErrImageNeverPull', message);
      this.record(pod, name, 'Warning', 'Failed', 'Error: ErrImageNeverPull');
      return { ok: false, reason: 'ErrImageNeverPull', message };
    }
    const key = `${pod.metadata?.uid ?? ''}/${image}`;
    const now = this.now();
    const entry = this.backoff.get(key);
    if (entry && now - entry.lastUpdate < entry.ms) {
      this.record(pod, name, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
      this.record(pod, name, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      return { ok: false, reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${entry.lastError}`, retryInMs: entry.ms - (now - entry.lastUpdate) };
    }
    this.record(pod, name, 'Normal', 'Pulling', `Pulling image "${image}"`);
    let error: string;
    if (local) {
      try {
        const imageRef = await this.service.pullImage(normalized);
        const took = goSeconds(this.now() - now);
        const size = (await this.service.imageStatus(normalized))?.size;
        this.record(pod, name, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting)${size !== undefined ? `. Image size: ${size} bytes.` : ''}`);
        this.backoff.delete(key);
        return { ok: true, imageRef };
      } catch (e) {
        error = `${(e as Error).message}; ${this.howToProvide(domain)}`;
      }
    } else {
      error = `image ${normalized} is not on this node; ${this.howToProvide(domain)}`;
    }
    this.gc(now);
    const ms = entry ? Math.min(entry.ms * 2, this.maxMs) : this.initialMs;
    this.backoff.set(key, { ms, lastUpdate: now, lastError: error });
    const message = `Failed to pull image "${image}": ${error}`;
    this.record(pod, name, 'Warning', 'Failed', message);
    this.record(pod, name, 'Warning', 'Failed', 'Error: ErrImagePull');
    return { ok: false, reason: 'ErrImagePull', message, retryInMs: Math.min(this.resyncMs, ms) };
  }

  /** Forgets back-offs that ended long ago (upstream's back-off GC), so the map stays bounded. */
  private gc(now: number): void {
    for (const [k, e] of this.backoff) if (now - e.lastUpdate > 2 * this.maxMs) this.backoff.delete(k);
  }
}

