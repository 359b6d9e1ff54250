/**
 * The scheduler: informers feed the queue (pending pods of this process's profiles) and
 * the cache (nodes, namespaces, assigned pods); the loop takes a batch from the queue,
 * resolves each pod to its equivalence class, places each class's pods with one core
 * place() call, assumes them and binds them asynchronously (batched), and handles the pods
 * no node fits as upstream does: diagnosis, PostFilter (preemption), the PodScheduled=False
 * condition and a FailedScheduling event. Placed pods get a Scheduled event once bound.
 *
 * The hot path stays cheap: no per-pod JSON work, events and bindings batched, status
 * patches only when the condition actually changes.
 */
import type { Namespace, Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Histogram } from 'prom-client';
import { StatusError } from '../../lib/api/errors.js';
import { type ApiClient, Batcher, type BatchPatchRequest, deletedObject, EventRecorder, MAX_DECODED_MESSAGE_BYTES, Resources, SharedInformerFactory } from '../../lib/client/mod.js';
import { Binder, type BatchBindClient } from './binding.js';
import { SchedulerCache } from './backend/cache/cache.js';
import { ClassTable } from './classes.js';
import type { SchedulerConfiguration } from './config.js';
import { createCore } from './core/mod.js';
import type { CoreKind } from './core/types.js';
import { Framework } from './framework/framework.js';
import { podKey, type Diagnosis, type Registry } from './framework/types.js';
import type { SchedulerMetrics } from './metrics.js';
import { SchedulingQueue, type ClusterEvent, type QueueEntry } from './backend/queue/schedulingqueue.js';
import { metaTime } from '../../lib/api/time.js';
import type { Tracer } from '@opentelemetry/api';
import { tracePlacement, traceUnschedulable } from './tracing.js';
import { SchedulingTransforms } from './transform.js';

/** victims whose preemptors wait for the cache to see them go (Scheduler.preemptionDone) */
const MAX_AWAITED_VICTIMS = 65_536;

export interface SchedulerOptions {
  client: ApiClient;
  config: SchedulerConfiguration;
  metrics: SchedulerMetrics;
  /** reportingInstance of events (the leader-election identity) */
  identity: string;
  coreKind: CoreKind;
  /** the plugins profiles may name (the service passes the in-tree registry) */
  registry: Registry;
  /** pods taken from the queue per cycle (default 1000) */
  batchSize?: number;
  /** where bindings go (default: the client); tests inject failures here */
  bindClient?: BatchBindClient;
  now?: () => number;
  /** told about failures that are retried (default: stderr) */
  log?: (line: string) => void;
  /** percentage of class compiles whose PreFilter plugins are timed (default: upstream's 10) */
  pluginMetricsSamplePercent?: number;
  /** traces the cycles of pods whose create was sampled (absent: none) */
  tracer?: Tracer;
}

/** What PostFilter concluded for one pod. */
interface PostFilterOutcome {
  message?: string;
  nominatedNodeName?: string;
}

interface ProfileRuntime {
  name: string;
  fw: Framework;
  recorder: EventRecorder;
  /** the profile's Filter series of scheduler_framework_extension_point_duration_seconds, bound on first use */
  filterDuration?: Histogram.Internal<'extension_point' | 'status' | 'profile'>;
}

/** A status patch's bytes in a batch request: its reference and fields (~200) and its body. */
export function statusPatchBytes(it: BatchPatchRequest['items'][number]): number {
  return 200 + (it.namespace?.length ?? 0) + (it.name?.length ?? 0) + JSON.stringify(it.body).length;
}

