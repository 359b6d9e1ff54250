/**
 * Mirror pods (upstream pkg/kubelet/pod/mirror_client.go): the apiserver's view of the
 * static pods this kubelet runs. Once the apiserver answers, each static pod gets a pod
 * object of the same namespace and name, with the annotation kubernetes.io/config.mirror
 * set to the static pod's hash and the Node as its controller owner; the kubelet writes
 * the static pod's status to it. A mirror pod deleted (by `kubectl delete`, which only
 * marks it: its node has to confirm) is deleted at once and created again: the static
 * pod keeps running. A mirror of an older version of the manifest is replaced, and one
 * whose static pod is gone is deleted.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type ApiClient, deletedObject, isAlreadyExists, isConflict, isNotFound, metaNamespaceKey, Resources } from '../../../lib/client/mod.js';
import type { NodeManager } from '../nodes.js';
import type { PodManager } from '../pods.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, isMirrorPod, type StaticPodSource } from './manifests.js';

/** how often every mirror pod is checked besides the watch's events */
const RESYNC_MS = 10_000;

export class MirrorPods {
  private timer?: NodeJS.Timeout;
  private scheduled?: NodeJS.Immediate;
  private readonly busy = new Set<string>();
  private readonly told = new Set<string>();
  private stopped = false;
  /** start() was called: the Node is registered and the pod informer synced */
  private started = false;
  private registration?: { remove(): void };

  constructor(
    private readonly client: ApiClient,
    private readonly pods: PodManager,
    private readonly nodes: NodeManager,
    private readonly nodeName: string,
    private readonly source: StaticPodSource,
    private readonly log: (line: string) => void,
  ) {}

  /** After the Node registered (its uid is the owner's) and the pod informer synced. */
  start(): void {
    this.started = true;
    const mine = (p: Pod) => isMirrorPod(p) && p.spec?.nodeName === this.nodeName;
    this.registration = this.pods.informer.addEventHandler({
      onAdd: (p) => mine(p) && this.syncSoon(),
      onUpdate: (_o, p) => mine(p) && this.syncSoon(),
      onDelete: (o) => mine(deletedObject(o)) && this.syncSoon(),
    });
    this.timer = setInterval(() => this.syncSoon(), RESYNC_MS);
    this.syncSoon();
  }

  /** The static pods changed (a manifest added, edited or removed). */
  syncSoon(): void {
    if (this.scheduled || this.stopped || !this.started) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.sync();
    });
  }

  private sync(): void {
    const store = this.pods.informer.store;
    for (const [key, pod] of this.source.pods) this.once(key, () => this.ensure(key, pod, store.getByKey(key)));
    for (const p of store.list()) {
      const key = metaNamespaceKey(p);
      if (isMirrorPod(p) && p.spec?.nodeName === this.nodeName && !this.source.pods.has(key)) this.once(key, () => this.remove(p, 'its static pod is gone'));
    }
  }

  /** One write per mirror pod at a time; the next sync looks again. */
  private once(key: string, fn: () => Promise<void>): void {
    if (this.busy.has(key)) return;
    this.busy.add(key);
    fn()
      .catch((e) => this.log(`mirror pod ${key}: ${(e as Error).message}`))
      .finally(() => this.busy.delete(key));
  }

  private async ensure(key: string, pod: Pod, mirror: Pod | undefined): Promise<void> {
    const hash = pod.metadata!.annotations![CONFIG_HASH_ANNOTATION]!;
    if (mirror && !isMirrorPod(mirror)) {
      if (!this.told.has(key)) this.log(`static pod ${key}: a pod that is not its mirror has its name; no mirror pod is made`);
      this.told.add(key);
      return;
    }
    if (mirror?.metadata?.deletionTimestamp) return this.remove(mirror, 'it was deleted');
    if (mirror && mirror.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== hash) return this.remove(mirror, 'its manifest changed');
    if (mirror) return;
    const node = this.nodes.get(this.nodeName);
    const m = pod.metadata!;
    const body: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: m.name,
        namespace: m.namespace,
        labels: m.labels,
        annotations: { ...m.annotations, [CONFIG_MIRROR_ANNOTATION]: hash },
        ownerReferences: node?.uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: node.uid, controller: true }] : undefined,
      },
      spec: pod.spec,
    };
    try {
      await this.client.create({ ...Resources.pods, namespace: m.namespace }, body);
    } catch (e) {
      if (isAlreadyExists(e)) return;
      throw e;
    }
    this.pods.staticPodStatusChanged(key);
  }

  private async remove(mirror: Pod, why: string): Promise<void> {
    const m = mirror.metadata!;
    try {
      await this.client.delete({ ...Resources.pods, namespace: m.namespace, name: m.name }, { gracePeriodSeconds: 0, preconditions: { uid: m.uid } });
      this.log(`deleted mirror pod ${m.namespace}/${m.name}: ${why}`);
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.scheduled) clearImmediate(this.scheduled);
    this.registration?.remove();
  }
}
