/**
 * The same pod operations over the two ways into the apiserver, so every API phase is
 * written once and run over both: NATS (the project's client library) and HTTP (the
 * REST API, as kubectl and client-go use it).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient, type ObjectList, Resources, type WatchEvent } from '../lib/client/mod.js';
import type { HttpJsonClient } from './httpclient.js';

export interface WatchHandle {
  stop(): void;
}

export interface ApiDriver {
  readonly transport: 'nats' | 'http';
  /** requests in flight in the pipelined phases */
  readonly concurrency: number;
  createNamespace(name: string): Promise<void>;
  createPod(pod: Pod): Promise<Pod>;
  getPod(namespace: string, name: string): Promise<Pod>;
  updatePod(pod: Pod): Promise<Pod>;
  /** one list request; limit 0 = unpaged */
  listPods(namespace: string, limit: number, cont?: string): Promise<ObjectList<Pod>>;
  /** events from after resourceVersion; a refused or broken watch goes to onError */
  watchPods(namespace: string, resourceVersion: string, onEvent: (ev: WatchEvent<Pod>) => void, onError: (e: Error) => void): Promise<WatchHandle>;
}

export class NatsDriver implements ApiDriver {
  readonly transport = 'nats';
  constructor(
    readonly client: ApiClient,
    readonly concurrency: number,
  ) {}

  async createNamespace(name: string): Promise<void> {
    await this.client.create(Resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  createPod(pod: Pod): Promise<Pod> {
    return this.client.create<Pod>({ ...Resources.pods, namespace: pod.metadata!.namespace }, pod);
  }
  getPod(namespace: string, name: string): Promise<Pod> {
    return this.client.get<Pod>({ ...Resources.pods, namespace, name });
  }
  updatePod(pod: Pod): Promise<Pod> {
    return this.client.update<Pod>({ ...Resources.pods, namespace: pod.metadata!.namespace, name: pod.metadata!.name }, pod);
  }
  listPods(namespace: string, limit: number, cont?: string): Promise<ObjectList<Pod>> {
    return this.client.list<Pod>({ ...Resources.pods, namespace }, { limit: limit || undefined, continue: cont });
  }
  async watchPods(namespace: string, resourceVersion: string, onEvent: (ev: WatchEvent<Pod>) => void, onError: (e: Error) => void): Promise<WatchHandle> {
    const w = this.client.watch<Pod>({ ...Resources.pods, namespace }, { resourceVersion });
    await w.ready;
    void (async () => {
      for await (const ev of w) onEvent(ev);
    })().catch(onError);
    return { stop: () => w.stop() };
  }
}

export class HttpDriver implements ApiDriver {
  readonly transport = 'http';
  constructor(
    readonly http: HttpJsonClient,
    readonly concurrency: number,
  ) {}

  async createNamespace(name: string): Promise<void> {
    await this.http.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  createPod(pod: Pod): Promise<Pod> {
    return this.http.request<Pod>('POST', `/api/v1/namespaces/${pod.metadata!.namespace}/pods`, pod);
  }
  getPod(namespace: string, name: string): Promise<Pod> {
    return this.http.request<Pod>('GET', `/api/v1/namespaces/${namespace}/pods/${name}`);
  }
  updatePod(pod: Pod): Promise<Pod> {
    return this.http.request<Pod>('PUT', `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}`, pod);
  }
  listPods(namespace: string, limit: number, cont?: string): Promise<ObjectList<Pod>> {
    const q = new URLSearchParams();
    if (limit) q.set('limit', String(limit));
    if (cont) q.set('continue', cont);
    const qs = q.toString();
    return this.http.request<ObjectList<Pod>>('GET', `/api/v1/namespaces/${namespace}/pods${qs ? `?${qs}` : ''}`);
  }
  async watchPods(namespace: string, resourceVersion: string, onEvent: (ev: WatchEvent<Pod>) => void, onError: (e: Error) => void): Promise<WatchHandle> {
    const q = new URLSearchParams({ watch: '1', resourceVersion, allowWatchBookmarks: 'true' });
    return this.http.watch(`/api/v1/namespaces/${namespace}/pods?${q}`, onEvent as (ev: { type: string; object: any }) => void, onError);
  }
}
