/** A typed handle on one resource, as client-go's typed clients give. */
import type { Status } from '../api/errors.js';
import type { ApiClient, KubeObject, ObjectList } from './client.js';
import type { DeleteOptions, ListOptions, PatchType, ResourceRef, WriteOptions } from './protocol.js';
import type { GroupVersionResource } from './resources.js';
import type { Watch } from './watch.js';

export class ResourceClient<T extends KubeObject> {
  constructor(
    readonly client: ApiClient,
    readonly gvr: GroupVersionResource,
    readonly ns?: string,
  ) {}

  namespace(ns: string): ResourceClient<T> {
    return new ResourceClient<T>(this.client, this.gvr, ns);
  }

  ref(name?: string, subresource?: string): ResourceRef {
    return { ...this.gvr, namespace: this.ns, name, subresource };
  }

  get(name: string, opts?: Pick<ListOptions, 'resourceVersion'>): Promise<T> {
    return this.client.get<T>(this.ref(name), opts);
  }
  list(opts?: ListOptions): Promise<ObjectList<T>> {
    return this.client.list<T>(this.ref(), opts);
  }
  create(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.create<T>(this.ref(), obj, opts);
  }
  update(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.update<T>(this.ref(), obj, opts);
  }
  updateStatus(obj: T, opts?: WriteOptions): Promise<T> {
    return this.client.updateStatus<T>(this.ref(), obj, opts);
  }
  patch(name: string, patchType: PatchType, body: unknown, opts?: WriteOptions & { subresource?: string }): Promise<T> {
    return this.client.patch<T>(this.ref(name, opts?.subresource), patchType, body, opts);
  }
  delete(name: string, opts?: DeleteOptions): Promise<T | Status> {
    return this.client.delete<T>(this.ref(name), opts);
  }
  deleteCollection(list?: ListOptions, opts?: DeleteOptions): Promise<ObjectList<T> | Status> {
    return this.client.deleteCollection<T>(this.ref(), list, opts);
  }
  watch(opts?: ListOptions): Watch<T> {
    return this.client.watch<T>(this.ref(), opts);
  }
}
