/**
 * The pod lifecycle of every node in the process (hollow ones, or the one real node),
 * after upstream's kubelet (pod workers, the status manager, getPhase, the container
 * back-off). One shared pod informer serves all nodes: it watches bound pods
 * (fieldSelector `spec.nodeName!=`, or `spec.nodeName=<name>` for a process with one
 * node, as upstream's kubelet) and keeps those whose node this process carries. With a
 * runtime whose pods outlive the process (CRI), a restarted kubelet adopts the sandboxes
 * and containers it finds by pod uid and removes those whose pod is gone. Container exits come as runtime
 * events (the evented PLEG). Status writes are coalesced: a change marks the pod dirty,
 * and one flush per tick sends a merge patch on pods/status for each dirty pod, many at
 * a time, so thousands of pods start together without a write per step.
 */
import type { Tracer } from '@opentelemetry/api';
import { PodStartTrace, runtimeCall } from './podtrace.js';
import type { Container, ContainerStateTerminated, ContainerStatus as PodContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { type ApiClient, chunks, deletedObject, forEachLimited, metaNamespaceKey, Resources, SharedInformer } from '../../lib/client/mod.js';
import { isConflict, isNotFound } from '../../lib/api/errors.js';
import { normalizeImage } from './images/reference.js';
import type { NodeManager } from './nodes.js';
import type { ContainerEvent, ContainerRuntime, ContainerStatus as RuntimeContainerStatus, PodSandboxStatus } from './runtime.js';
import { ContainerConfigError, containerConfig } from './containerconfig.js';
import type { PodSetup } from './podsetup.js';
import { isMirrorPod } from './staticpods/manifests.js';
import { PodStartQueue } from './podstarts.js';
import { PodStartupLatencyTracker, type StartPhase } from './podstartlatency.js';
import { metaTime } from '../../lib/api/time.js';
import { type BackOffOptions, ContainerBackOff, crashLoopMessage } from './backoff.js';
import { type PodEvents, Reasons } from './events.js';
import { ProbeManager, probeTypeName } from './prober/manager.js';
import { runLifecycleHandler } from './hooks.js';
import { killContainer, podGraceSeconds } from './termination.js';
import type { ImagePuller } from './images/puller.js';

/** how soon a container whose config could not be made (CreateContainerConfigError) is tried again */
export const CONFIG_RETRY_MS = 2000;

/** pods a real node starts at once (podstarts.ts) */
export const DEFAULT_PARALLEL_POD_STARTS = 4;

export interface PodManagerOptions {
  /** how long after a pod is seen its containers start (default 0) */
  startDelayMs?: number;
  /** how often dirty statuses are written (default 50 ms) */
  flushMs?: number;
  /** requests in flight at once (default 128) */
  concurrency?: number;
  /** pods started at once (podstarts.ts; default 4 for a runtime that runs real pods, else no limit) */
  parallelPodStarts?: number;
  /** the crash-loop back-off (tests shorten it) */
  backOff?: BackOffOptions;
  /** where container events go (none when absent: hollow nodes at scale) */
  events?: PodEvents;
  log?: (line: string) => void;
  /** a real node's per-pod preparation: env sources, volumes, security (podsetup.ts) */
  setup?: PodSetup;
  /** makes sure each container's image is there before it is created (real nodes; hollow ones need none) */
  images?: ImagePuller;
  /** traces the first sync of pods whose create was sampled (absent: none) */
  tracer?: Tracer;
  /** the kubelet's pod metrics (kubelet_pod_start_duration_seconds, kubelet_pod_worker_duration_seconds) */
  metrics?: PodLifecycleObserver;
}

/** What the pod lifecycle reports to the kubelet's metrics. */
export interface PodLifecycleObserver {
  /** from the kubelet first seeing the pod to all its app containers started */
  podStarted(seconds: number): void;
  /** one pod worker pass (upstream operation_type: create, update, sync, kill) */
  podWorker(operation: 'create' | 'kill', seconds: number): void;
}

interface ContainerRecord {
  name: string;
  /** one of spec.initContainers: runs to completion, in order, before the app containers */
  init?: boolean;
  image: string;
  /** the current container in the runtime */
  id?: string;
  restartCount: number;
  /** the readiness probe's verdict; undefined without one (ready while running) */
  ready?: boolean;
  /** the startup probe's verdict; undefined without one (started while running) */
  started?: boolean;
  /** waiting in CrashLoopBackOff: the message */
  backoffMessage?: string;
  restartTimer?: NodeJS.Timeout;
  lastTerminated?: ContainerStateTerminated;
  /** exited for good (restartPolicy said no restart) */
  final?: ContainerStateTerminated;
  /** why it cannot be created (a bad config) */
  error?: { reason: string; message: string };
}

interface PodRecord {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  nodeName: string;
  restartPolicy: string;
  pod: Pod;
  hostIP: string;
  ip?: string;
  sandboxId?: string;
  startTime: string;
  containers: ContainerRecord[];
  initContainers: ContainerRecord[];
  /** every init container exited 0 (or there are none) */
  initialized: boolean;
  startTimer?: NodeJS.Timeout;
  /** condition type → [status, lastTransitionTime] */
  conditions: Map<string, [string, string]>;
  terminating: boolean;
  terminal: boolean;
  removed: boolean;
  /** a static pod (staticpods/): run from a manifest, its status written to its mirror pod */
  static?: boolean;
  /** its containers being stopped (terminate) */
  stopping?: Promise<void>;
  /** the first sync's trace, while it runs (only pods whose create was sampled) */
  trace?: PodStartTrace;
  /** when this kubelet admitted it (ms), until its start is observed */
  admittedAt?: number;
}

/** A pod with a sandbox, as the stats see it (activePods). */
export interface ActivePod {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  pod: Pod;
  sandboxId: string;
  /** the app containers that have a runtime container now */
  containers: Array<{ name: string; id: string }>;
}

/** The pod phase from its container statuses and restart policy (upstream getPhase). */
export function podPhase(statuses: PodContainerStatus[], restartPolicy: string, initStatuses: PodContainerStatus[] = []): PodStatus['phase'] {
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of initStatuses) {
    if (s.state?.terminated?.exitCode === 0) continue;
    if (s.state?.terminated || (s.state?.waiting && s.lastState?.terminated)) failedInit++;
    else pendingInit++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'OnFailure') return 'Running';
    return 'Failed';
  }
  return 'Pending';
}