/** Pods no longer the scheduler's business: bound, finished or going away. */
function isPendingPod(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly binder: Binder;
  readonly classes: ClassTable;
  private readonly profiles = new Map<string, ProfileRuntime>();
  private readonly metrics: SchedulerMetrics;
  private readonly batchSize: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly tracer?: Tracer;
  private readonly factory: SharedInformerFactory;
  private synced = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private gaugeTimer?: NodeJS.Timeout;
  private slotsOut = new Int32Array(1024);
  /** pods nominated by preemption -> the node whose room they hold */
  private readonly nominations = new Map<string, string>();
  /** cluster events whose moves are queued for the end of the turn (moved) */
  private readonly eventsToMove = new Set<ClusterEvent>();
  private movesQueued = false;
  /** victims whose deletes are answered but not yet seen by the cache -> their preemptor (preemptionDone) */
  private readonly awaitedVictims = new Map<string, string>();
  /** preemptor -> how many of its victims are in awaitedVictims */
  private readonly awaitedCount = new Map<string, number>();
  /** PodScheduled=False status patches, many pods a batch.patch request */
  private readonly statusWriter: Batcher<BatchPatchRequest['items'][number]>;

  constructor(opts: SchedulerOptions) {
    this.metrics = opts.metrics;
    this.batchSize = opts.batchSize ?? 1000;
    this.now = opts.now ?? Date.now;
    this.tracer = opts.tracer;
    this.log = opts.log ?? ((line) => process.stderr.write(`scheduler: ${line}\n`));
    this.cache = new SchedulerCache({ createCore: (dims) => createCore(opts.coreKind, dims) });
    this.binder = new Binder({ client: opts.bindClient ?? opts.client });
    // each patch carries its message (~0.5 kB in all): 500 of them would be a large string to decode
    this.statusWriter = new Batcher((items) => opts.client.batchPatchOutcomes(items), 'writing the status of', (it) => `pod ${it.namespace}/${it.name}`, {
      maxBytes: MAX_DECODED_MESSAGE_BYTES,
      sizeOf: statusPatchBytes,
    });
    // nothing here reads managedFields: they are cut from the watch frames before decoding
    this.factory = new SharedInformerFactory(opts.client, { omitManagedFields: true });
    // preemption reads PodDisruptionBudgets from the informer, not one list per attempt
    const pdbs = this.factory.forResource<PodDisruptionBudget>(Resources.poddisruptionbudgets);
    for (const profile of opts.config.profiles) {
      // one recorder a profile, as upstream: events name the profile's scheduler as their reporter
      const recorder = new EventRecorder({
        client: opts.client,
        reportingController: profile.schedulerName,
        reportingInstance: opts.identity,
        registry: opts.metrics.registry,
        onError: (e) => this.log(`writing events failed: ${(e as Error).message}`),
      });
      const fw = new Framework(profile, {
        registry: opts.registry,
        snapshot: this.cache.snapshot,
        client: opts.client,
        bind: (pod, node) => this.binder.bind(pod, node),
        percentageOfNodesToScore: opts.config.percentageOfNodesToScore,
        extras: {
          metrics: opts.metrics,
          recorder,
          listPDBs: () => pdbs.store.list(),
          onPreemptionDone: (pod: Pod, error: Error | undefined, victims: readonly string[]) => this.preemptionDone(pod, error, victims),
        },
        metrics: opts.metrics,
        pluginMetricsSamplePercent: opts.pluginMetricsSamplePercent,
      });
      this.profiles.set(profile.schedulerName, { name: profile.schedulerName, fw, recorder });
    }
    const first = this.profiles.values().next().value as ProfileRuntime | undefined;
    this.queue = new SchedulingQueue({
      less: first ? (a, b) => first.fw.less(a, b) : undefined,
      podInitialBackoffSeconds: opts.config.podInitialBackoffSeconds,
      podMaxBackoffSeconds: opts.config.podMaxBackoffSeconds,
      now: this.now,
    });
    this.classes = new ClassTable(this.cache);
  }

  private responsibleFor(pod: Pod): boolean {
    return this.profiles.has(pod.spec?.schedulerName || 'default-scheduler');
  }

  /**
   * A cluster event: the unschedulable pods it may help move. The events of one turn (a
   * watch frame brings hundreds) are gathered and the pods walked once for all of them, at
   * the end of the turn, before the scheduling loop can pop again.
   */
  private moved(event: ClusterEvent): void {
    this.eventsToMove.add(event);
    if (this.movesQueued) return;
    this.movesQueued = true;
    queueMicrotask(() => {
      this.movesQueued = false;
      const events = [...this.eventsToMove];
      this.eventsToMove.clear();
      this.queue.moveAllToActiveOrBackoffQueue(events, this.notPreempting);
    });
  }

  /**
   * a preemptor stays put until its victims' API calls finish and the cache has seen the
   * victims go (then preemptionDone or victimGone activates it)
   */
  private readonly notPreempting = (e: QueueEntry): boolean => !this.preemptionInFlight(e);

  private preemptionInFlight(e: QueueEntry): boolean {
    if (this.awaitedCount.has(e.key)) return true;
    return this.profiles.get(e.pod.spec?.schedulerName || 'default-scheduler')?.fw.postFilterInFlight(e.key) ?? false;
  }

  /**
   * upstream async preemption: the preemptor is activated once its victims' API calls are
   * done; here once the cache has also seen the victims go (their deletes are answered
   * before the informer delivers them), so that its next attempt finds their room.
   */
  private preemptionDone(pod: Pod, error: Error | undefined, victims: readonly string[]): void {
    const key = podKey(pod);
    if (error) this.log(error.message);
    // a victim deleted gracefully is seen terminating first: the preemptor then waits for it
    // as upstream's does (DefaultPreemption.eligible), not parked
    const present = error
      ? []
      : victims.filter((v) => {
          const info = this.cache.podInfoOf(v);
          return info !== undefined && !info.pod.metadata?.deletionTimestamp;
        });
    if (present.length === 0) {
      this.queue.activate(key);
      return;
    }
    for (const v of present) {
      // the oldest are let go (their preemptors are then left to the queue's events and flushes)
      if (this.awaitedVictims.size >= MAX_AWAITED_VICTIMS) this.victimGone(this.awaitedVictims.keys().next().value!);
      this.awaitedVictims.set(v, key);
      this.awaitedCount.set(key, (this.awaitedCount.get(key) ?? 0) + 1);
    }
  }

  /** A victim left the cache (or is seen terminating): its preemptor is activated once none of its victims is left. */
  private victimGone(victim: string): void {
    const preemptor = this.awaitedVictims.get(victim);
    if (preemptor === undefined) return;
    this.awaitedVictims.delete(victim);
    const left = (this.awaitedCount.get(preemptor) ?? 1) - 1;
    if (left > 0) {
      this.awaitedCount.set(preemptor, left);
      return;
    }
    this.awaitedCount.delete(preemptor);
    this.queue.activate(preemptor);
  }

  /** Starts the informers and waits until their caches are synced. */
  async startInformers(): Promise<void> {
    const nodes = this.factory.forResource<Node>(Resources.nodes);
    const namespaces = this.factory.forResource<Namespace>(Resources.namespaces);
    const pods = this.factory.forResource<Pod>(Resources.pods);
    // only what the scheduler reads is kept (transform.ts)
    const transforms = new SchedulingTransforms();
    nodes.setTransform(transforms.node);
    pods.setTransform(transforms.pod);
    nodes.addEventHandler({
      onAdd: (n) => {
        this.cache.addNode(n);
        this.moved('NodeAdd');
      },
      onUpdate: (_o, n) => {
        this.cache.updateNode(n);
        this.moved('NodeUpdate');
      },
      onDelete: (o) => {
        this.cache.removeNode(deletedObject(o).metadata?.name ?? '');
        this.moved('NodeDelete');
      },
    });
    namespaces.addEventHandler({
      onAdd: (ns) => {
        this.cache.upsertNamespace(ns);
        this.moved('NamespaceChange');
      },
      onUpdate: (_o, ns) => {
        this.cache.upsertNamespace(ns);
        this.moved('NamespaceChange');
      },
      onDelete: (o) => this.cache.removeNamespace(deletedObject(o).metadata?.name ?? ''),
    });
    pods.addEventHandler({
      onAdd: (p) => this.onPodAdd(p),
      onUpdate: (o, p) => this.onPodUpdate(o, p),
      onDelete: (o) => this.onPodDelete(deletedObject(o)),
    });
    this.factory.start();
    await this.factory.waitForCacheSync(this.abort.signal);
    this.synced = true;
    this.gaugeTimer = setInterval(() => this.updateGauges(), 1000);
    this.gaugeTimer.unref();
  }

  private onPodAdd(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.addPod(pod);
      this.moved('AssignedPodAdd');
    } else if (isPendingPod(pod) && this.responsibleFor(pod) && !pod.metadata?.deletionTimestamp) {
      this.queue.add(pod);
    }
  }

  private onPodUpdate(oldPod: Pod, pod: Pod): void {
    if (pod.spec?.nodeName) {
      if (!oldPod.spec?.nodeName) {
        // the binding landed (ours, or someone else's)
        this.queue.delete(pod);
        this.cache.addPod(pod);
        this.moved('AssignedPodAdd');
      } else {
        this.cache.updatePod(oldPod, pod);
        if (this.awaitedVictims.size > 0 && pod.metadata?.deletionTimestamp) this.victimGone(podKey(pod));
        this.moved('AssignedPodUpdate');
      }
      return;
    }
    if (!this.responsibleFor(pod) || !isPendingPod(pod) || pod.metadata?.deletionTimestamp) {
      this.queue.delete(pod);
      return;
    }
    this.queue.update(oldPod, pod);
  }

  private onPodDelete(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.removePod(pod);
      if (this.awaitedVictims.size > 0) this.victimGone(podKey(pod));
      this.moved('AssignedPodDelete');
    } else {
      this.releaseNomination(podKey(pod));
      this.queue.delete(pod);
    }
  }

  /**
   * A pod nominated to a node after preemption holds the room it freed there, so other
   * pods (and other preemptors) do not take it first: upstream counts nominated pods of
   * equal or higher priority when filtering their node. Here the room is held for every
   * pod, until the nominated pod's own next attempt.
   */
  private holdNomination(pod: Pod, nodeName: string): void {
    const key = podKey(pod);
    this.releaseNomination(key);
    if (!this.cache.node(nodeName)) return;
    this.cache.assumePod(pod, nodeName);
    this.nominations.set(key, nodeName);
  }

  private releaseNomination(key: string): void {
    if (!this.nominations.delete(key)) return;
    this.cache.forgetPod(key);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  private updateGauges(): void {
    const p = this.queue.pending();
    this.metrics.pendingPods.set({ queue: 'active' }, p.active);
    this.metrics.pendingPods.set({ queue: 'backoff' }, p.backoff);
    this.metrics.pendingPods.set({ queue: 'unschedulable' }, p.unschedulable);
    this.metrics.pendingPods.set({ queue: 'gated' }, p.gated);
    // recomputed whole, so plugins and profiles with no pods left drop out
    this.metrics.unschedulablePods.reset();
    for (const [profile, byPlugin] of this.queue.unschedulableByProfile()) {
      for (const [plugin, n] of byPlugin) this.metrics.unschedulablePods.set({ plugin, profile }, n);
    }
  }

  /** The scheduling loop; runs until stop(). Only the leader calls it. */
  async run(signal?: AbortSignal): Promise<void> {
    const stopSignal = signal ? AbortSignal.any([signal, this.abort.signal]) : this.abort.signal;
    while (!this.stopped && !stopSignal.aborted) {
      const batch = await this.queue.popBatch(this.batchSize, stopSignal);
      if (batch.length === 0) continue;
      try {
        await this.scheduleBatch(batch);
      } catch (e) {
        this.log(`scheduling a batch of ${batch.length} pods failed: ${(e as Error).stack ?? String(e)}`);
        for (const entry of batch) if (this.queue.whereIs(entry.key) === 'inflight') this.queue.addUnschedulable(entry, []);
      }
      // let informer events and binding replies in before the next batch
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * One scheduling cycle over a batch of popped pods: pods are grouped by their profile's
   * signature (equal signatures compile to one class), and each group is resolved and
   * placed in turn, so a class is defined in the core right before its place() and a
   * volatile class sees the pods assumed by the groups before it.
   */
  async scheduleBatch(batch: QueueEntry[]): Promise<void> {
    const start = performance.now();
    this.classes.beginCycle();
    const groups = new Map<string, { profile: ProfileRuntime; entries: QueueEntry[] }>();
    for (const entry of batch) {
      const pod = entry.pod;
      if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) {
        this.queue.done(entry);
        continue;
      }
      if (this.preemptionInFlight(entry)) {
        this.queue.park(entry, entry.unschedulablePlugins);
        continue;
      }
      const profile = this.profiles.get(pod.spec?.schedulerName || 'default-scheduler');
      if (!profile) {
        this.queue.delete(pod);
        continue;
      }
      const sig = profile.fw.signature(pod);
      let g = groups.get(sig);
      if (!g) groups.set(sig, (g = { profile, entries: [] }));
      g.entries.push(entry);
    }
    for (const g of groups.values()) await this.scheduleGroup(g.profile, g.entries, start);
  }

  private async scheduleGroup(profile: ProfileRuntime, entries: QueueEntry[], start: number): Promise<void> {
    // a nominated pod is not in the way of itself
    if (this.nominations.size > 0) for (const e of entries) this.releaseNomination(e.key);
    const t0 = performance.now();
    const resolved = this.classes.resolve(entries[0]!.pod, profile.fw);
    // PreFilter is the class compilation (a cache hit costs a lookup)
    this.metrics.extensionPointDuration.observe(
      { extension_point: 'PreFilter', status: resolved.unresolvable !== undefined ? 'UnschedulableAndUnresolvable' : 'Success', profile: profile.name },
      (performance.now() - t0) / 1000,
    );
    if (resolved.unresolvable !== undefined) {
      const diag = profile.fw.unresolvableDiagnosis(resolved.unresolvable, resolved.unresolvablePlugin);
      for (const entry of entries) await this.handleUnschedulable(profile, entry, diag, start);
      return;
    }
    const count = entries.length;
    if (this.slotsOut.length < count) this.slotsOut = new Int32Array(count);
    const core = this.cache.core;
    // Filter and Score run inside this one place() (the core scores each feasible node in
    // the pass that filters it), so their times cannot be told apart: the whole call is
    // observed as Filter, once per group, and Score has no series of its own.
    const tPlace = performance.now();
    let placed: number;
    try {
      placed = core.place(resolved.id, count, this.slotsOut);
    } catch (e) {
      this.metrics.extensionPointDuration.observe({ extension_point: 'Filter', status: 'Error', profile: profile.name }, (performance.now() - tPlace) / 1000);
      throw e;
    }
    profile.filterDuration ??= this.metrics.extensionPointDuration.labels({ extension_point: 'Filter', status: 'Success', profile: profile.name });
    profile.filterDuration.observe((performance.now() - tPlace) / 1000);
    // one place() decides the whole group: each pod's share of it is its algorithm time
    const algoSeconds = (performance.now() - t0) / 1000 / Math.max(1, placed);
    for (let i = 0; i < placed; i++) {
      const entry = entries[i]!;
      const node = this.cache.nodeAt(this.slotsOut[i]!);
      if (!node) {
        this.log(`core placed ${entry.key} on empty slot ${this.slotsOut[i]}`);
        this.queue.addUnschedulable(entry, []);
        continue;
      }
      this.metrics.algorithmDuration.observe(algoSeconds);
      this.assumeAndBind(profile, entry, node.name, start);
    }
    if (placed < count) {
      const reasons = new Int32Array(core.dims.nodes);
      core.diagnose(resolved.id, reasons);
      const diag = profile.fw.diagnose(resolved.id, resolved.spec, reasons);
      // Pods of one class that failed at the same point share their PostFilter outcome: once
      // preemption finds no room for one, it finds none for its identical siblings.
      let shared: PostFilterOutcome | undefined;
      for (let i = placed; i < count; i++) {
        const outcome = await this.handleUnschedulable(profile, entries[i]!, diag, start, shared);
        if (!outcome.nominatedNodeName) shared = outcome;
      }
    }
  }

  private assumeAndBind(profile: ProfileRuntime, entry: QueueEntry, nodeName: string, start: number): void {
    const pod = entry.pod;
    this.cache.assumePod(pod, nodeName, { placedByCore: true, template: profile.fw.template(pod), key: entry.key });
    profile.fw.reserve(pod, nodeName);
    const bindStart = performance.now();
    const trace = this.tracer && tracePlacement(this.tracer, pod, nodeName, start);
    profile.fw.bind(pod, nodeName).then(
      () => {
        trace?.end();
        this.metrics.extensionPointDuration.observe({ extension_point: 'Bind', status: 'Success', profile: profile.name }, (performance.now() - bindStart) / 1000);
        const seconds = (performance.now() - start) / 1000;
        this.metrics.attempt('scheduled', profile.name, seconds);
        this.metrics.podSchedulingAttempts.observe(entry.attempts);
        this.metrics.podSchedulingSLIDuration.observe({ attempts: String(entry.attempts) }, (this.now() - entry.initialAttemptTimestamp) / 1000);
        this.queue.done(entry);
        this.queue.deleteNominatedPodIfExists(pod);
        profile.recorder.eventf(pod, undefined, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${pod.metadata?.namespace}/${pod.metadata?.name} to ${nodeName}`);
      },
      (err: unknown) => {
        trace?.end(err);
        this.metrics.extensionPointDuration.observe({ extension_point: 'Bind', status: 'Error', profile: profile.name }, (performance.now() - bindStart) / 1000);
        // upstream handleBindingCycleError: forget the assumed pod, unreserve, requeue with backoff
        this.cache.forgetPod(podKey(pod));
        profile.fw.unreserve(pod, nodeName);
        this.metrics.attempt('error', profile.name, (performance.now() - start) / 1000);
        const msg = err instanceof Error ? err.message : String(err);
        this.log(`binding ${entry.key} to ${nodeName} failed: ${msg}`);
        this.queue.addUnschedulable(entry, []);
        // the freed room may fit pods waiting on it
        this.moved('AssignedPodDelete');
        if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) {
          profile.recorder.eventf(pod, undefined, 'Warning', 'FailedScheduling', 'Scheduling', `Binding rejected: ${msg}`);
        }
      },
    );
  }

  private async handleUnschedulable(profile: ProfileRuntime, entry: QueueEntry, diag: Diagnosis, start: number, known?: PostFilterOutcome): Promise<PostFilterOutcome> {
    const pod = entry.pod;
    let postFilterMsg: string | undefined = known?.message;
    let nominated: string | undefined;
    if (!known && profile.fw.postFilterPlugins.length > 0) {
      const pfStart = performance.now();
      let status = 'Unschedulable';
      try {
        const r = await profile.fw.postFilter(pod, diag);
        if (r) {
          postFilterMsg = r.message || undefined;
          nominated = r.nominatedNodeName;
          if (nominated) status = 'Success';
        }
      } catch (e) {
        status = 'Error';
        this.log(`PostFilter for ${entry.key} failed: ${(e as Error).message}`);
      }
      this.metrics.extensionPointDuration.observe({ extension_point: 'PostFilter', status, profile: profile.name }, (performance.now() - pfStart) / 1000);
    }
    const message = profile.fw.failureMessage(diag, postFilterMsg);
    if (this.tracer) traceUnschedulable(this.tracer, pod, message, start);
    this.metrics.attempt('unschedulable', profile.name, (performance.now() - start) / 1000);
    if (nominated) {
      this.queue.addNominatedPod(pod, nominated);
      this.holdNomination(pod, nominated);
    }
    // a preemptor waits for its victims to go (preemptionDone, victimGone activate it)
    if (nominated && this.preemptionInFlight(entry)) this.queue.park(entry, diag.unschedulablePlugins);
    else this.queue.addUnschedulable(entry, diag.unschedulablePlugins);
    profile.recorder.eventf(pod, undefined, 'Warning', 'FailedScheduling', 'Scheduling', message);
    this.patchUnschedulable(pod, message, nominated);
    return { message: postFilterMsg, nominatedNodeName: nominated };
  }

  /** PodScheduled=False/Unschedulable with the message; skipped when the pod already says so. */
  private patchUnschedulable(pod: Pod, message: string, nominatedNodeName?: string): void {
    const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const nnChanged = nominatedNodeName !== undefined && pod.status?.nominatedNodeName !== nominatedNodeName;
    if (current && current.status === 'False' && current.reason === 'Unschedulable' && current.message === message && !nnChanged) return;
    const now = metaTime(this.now());
    const condition: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null as unknown as string,
      lastTransitionTime: current?.status === 'False' ? current.lastTransitionTime : now,
    };
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominatedNodeName !== undefined) status.nominatedNodeName = nominatedNodeName;
    const ref = { ...Resources.pods, namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', subresource: 'status' };
    this.statusWriter.add({ ...ref, patchType: 'strategic', body: { status } }).catch((e: Error) => {
      if (!(e instanceof StatusError && e.code === 404)) this.log(`updating the status of ${podKey(pod)} failed: ${e.message}`);
    });
  }

  /** Stops the loop and the informers; waits for outstanding bindings, patches and events. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.queue.close();
    if (this.gaugeTimer) clearInterval(this.gaugeTimer);
    await Promise.all([...this.profiles.values()].map((p) => p.fw.drainPostFilter()));
    await this.binder.drain();
    await this.statusWriter.drain();
    await Promise.all([...this.profiles.values()].map((p) => p.recorder.stop()));
    await this.factory.stop();
  }
}
