/**
 * ConfigMaps and Secrets for the kubelet, as upstream's watch-based managers
 * (pkg/kubelet/util/manager/watch_based_manager.go): the kubelet reads only the objects
 * its pods reference, each through its own informer (namespace + fieldSelector
 * `metadata.name=<name>`), opened when the first pod referencing it arrives and stopped
 * when the last one goes. Never a cluster-wide list of every Secret. Listeners hear of
 * every change, which is how configMap and secret volumes follow updates.
 */
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { NotFoundError } from '../../lib/api/errors.js';
import { type ApiClient, type KubeObject, SharedInformer } from '../../lib/client/mod.js';
import { CONFIGMAPS, SECRETS, type GroupVersionResource } from '../../lib/client/resources.js';

/** how long a get waits for the object's first list (upstream: "failed to sync ... cache") */
const SYNC_TIMEOUT_MS = 10_000;

interface Entry<T extends KubeObject> {
  informer: SharedInformer<T>;
  /** uids of the pods that reference the object */
  refs: Set<string>;
}

export class ObjectWatchManager<T extends KubeObject> {
  private readonly entries = new Map<string, Entry<T>>();
  /** pod uid → the keys it references */
  private readonly pods = new Map<string, Set<string>>();
  private readonly listeners = new Set<(namespace: string, name: string) => void>();

  /** kind: the singular upstream names in errors (`configmap "x" not found`) */
  constructor(
    private readonly client: ApiClient,
    private readonly gvr: GroupVersionResource,
    readonly kind: string,
    private readonly namesOf: (pod: Pod) => Set<string>,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Starts watching what the pod references now (and stops what it no longer does). */
  registerPod(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const ns = pod.metadata?.namespace ?? '';
    const keys = new Set([...this.namesOf(pod)].map((n) => `${ns}/${n}`));
    const prev = this.pods.get(uid) ?? new Set();
    for (const key of keys) if (!prev.has(key)) this.ref(key, uid);
    for (const key of prev) if (!keys.has(key)) this.unref(key, uid);
    if (keys.size) this.pods.set(uid, keys);
    else this.pods.delete(uid);
  }

  unregisterPod(uid: string): void {
    for (const key of this.pods.get(uid) ?? []) this.unref(key, uid);
    this.pods.delete(uid);
  }

  private ref(key: string, uid: string): void {
    let e = this.entries.get(key);
    if (!e) {
      const [namespace, name] = key.split('/') as [string, string];
      const informer = new SharedInformer<T>(this.client, this.gvr, {
        namespace,
        fieldSelector: `metadata.name=${name}`,
        onError: (err) => this.log(`watch of ${this.kind} ${key}: ${(err as Error).message}`),
      });
      const changed = () => {
        for (const l of this.listeners) l(namespace, name);
      };
      informer.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
      informer.start();
      this.entries.set(key, (e = { informer, refs: new Set() }));
    }
    e.refs.add(uid);
  }

  private unref(key: string, uid: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.refs.delete(uid);
    if (e.refs.size) return;
    this.entries.delete(key);
    void e.informer.stop();
  }

  /** The object as last seen; NotFoundError (`<kind> "<name>" not found`) when it does not exist. */
  async get(namespace: string, name: string): Promise<T> {
    const e = this.entries.get(`${namespace}/${name}`);
    if (!e) throw new Error(`${this.kind} "${namespace}"/"${name}" not registered`);
    if (!e.informer.hasSynced()) {
      const signal = AbortSignal.timeout(SYNC_TIMEOUT_MS);
      await e.informer.waitForSync(signal).catch(() => {
        throw new Error(`failed to sync ${this.kind} cache: timed out waiting for the condition`);
      });
    }
    const obj = e.informer.store.getByKey(`${namespace}/${name}`);
    if (!obj) throw new NotFoundError({ group: '', resource: this.kind }, name);
    return obj;
  }

  /** Hears of every add, update and delete of a watched object; returns the unsubscribe. */
  onChange(listener: (namespace: string, name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** How many objects are watched (tests). */
  get watched(): number {
    return this.entries.size;
  }

  async stop(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.pods.clear();
    await Promise.all(all.map((e) => e.informer.stop()));
  }
}

function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

/** The ConfigMaps a pod references: env, envFrom, configMap and projected volumes (upstream VisitPodConfigmapNames). */
export function podConfigMapNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const c of allContainers(pod)) {
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef?.name) out.add(e.valueFrom.configMapKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) out.add(e.configMapRef.name);
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) out.add(v.configMap.name);
    for (const s of v.projected?.sources ?? []) if (s.configMap?.name) out.add(s.configMap.name);
  }
  return out;
}

/** The Secrets a pod references: env, envFrom, secret and projected volumes (upstream VisitPodSecretNames). */
export function podSecretNames(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const c of allContainers(pod)) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) out.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) out.add(e.secretRef.name);
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.secret?.secretName) out.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) if (s.secret?.name) out.add(s.secret.name);
  }
  return out;
}

export const configMapManager = (client: ApiClient, log?: (l: string) => void) => new ObjectWatchManager<ConfigMap>(client, CONFIGMAPS, 'configmap', podConfigMapNames, log);
export const secretManager = (client: ApiClient, log?: (l: string) => void) => new ObjectWatchManager<Secret>(client, SECRETS, 'secret', podSecretNames, log);