/** pod statuses written per batch.patch request */
const STATUS_BATCH = 250;

export class PodManager {
  readonly informer: SharedInformer<Pod>;
  private readonly pods = new Map<string, PodRecord>();
  private readonly byContainer = new Map<string, [PodRecord, ContainerRecord]>();
  private readonly dirty = new Set<PodRecord>();
  private readonly deletes = new Set<PodRecord>();
  private flushTimer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly unsubscribe: () => void;
  private readonly startDelayMs: number;
  private readonly flushMs: number;
  private readonly concurrency: number;
  private readonly starts?: PodStartQueue;
  /** real nodes only: one line per pod start is too much for thousands of hollow pods */
  private readonly startup?: PodStartupLatencyTracker;
  private readonly log: (line: string) => void;
  private readonly backOff: ContainerBackOff;
  private readonly events?: PodEvents;
  private readonly setup?: PodSetup;
  /** probes run where containers run (not on hollow nodes) */
  private readonly prober?: ProbeManager;
  private readonly images?: ImagePuller;
  private readonly tracer?: Tracer;
  private readonly metrics?: PodLifecycleObserver;
  private stopped = false;
  private apiSynced = false;
  /** status writes sent (each carries every change of one pod since the last) */
  statusWrites = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly runtime: ContainerRuntime,
    private readonly nodes: NodeManager,
    opts: PodManagerOptions = {},
  ) {
    this.startDelayMs = opts.startDelayMs ?? 0;
    this.flushMs = opts.flushMs ?? 50;
    this.concurrency = opts.concurrency ?? 128;
    const parallel = opts.parallelPodStarts ?? (runtime.ownsPodNetwork ? DEFAULT_PARALLEL_POD_STARTS : undefined);
    this.starts = parallel ? new PodStartQueue(parallel) : undefined;
    this.log = opts.log ?? ((l) => process.stderr.write(`kubelet: ${l}\n`));
    if (runtime.ownsPodNetwork) this.startup = new PodStartupLatencyTracker(this.log);
    this.backOff = new ContainerBackOff(opts.backOff);
    this.events = opts.events;
    this.setup = opts.setup;
    if (runtime.execSync) this.prober = new ProbeManager(this.probeListener(), runtime.execSync.bind(runtime));
    this.images = opts.images;
    this.tracer = opts.tracer;
    this.metrics = opts.metrics;
    // unbound pods are the scheduler's business: only bound ones come to this process
    const only = nodes.nodes.size === 1 ? [...nodes.nodes.keys()][0] : undefined;
    this.informer = new SharedInformer<Pod>(client, Resources.pods, { fieldSelector: only ? `spec.nodeName=${only}` : 'spec.nodeName!=' });
    this.informer.addEventHandler({
      onAdd: (p) => this.onPod(p),
      onUpdate: (_old, p) => this.onPod(p),
      onDelete: (o) => this.onPodGone(deletedObject(o)),
    });
    this.unsubscribe = runtime.getContainerEvents((ev) => this.onContainerEvent(ev));
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    this.apiSynced = true;
    await this.removeOrphanSandboxes();
    for (const rec of this.pods.values()) if (rec.static) this.markDirty(rec);
  }

  /**
   * Runs a static pod (uid = its manifest's hash) without the apiserver; a pod of the
   * same key with another uid (an edited manifest) is stopped first.
   */
  async runStaticPod(pod: Pod): Promise<void> {
    const key = metaNamespaceKey(pod);
    const old = this.pods.get(key);
    if (old?.uid === pod.metadata?.uid) return;
    if (old) await this.stopStaticPod(key);
    if (this.stopped) return;
    const rec = this.record(pod);
    rec.static = true;
    this.admit(rec);
  }

  /** Stops a static pod whose manifest is gone (or replaced). */
  async stopStaticPod(key: string): Promise<void> {
    const rec = this.pods.get(key);
    if (!rec?.static) return;
    this.terminate(rec);
    await rec.stopping;
  }

  /** Its mirror pod was (re)created: write the static pod's status to it. */
  staticPodStatusChanged(key: string): void {
    const rec = this.pods.get(key);
    if (rec?.static) this.markDirty(rec);
  }

  /**
   * After a restart: sandboxes the runtime still has whose pod is gone (deleted while
   * this kubelet was away) are stopped and removed. Those of live pods were adopted by
   * the informer's first adds (startPod), which run before this.
   */
  private async removeOrphanSandboxes(): Promise<void> {
    if (!this.runtime.listPodSandboxes) return;
    const live = new Set(
      this.informer.store
        .list()
        .filter((p) => this.nodes.has(p.spec?.nodeName))
        .map((p) => p.metadata?.uid),
    );
    for (const rec of this.pods.values()) if (rec.static) live.add(rec.uid);
    for (const sb of this.runtime.listPodSandboxes()) {
      if (live.has(sb.metadata.uid)) continue;
      this.log(`removing sandbox ${sb.id} of pod ${sb.metadata.namespace}/${sb.metadata.name} (uid ${sb.metadata.uid}): the pod is gone`);
      try {
        await this.runtime.stopPodSandbox(sb.id);
        await this.runtime.removePodSandbox(sb.id);
      } catch (e) {
        this.log(`removing sandbox ${sb.id}: ${(e as Error).message}`);
      }
    }
    this.setup?.removeOrphans(live);
  }

  /** How many pods this process looks after. */
  get size(): number {
    return this.pods.size;
  }

  /** The pod's status as this kubelet sees it now, with its uid (the log server reads its containers' states). */
  podStatus(namespace: string, name: string): { uid: string; pod: Pod; status: PodStatus } | undefined {
    const rec = this.pods.get(`${namespace}/${name}`);
    if (!rec || rec.removed) return undefined;
    return { uid: rec.uid, pod: rec.pod, status: this.buildStatus(rec) };
  }

  /** The pods with a sandbox, and their containers' current runtime ids: what the kubelet's stats read (stats/). */
  *activePods(): Generator<ActivePod> {
    for (const rec of this.pods.values()) {
      if (rec.removed || !rec.sandboxId) continue;
      const containers: ActivePod['containers'] = [];
      for (const c of rec.containers) if (c.id) containers.push({ name: c.name, id: c.id });
      yield { namespace: rec.namespace, name: rec.name, uid: rec.uid, nodeName: rec.nodeName, pod: rec.pod, sandboxId: rec.sandboxId, containers };
    }
  }

  private onPod(pod: Pod): void {
    // mirror pods stand for static pods, which run from their manifests (staticpods/)
    if (this.stopped || !this.nodes.has(pod.spec?.nodeName) || isMirrorPod(pod)) return;
    const key = metaNamespaceKey(pod);
    let rec = this.pods.get(key);
    if (rec?.static) return;
    if (rec && rec.uid !== pod.metadata?.uid) {
      // deleted and created again under the same name while the watch was away
      this.cleanup(rec);
      rec = undefined;
    }
    if (pod.metadata?.deletionTimestamp) {
      if (!rec) rec = this.record(pod);
      // the deleted object carries the grace period the delete asked for
      if (!rec.terminating) rec.pod = pod;
      this.terminate(rec);
      return;
    }
    if (rec) {
      rec.pod = pod;
      this.setup?.admit(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    this.admit(this.record(pod));
  }

  private onPodGone(pod: Pod): void {
    const rec = this.pods.get(metaNamespaceKey(pod));
    if (rec && !rec.static && rec.uid === pod.metadata?.uid) this.cleanup(rec);
  }

  private record(pod: Pod): PodRecord {
    const node = this.nodes.get(pod.spec!.nodeName!)!;
    const prior = new Map([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => [s.name, s]));
    const conditions = new Map<string, [string, string]>();
    for (const c of pod.status?.conditions ?? []) if (c.lastTransitionTime) conditions.set(c.type, [c.status, c.lastTransitionTime]);
    const rec: PodRecord = {
      key: metaNamespaceKey(pod),
      uid: pod.metadata?.uid ?? '',
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      nodeName: node.name,
      restartPolicy: pod.spec?.restartPolicy ?? 'Always',
      pod,
      hostIP: node.internalIP,
      startTime: pod.status?.startTime ?? metaTime(),
      // restart counts survive a restart of this process, as they survive upstream's
      containers: (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', restartCount: prior.get(c.name)?.restartCount ?? 0 })),
      // an init container that completed before a restart of this process stays completed;
      // hollow containers run nothing, so hollow pods skip their init containers as before
      initContainers: (this.runtime.ownsPodNetwork ? (pod.spec?.initContainers ?? []) : []).map((c) => {
        const done = prior.get(c.name)?.state?.terminated;
        return { name: c.name, init: true, image: c.image ?? '', restartCount: prior.get(c.name)?.restartCount ?? 0, final: done?.exitCode === 0 ? done : undefined };
      }),
      initialized: false,
      conditions,
      terminating: false,
      terminal: false,
      removed: false,
    };
    rec.initialized = rec.initContainers.every((c) => c.final);
    this.pods.set(rec.key, rec);
    this.setup?.admit(pod);
    return rec;
  }

  /** Init containers first (then app containers), app containers after. */
  private allContainers(rec: PodRecord): ContainerRecord[] {
    return [...rec.initContainers, ...rec.containers];
  }

  /**
   * Starts what comes next: the first init container that has not completed, or, once
   * every init container exited 0, the app containers (upstream computePodActions).
   */
  private async startNext(rec: PodRecord): Promise<void> {
    if (!rec.initialized) {
      const next = rec.initContainers.find((c) => !c.final);
      if (next) {
        await this.startContainer(rec, next);
        this.markDirty(rec);
        return;
      }
      rec.initialized = true;
    }
    for (const c of rec.containers) await this.startContainer(rec, c);
    if (rec.admittedAt !== undefined && rec.containers.every((c) => c.id)) {
      this.metrics?.podStarted((Date.now() - rec.admittedAt) / 1000);
      rec.admittedAt = undefined;
    }
    this.markDirty(rec);
  }

  /** Accepted on its node: Pending with ContainerCreating at once; containers after the start delay. */
  private admit(rec: PodRecord): void {
    this.startup?.admitted(rec.uid);
    if (this.tracer) rec.trace = PodStartTrace.begin(this.tracer, rec.pod, rec.nodeName);
    this.markDirty(rec);
    rec.admittedAt = Date.now();
    const timed = async () => {
      const t0 = performance.now();
      await this.startPod(rec);
      this.metrics?.podWorker('create', (performance.now() - t0) / 1000);
    };
    const start = () => (this.starts ? void this.starts.run(timed) : void timed());
    if (this.startDelayMs > 0) rec.startTimer = setTimeout(start, this.startDelayMs);
    else start();
  }

  private async startPod(rec: PodRecord): Promise<void> {
    rec.startTimer = undefined;
    if (rec.terminating || rec.removed) return;
    this.startup?.mark(rec.uid, 'queuedMs');
    const node = this.nodes.get(rec.nodeName)!;
    if (this.setup) {
      // volumes first (upstream's WaitForAttachAndMount): until they are set up the pod stays ContainerCreating
      try {
        await this.timed(rec, 'volumesMs', () => this.setup!.prepare(rec.pod));
      } catch (e) {
        this.log(`pod ${rec.key}: ${(e as Error).message}`);
        if (!rec.terminating && !rec.removed) rec.startTimer = setTimeout(() => void this.startPod(rec), CONFIG_RETRY_MS);
        this.markDirty(rec);
        return;
      }
      if (rec.terminating || rec.removed) return void (await this.setup.release(rec.pod));
    }
    const adopted = this.adoptableSandbox(rec);
    if (adopted) {
      this.endTrace(rec);
      return this.adopt(rec, adopted);
    }
    try {
      const meta = rec.pod.metadata ?? {};
      const base = { metadata: { name: rec.name, namespace: rec.namespace, uid: rec.uid, attempt: 0 }, hostname: rec.name, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} };
      const config = this.setup?.sandboxConfig(rec.pod, base) ?? base;
      if (this.runtime.ownsPodNetwork) {
        // the runtime's CNI network gives the address (a host-network pod has the node's)
        rec.sandboxId = await this.timed(rec, 'sandboxMs', () => runtimeCall(rec.trace, 'RunPodSandbox', () => this.runtime.runPodSandbox(config)));
        rec.ip = this.runtime.podSandboxStatus(rec.sandboxId)?.network?.ip || (rec.pod.spec?.hostNetwork ? rec.hostIP : undefined);
      } else {
        const prev = rec.pod.status?.podIP;
        rec.ip = prev && node.ipam.reserve(rec.key, prev) ? prev : node.ipam.allocate(rec.key);
        rec.sandboxId = await runtimeCall(rec.trace, 'RunPodSandbox', () => this.runtime.runPodSandbox(config, rec.ip));
      }
    } catch (e) {
      // upstream: the sandbox fails to come up and the containers stay waiting with the reason
      for (const c of this.allContainers(rec)) c.error = { reason: 'CreateContainerConfigError', message: (e as Error).message };
      this.log(`pod ${rec.key} on ${rec.nodeName}: cannot start: ${(e as Error).message}`);
      this.endTrace(rec, (e as Error).message);
      this.markDirty(rec);
      return;
    }
    await this.startNext(rec);
    this.endTrace(rec);
  }

  /** The first sync is over (its containers started, or the pod could not start). */
  private endTrace(rec: PodRecord, error?: string): void {
    rec.trace?.end(error);
    rec.trace = undefined;
  }

  /** The pod's ready sandbox that the runtime kept across a restart of this process, if any. */
  private adoptableSandbox(rec: PodRecord): PodSandboxStatus | undefined {
    return this.runtime
      .listPodSandboxes?.()
      .filter((sb) => sb.metadata.uid === rec.uid && sb.state === 'SANDBOX_READY')
      .sort((a, b) => b.createdAt - a.createdAt)[0];
  }

  /**
   * A restarted kubelet takes over the sandbox and containers it finds for the pod
   * instead of starting them again: running ones are simply watched again; one that
   * exited meanwhile goes through the restart policy as if its exit had just been seen.
   */
  private async adopt(rec: PodRecord, sb: PodSandboxStatus): Promise<void> {
    rec.sandboxId = sb.id;
    rec.ip = sb.network?.ip || (rec.pod.spec?.hostNetwork ? rec.hostIP : undefined);
    const found = this.runtime.listContainers?.(sb.id) ?? [];
    const exited: RuntimeContainerStatus[] = [];
    // false: the runtime has no attempt of the container
    const adoptOne = async (c: ContainerRecord): Promise<boolean> => {
      const latest = found.filter((x) => x.metadata.name === c.name).sort((a, b) => b.metadata.attempt - a.metadata.attempt || b.createdAt - a.createdAt)[0];
      if (!latest || latest.state === 'CONTAINER_UNKNOWN') return false;
      c.id = latest.id;
      c.restartCount = Math.max(c.restartCount, latest.metadata.attempt);
      this.byContainer.set(c.id, [rec, c]);
      if (latest.state === 'CONTAINER_CREATED') await this.runtime.startContainer(c.id).catch((e: Error) => (c.error = { reason: 'CreateContainerError', message: e.message }));
      else if (latest.state === 'CONTAINER_EXITED') exited.push(latest);
      else this.watchProbes(rec, c, latest.startedAt);
      return true;
    };
    // not initialized: the init container that was running (or is next) is the only one to take over
    const pending = rec.initialized ? rec.containers : rec.initContainers.filter((c) => !c.final).slice(0, 1);
    for (const c of pending) if (!(await adoptOne(c))) await this.startContainer(rec, c);
    this.log(`pod ${rec.key}: adopted sandbox ${sb.id} and its containers from the runtime`);
    for (const st of exited) this.onContainerEvent({ containerId: st.id, podSandboxId: sb.id, type: 'CONTAINER_STOPPED_EVENT', createdAt: Date.now() });
    this.markDirty(rec);
  }

  private async startContainer(rec: PodRecord, c: ContainerRecord): Promise<void> {
    if (rec.terminating || rec.removed || !rec.sandboxId) return;
    try {
      if (c.id) {
        this.byContainer.delete(c.id);
        await this.runtime.removeContainer(c.id);
      }
      const spec = (c.init ? rec.pod.spec?.initContainers : rec.pod.spec?.containers)?.find((x) => x.name === c.name);
      let imageRef: string | undefined;
      if (this.images && spec) {
        imageRef = await this.timed(rec, 'imageMs', () => this.imageReady(rec, c, spec));
        if (!imageRef) return;
      }
      // hollow containers run nothing: their config is only a name and an image
      c.id = await this.timed(rec, 'createMs', async () => {
        const config =
          this.runtime.ownsPodNetwork && spec
            ? this.setup
              ? await this.setup.containerConfig(rec.pod, spec, c.restartCount, rec.ip ?? '', rec.hostIP)
              : containerConfig(rec.pod, spec, c.restartCount, rec.ip ?? '', rec.hostIP)
            : { metadata: { name: c.name, attempt: c.restartCount }, image: c.image };
        return runtimeCall(rec.trace, 'CreateContainer', () => this.runtime.createContainer(rec.sandboxId!, imageRef ? { ...config, imageRef } : config), c.name);
      });
      this.byContainer.set(c.id, [rec, c]);
      c.error = undefined;
      c.backoffMessage = undefined;
      this.events?.recordPod(rec.pod, 'Normal', Reasons.created, `Created container ${c.name}`, c.name);
      await this.timed(rec, 'startMs', () => runtimeCall(rec.trace, 'StartContainer', () => this.runtime.startContainer(c.id!), c.name));
      this.events?.recordPod(rec.pod, 'Normal', Reasons.started, `Started container ${c.name}`, c.name);
      if (spec?.lifecycle?.postStart && this.runtime.execSync && !(await this.postStart(rec, c, spec, c.id))) return;
      this.watchProbes(rec, c, this.runtime.containerStatus(c.id)?.startedAt || Date.now());
    } catch (e) {
      c.error = { reason: e instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError', message: (e as Error).message };
      this.events?.recordPod(rec.pod, 'Warning', Reasons.failed, `Error: ${(e as Error).message}`, c.name);
      this.log(`pod ${rec.key}: container ${c.name}: ${(e as Error).message}`);
      // upstream's pod worker tries again at its next sync: a ConfigMap or Secret may appear meanwhile
      if (e instanceof ContainerConfigError && !c.restartTimer) {
        c.restartTimer = setTimeout(() => {
          c.restartTimer = undefined;
          void this.startContainer(rec, c).then(() => this.markDirty(rec));
        }, CONFIG_RETRY_MS);
      }
    }
  }

  /**
   * The image's ID once it is there; else undefined, and the container waits (ErrImagePull,
   * ImagePullBackOff, ...) and is tried again when the puller says.
   */
  private async imageReady(rec: PodRecord, c: ContainerRecord, spec: NonNullable<Pod['spec']>['containers'][number]): Promise<string | undefined> {
    const got = await this.images!.ensureImage(rec.pod, spec);
    if (got.ok) return got.imageRef;
    c.id = undefined;
    c.backoffMessage = undefined;
    c.error = { reason: got.reason, message: got.message };
    if (got.retryInMs !== undefined && !rec.terminating && !rec.removed) {
      c.restartTimer = setTimeout(() => {
        c.restartTimer = undefined;
        void this.startContainer(rec, c).then(() => this.markDirty(rec));
      }, got.retryInMs);
    }
    return undefined;
  }

  private onContainerEvent(ev: ContainerEvent): void {
    if (ev.type !== 'CONTAINER_STOPPED_EVENT') return;
    const hit = this.byContainer.get(ev.containerId);
    if (!hit) return;
    const [rec, c] = hit;
    if (rec.terminating || rec.removed || c.id !== ev.containerId) return;
    const st = this.runtime.containerStatus(ev.containerId);
    if (!st) return;
    this.prober?.removeContainer(rec.key, c.name);
    const terminated: ContainerStateTerminated = {
      exitCode: st.exitCode,
      reason: st.reason || (st.exitCode === 0 ? 'Completed' : 'Error'),
      startedAt: metaTime(st.startedAt),
      finishedAt: metaTime(st.finishedAt),
      containerID: `${this.runtime.runtimeName}://${st.id}`,
    };
    if (c.init && st.exitCode === 0) {
      c.final = terminated;
      void this.startNext(rec);
      return;
    }
    // an init container that failed is restarted unless the policy is Never (then the pod fails)
    const restart = rec.restartPolicy === 'Always' || (rec.restartPolicy === 'OnFailure' && st.exitCode !== 0) || (c.init && rec.restartPolicy !== 'Never');
    if (!restart) {
      c.final = terminated;
      if (c.init || rec.containers.every((x) => x.final)) void this.finishPod(rec);
      this.markDirty(rec);
      return;
    }
    c.lastTerminated = terminated;
    this.restartAfterBackOff(rec, c, st.finishedAt);
  }

  /**
   * Runs the container's postStart hook (no time limit, as upstream); when it fails, a
   * FailedPostStartHook event and the container is killed, to restart per restartPolicy.
   */
  private async postStart(rec: PodRecord, c: ContainerRecord, spec: Container, id: string): Promise<boolean> {
    try {
      await runLifecycleHandler(spec.lifecycle!.postStart!, { containerId: id, container: spec, podIP: this.checkHost(rec), exec: this.runtime.execSync!.bind(this.runtime) }, 0);
      return true;
    } catch (e) {
      if (rec.terminating || rec.removed || c.id !== id) return false;
      this.log(`pod ${rec.key}: container ${c.name}: postStart hook failed: ${(e as Error).message}`);
      // upstream leaves the hook's output out of the event: it may carry secrets
      this.events?.recordPod(rec.pod, 'Warning', Reasons.failedPostStartHook, 'PostStartHook failed', c.name);
      await this.kill(rec, c, id, 'FailedPostStartHook');
      return false;
    }
  }

  /** Where probes and httpGet hooks reach the pod: its IP, which for a hostNetwork pod is the node's. */
  private checkHost(rec: PodRecord): string {
    return rec.pod.spec?.hostNetwork ? rec.hostIP : (rec.ip ?? '');
  }

  /** Kills one container as upstream (termination.ts: Killing, preStop, SIGTERM, SIGKILL after the grace). */
  private kill(rec: PodRecord, c: ContainerRecord, containerId: string, message?: string, graceSeconds?: number): Promise<void> {
    const spec = (c.init ? rec.pod.spec?.initContainers : rec.pod.spec?.containers)?.find((x) => x.name === c.name);
    return killContainer(
      { runtime: this.runtime, events: this.events, log: this.log },
      { pod: rec.pod, container: spec, name: c.name, containerId, podIP: this.checkHost(rec), graceSeconds: graceSeconds ?? podGraceSeconds(rec.pod), message },
    ).catch((e: Error) => this.log(`pod ${rec.key}: killing container ${c.name}: ${e.message}`));
  }

  /** A container (re)started: its probes begin; not ready and not started until they say so. */
  private watchProbes(rec: PodRecord, c: ContainerRecord, startedAt: number): void {
    if (!this.prober || c.init || !c.id) return;
    const spec = rec.pod.spec?.containers?.find((x) => x.name === c.name);
    if (!spec) return;
    c.ready = spec.readinessProbe ? false : undefined;
    c.started = spec.startupProbe ? false : undefined;
    this.prober.addContainer(rec.key, spec, c.id, this.checkHost(rec), startedAt);
  }

  /** What the probes decide, applied to the pod's containers (upstream: the prober's results managers). */
  private probeListener(): ConstructorParameters<typeof ProbeManager>[0] {
    const find = (key: string, name: string): [PodRecord, ContainerRecord] | undefined => {
      const rec = this.pods.get(key);
      const c = rec?.containers.find((x) => x.name === name);
      return rec && c && !rec.terminating && !rec.removed ? [rec, c] : undefined;
    };
    return {
      onReadiness: (key, name, ready) => {
        const hit = find(key, name);
        if (!hit || hit[1].ready === ready) return;
        hit[1].ready = ready;
        this.markDirty(hit[0]);
      },
      onStarted: (key, name) => {
        const hit = find(key, name);
        if (!hit) return;
        hit[1].started = true;
        this.markDirty(hit[0]);
      },
      onUnhealthy: (key, name, kind, outcome) => {
        const hit = find(key, name);
        if (hit) this.events?.recordPod(hit[0].pod, 'Warning', Reasons.unhealthy, `${probeTypeName(kind)} probe failed: ${outcome.output}`, name);
      },
      onFailure: (key, name, containerId, kind, _outcome, probeGrace) => {
        const hit = find(key, name);
        if (!hit || hit[1].id !== containerId) return;
        const [rec, c] = hit;
        // the exit comes back as a container event and goes through the restart policy
        void this.kill(rec, c, containerId, `Container ${name} failed ${kind} probe, will be restarted`, probeGrace ?? rec.pod.spec?.terminationGracePeriodSeconds ?? undefined);
      },
    };
  }

  /** Restarts an exited container now, or after its crash-loop back-off (waiting in CrashLoopBackOff meanwhile). */
  private restartAfterBackOff(rec: PodRecord, c: ContainerRecord, finishedAt: number): void {
    const key = `${rec.uid}/${c.name}`;
    const restartNow = () => {
      c.restartTimer = undefined;
      c.restartCount++;
      this.backOff.restarted(key);
      void this.startContainer(rec, c).then(() => this.markDirty(rec));
    };
    const { waitMs, backOffMs } = this.backOff.delay(key, finishedAt);
    if (waitMs === 0) return restartNow();
    c.backoffMessage = crashLoopMessage(backOffMs, c.name, rec);
    this.events?.recordPod(rec.pod, 'Warning', Reasons.backOff, `Back-off restarting failed container ${c.name} in pod ${rec.name}_${rec.namespace}(${rec.uid})`, c.name);
    c.restartTimer = setTimeout(restartNow, waitMs);
    this.markDirty(rec);
  }

  /** Every container exited for good: the pod is terminal; its sandbox and address go. */
  private async finishPod(rec: PodRecord): Promise<void> {
    rec.terminal = true;
    if (rec.sandboxId) await this.runtime.stopPodSandbox(rec.sandboxId);
    this.nodes.get(rec.nodeName)?.ipam.release(rec.key);
  }

  /** deletionTimestamp set: stop the containers, then remove the pod object (grace 0). */
  private terminate(rec: PodRecord): void {
    if (rec.terminating) return;
    rec.terminating = true;
    this.startup?.forget(rec.uid);
    this.prober?.removePod(rec.key);
    this.dirty.delete(rec);
    rec.stopping = (async () => {
      this.clearTimers(rec);
      const grace = podGraceSeconds(rec.pod);
      // deleted while this kubelet was away: its containers are still the runtime's to stop
      const left = rec.sandboxId ? [] : this.sandboxesOf(rec).flatMap((sb) => this.runtime.listContainers?.(sb.id) ?? []);
      for (const c of left) if (c.state === 'CONTAINER_RUNNING') await this.runtime.stopContainer(c.id, grace);
      // every running container at once, each with preStop and the grace period (upstream killContainersWithSyncResult)
      await Promise.all(
        this.allContainers(rec).map((c) => (c.id && this.runtime.containerStatus(c.id)?.state === 'CONTAINER_RUNNING' ? this.kill(rec, c, c.id, undefined, grace) : undefined)),
      );
      await this.releaseRuntime(rec);
      if (rec.static) {
        // no object to delete: the mirror pod is the static pod manager's
        rec.removed = true;
        if (this.pods.get(rec.key) === rec) this.pods.delete(rec.key);
        return;
      }
      this.deletes.add(rec);
      this.scheduleFlush();
    })();
  }

  private clearTimers(rec: PodRecord): void {
    if (rec.startTimer) clearTimeout(rec.startTimer);
    rec.startTimer = undefined;
    for (const c of this.allContainers(rec)) {
      if (c.restartTimer) clearTimeout(c.restartTimer);
      c.restartTimer = undefined;
    }
  }

  /** The sandboxes a runtime that outlives this process has for the pod (any attempt, any state). */
  private sandboxesOf(rec: PodRecord): PodSandboxStatus[] {
    return this.runtime.listPodSandboxes?.().filter((sb) => sb.metadata.uid === rec.uid) ?? [];
  }

  private async releaseRuntime(rec: PodRecord): Promise<void> {
    for (const c of this.allContainers(rec)) if (c.id) this.byContainer.delete(c.id);
    const ids = new Set([...(rec.sandboxId ? [rec.sandboxId] : []), ...this.sandboxesOf(rec).map((sb) => sb.id)]);
    for (const id of ids) await this.runtime.removePodSandbox(id);
    rec.sandboxId = undefined;
    await this.setup?.release(rec.pod);
    this.nodes.get(rec.nodeName)?.ipam.release(rec.key);
  }

  /** The pod object is gone: forget it. */
  private cleanup(rec: PodRecord): void {
    if (rec.removed) return;
    rec.removed = true;
    this.startup?.forget(rec.uid);
    this.endTrace(rec, 'the pod was removed before its containers started');
    this.clearTimers(rec);
    this.backOff.forget(`${rec.uid}/`);
    this.prober?.removePod(rec.key);
    this.dirty.delete(rec);
    this.deletes.delete(rec);
    if (this.pods.get(rec.key) === rec) this.pods.delete(rec.key);
    void this.releaseRuntime(rec);
  }

  /** fn, its time added to the pod's start phase while its first start is traced */
  private timed<T>(rec: PodRecord, phase: StartPhase, fn: () => Promise<T>): Promise<T> {
    return this.startup ? this.startup.time(rec.uid, phase, fn) : fn();
  }

  private markDirty(rec: PodRecord): void {
    if (rec.removed || rec.terminating || this.stopped) return;
    // a static pod running before the apiserver answers: its status waits for start()
    if (rec.static && !this.apiSynced) return;
    this.dirty.add(rec);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.dirty.size || this.deletes.size) this.scheduleFlush();
      });
    }, this.flushMs);
  }

  /** Writes every dirty status and sends every pending delete. */
  private async flush(): Promise<void> {
    const statuses = [...this.dirty];
    this.dirty.clear();
    const deletes = [...this.deletes];
    this.deletes.clear();
    const live = statuses.filter((r) => !r.removed && !r.terminating);
    const work: Array<() => Promise<void>> = [
      ...chunks(live, STATUS_BATCH).map((batch) => () => this.writeStatuses(batch)),
      ...deletes.map((r) => () => this.deletePod(r)),
    ];
    const errors = await forEachLimited(work, this.concurrency, (w) => w());
    const failed = errors.filter((e) => e !== undefined);
    if (failed.length && !this.stopped) this.log(`${failed.length} of ${work.length} pod writes failed, retrying; first: ${(failed[0] as Error).message}`);
  }

  /** One batch.patch request for many pods' status; a failed pod is written again with the next flush. */
  private async writeStatuses(recs: PodRecord[]): Promise<void> {
    const items = recs.map((rec) => ({
      ...Resources.pods,
      namespace: rec.namespace,
      name: rec.name,
      subresource: 'status',
      patchType: 'merge' as const,
      body: { status: this.buildStatus(rec) },
    }));
    let results: unknown[];
    try {
      results = await this.client.batchPatch(items);
    } catch (e) {
      for (const rec of recs) this.dirty.add(rec);
      throw new Error(`status of ${recs.length} pods: ${(e as Error).message}`, { cause: e });
    }
    let firstError: Error | undefined;
    results.forEach((r, i) => {
      const rec = recs[i]!;
      if (!(r instanceof Error)) {
        this.startup?.reported(rec.uid, rec.key, items[i]!.body.status.phase);
        return void this.statusWrites++;
      }
      if (isNotFound(r)) return;
      // the status is rebuilt from the runtime with the next flush
      this.dirty.add(rec);
      firstError ??= new Error(`status of pod ${rec.key}: ${r.message}`, { cause: r });
    });
    if (firstError) throw firstError;
  }

  private async deletePod(rec: PodRecord): Promise<void> {
    try {
      await this.client.delete({ ...Resources.pods, namespace: rec.namespace, name: rec.name }, { gracePeriodSeconds: 0, preconditions: { uid: rec.uid } });
    } catch (e) {
      // gone already, or replaced by a pod of the same name (uid precondition): nothing to do
      if (isNotFound(e) || isConflict(e)) return;
      if (!rec.removed) this.deletes.add(rec);
      throw new Error(`deleting pod ${rec.key}: ${(e as Error).message}`, { cause: e });
    }
  }

  private containerStatus(rec: PodRecord, c: ContainerRecord): PodContainerStatus {
    const st = c.id ? this.runtime.containerStatus(c.id) : undefined;
    const running = !c.final && st?.state === 'CONTAINER_RUNNING';
    const out: PodContainerStatus = {
      name: c.name,
      image: st?.image ?? normalizeImage(c.image),
      imageID: st && (running || c.final) ? st.imageRef : '',
      // an init container is ready once it completed (upstream)
      ready: c.init ? c.final?.exitCode === 0 : running && c.ready !== false && c.started !== false,
      started: running && c.started !== false,
      restartCount: c.restartCount,
      state: {},
      lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
    };
    if (c.final) out.state = { terminated: c.final };
    else if (running) out.state = { running: { startedAt: metaTime(st!.startedAt) } };
    else if (c.backoffMessage) out.state = { waiting: { reason: 'CrashLoopBackOff', message: c.backoffMessage } };
    else if (c.error) out.state = { waiting: c.error };
    else out.state = { waiting: { reason: rec.initialized ? 'ContainerCreating' : 'PodInitializing' } };
    if (c.final) out.containerID = c.final.containerID;
    else if (running) out.containerID = `${this.runtime.runtimeName}://${st!.id}`;
    return out;
  }

  private condition(rec: PodRecord, type: string, status: string, reason?: string, message?: string): PodCondition {
    const now = metaTime();
    const prev = rec.conditions.get(type);
    const since = prev && prev[0] === status ? prev[1] : now;
    rec.conditions.set(type, [status, since]);
    const c: PodCondition = { type, status, lastTransitionTime: since };
    if (reason) c.reason = reason;
    if (message) c.message = message;
    return c;
  }

  /** The pod's status as upstream's kubelet computes it (generateAPIPodStatus). */
  buildStatus(rec: PodRecord): PodStatus {
    const containerStatuses = rec.containers.map((c) => this.containerStatus(rec, c));
    const initContainerStatuses = rec.initContainers.map((c) => this.containerStatus(rec, c));
    const phase = podPhase(containerStatuses, rec.restartPolicy, initContainerStatuses);
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const unready = containerStatuses.filter((s) => !s.ready).map((s) => s.name);
    const sandboxReady = !!rec.sandboxId && this.runtime.podSandboxStatus(rec.sandboxId)?.state === 'SANDBOX_READY';
    const notReady = (type: string) =>
      terminal ? this.condition(rec, type, 'False', 'PodCompleted') : this.condition(rec, type, 'False', 'ContainersNotReady', `containers with unready status: [${unready.join(' ')}]`);
    const conditions: PodCondition[] = [
      this.condition(rec, 'PodReadyToStartContainers', sandboxReady ? 'True' : 'False'),
      !rec.initialized
        ? this.condition(rec, 'Initialized', 'False', 'ContainersNotInitialized', `containers with incomplete status: [${rec.initContainers.filter((c) => !c.final || c.final.exitCode !== 0).map((c) => c.name).join(' ')}]`)
        : terminal ? this.condition(rec, 'Initialized', 'True', 'PodCompleted') : this.condition(rec, 'Initialized', 'True'),
      unready.length === 0 && !terminal ? this.condition(rec, 'Ready', 'True') : notReady('Ready'),
      unready.length === 0 && !terminal ? this.condition(rec, 'ContainersReady', 'True') : notReady('ContainersReady'),
      this.condition(rec, 'PodScheduled', 'True'),
    ];
    const status: PodStatus = {
      phase,
      conditions,
      hostIP: rec.hostIP,
      hostIPs: [{ ip: rec.hostIP }],
      startTime: rec.startTime,
      containerStatuses,
    };
    if (initContainerStatuses.length) status.initContainerStatuses = initContainerStatuses;
    if (rec.ip) {
      status.podIP = rec.ip;
      status.podIPs = [{ ip: rec.ip }];
    }
    return status;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    this.prober?.stop();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const rec of this.pods.values()) this.clearTimers(rec);
    await this.informer.stop();
    await this.flushing;
  }
}
