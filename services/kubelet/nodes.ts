/**
 * The Node objects and heartbeats of every hollow node in the process. Upstream's
 * kubelet registers its Node, renews its Lease in kube-node-lease every 10 s (a quarter
 * of the 40 s lease), and reports its status when it changed or every
 * nodeStatusReportFrequency (5 min). One process here carries thousands of nodes, so:
 *   - one timer for them all: each tick takes the renewals and reports that are due;
 *     each node has its own phase in the interval, counted from start(), so the process
 *     sends an even trickle (10,000 nodes: about 250 renewals every 250 ms), not bursts;
 *   - the due items travel many per request (flotilla.api.batch.patch, through the
 *     client's Batcher), with a bounded number of requests in flight, apart from the pod
 *     status writes so a burst of pods cannot hold heartbeats back in the kubelet;
 *   - one shared Node informer tells when the status in the API is not what the node
 *     would report (the node lifecycle controller set Ready Unknown, someone edited it,
 *     the Node was deleted): that node reports at once (at most every
 *     nodeStatusUpdateFrequency), as upstream's kubelet notices the same on its 10 s check.
 */
import type { Node, NodeCondition, NodeStatus, NodeSystemInfo } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { type ApiClient, Batcher, type BatchPatchRequest, chunks, deletedObject, forEachLimited, Resources, SharedInformer } from '../../lib/client/mod.js';
import { StatusError, isAlreadyExists, isNotFound } from '../../lib/api/errors.js';
import { PodIpAllocator, nodeInternalIp, nodePodCidr } from './podip.js';
import { metaMicroTime, metaTime } from '../../lib/api/time.js';
import type { NodeHealth } from './nodehealth.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const HOLLOW_LABEL = 'flotilla.io/hollow';
export const KUBELET_VERSION = 'v1.31.0-flotilla';
/** upstream cloudproviderapi.TaintExternalCloudProvider */
export const UNINITIALIZED_TAINT = 'node.cloudprovider.kubernetes.io/uninitialized';

export interface NodeManagerOptions {
  /** status.daemonEndpoints.kubeletEndpoint.Port: where this process serves its endpoints (default 10250) */
  kubeletPort?: number;
  /** node names are `<namePrefix><index>` */
  namePrefix: string;
  count: number;
  /** the first node's index (several processes can carry disjoint ranges) */
  firstIndex?: number;
  /** capacity (= allocatable): quantities as strings */
  cpu: string;
  memory: string;
  pods: number;
  zones: number;
  /** Lease duration (default 40 s, upstream's nodeLeaseDurationSeconds) */
  leaseDurationSeconds?: number;
  /** how often each lease is renewed (default 10 s: a quarter of the duration, as upstream) */
  leaseRenewIntervalMs?: number;
  /** how often each node reports its status when nothing changed (default 5 min: upstream's nodeStatusReportFrequency) */
  statusReportIntervalMs?: number;
  /** the soonest a node reports a changed status after its last report (default 10 s: upstream's nodeStatusUpdateFrequency) */
  statusUpdateIntervalMs?: number;
  /** a failed renewal or report is tried again after this (default 1 s) */
  retryMs?: number;
  /** the heartbeat timer's period (default 250 ms) */
  tickMs?: number;
  /** requests in flight at once while registering (default 64) */
  concurrency?: number;
  runtimeVersion: string;
  /**
   * --cloud-provider=external: the Nodes register with the uninitialized taint and without
   * providerID or zone labels, and report no addresses once registered: the
   * cloud-controller-manager sets them (upstream's kubelet does the same)
   */
  externalCloudProvider?: boolean;
  /**
   * A real node instead of hollow ones: the one Node this process carries, named after
   * the host, with the machine's capacity and system info (namePrefix and count unused).
   */
  host?: HostNodeSpec;
  log?: (line: string) => void;
}

/** What a real node says of the machine it runs on (hostnode.ts reads it). */
export interface HostNodeSpec {
  name: string;
  /** --pod-cidr: registered as the Node's podCIDR; without it the node IPAM controller gives one */
  podCIDR?: string;
  internalIP: string;
  capacity: Record<string, string>;
  /** capacity minus reservations and eviction thresholds (default: the capacity) */
  allocatable?: Record<string, string>;
  /** the conditions from readings of the machine (default: the hollow nodes' fixed ones) */
  health?: NodeHealth;
  nodeInfo: NodeSystemInfo;
}

export interface HollowNode {
  name: string;
  index: number;
  zone: string;
  /** the Node's spec.podCIDR ('' until it has one) */
  podCIDR: string;
  internalIP: string;
  uid?: string;
  /** hollow pods' addresses: from the podCIDR, or from the node's own /24 of 10.0.0.0/8 until it has one */
  ipam: PodIpAllocator;
  /** when the conditions last changed (lastTransitionTime) */
  readySince: string;
  /** its Lease renewals */
  lease: Heartbeat;
  /** its node status reports */
  report: Heartbeat;
  /** when its status was last sent (ms) */
  lastStatusReport: number;
}

/** One periodic write of a node. */
interface Heartbeat {
  /** when it is due next (ms) */
  next: number;
  /** queued or on the wire: not queued again */
  busy: boolean;
}

/** leases renewed per batch.patch request (a reply carries each Lease, ~0.5 kB) */
const LEASE_BATCH = 250;
/** node statuses per batch request (a reply carries each Node, ~2 kB; NATS's max_payload is 1 MB) */
const NODE_BATCH = 100;
/** Nodes created per batch.create request while registering */
const NODE_REGISTER_BATCH = 200;
/** batch requests of each kind in flight at once */
const HEARTBEAT_IN_FLIGHT = 4;
/** status batches in flight at once: each writes NODE_BATCH Nodes that every Node watcher receives */
const STATUS_IN_FLIGHT = 2;
/** how often repeated heartbeat failures are told to the log */
const FAILURE_LOG_MS = 10_000;

/** what a hollow node always says of itself: type, status, reason, message */
const NODE_CONDITIONS: ReadonlyArray<readonly [string, string, string, string]> = [
  ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
];

/**
 * When each of count nodes is first due, spread evenly over one interval from now: node
 * k at now + interval * (k + 1) / count. None is due at once (registering has just
 * written every Node and Lease) and the last one a whole interval on.
 */
export function spreadOver(count: number, intervalMs: number, now: number): number[] {
  return Array.from({ length: count }, (_, k) => now + (intervalMs * (k + 1)) / count);
}

export class NodeManager {
  readonly nodes = new Map<string, HollowNode>();
  /** lease renewals and status reports that failed (told to the log, retried after retryMs) */
  failures = 0;
  leaseRenewals = 0;
  statusReports = 0;
  /** the Nodes in the API, as the kubelet last heard (one shared watch) */
  readonly informer: SharedInformer<Node>;
  private readonly leaseDurationSeconds: number;
  private readonly renewMs: number;
  private readonly reportMs: number;
  private readonly updateMs: number;
  private readonly retryMs: number;
  private readonly concurrency: number;
  private readonly log: (line: string) => void;
  private readonly leaseWriter: Batcher<HollowNode>;
  private readonly statusWriter: Batcher<HollowNode>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly healthCheck: Heartbeat = { next: 0, busy: false };
  private unreported = { count: 0, first: undefined as Error | undefined, since: 0 };

  constructor(
    private readonly client: ApiClient,
    private readonly opts: NodeManagerOptions,
  ) {
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 40;
    this.renewMs = opts.leaseRenewIntervalMs ?? (this.leaseDurationSeconds * 1000) / 4;
    this.reportMs = opts.statusReportIntervalMs ?? 5 * 60_000;
    this.updateMs = opts.statusUpdateIntervalMs ?? 10_000;
    this.retryMs = opts.retryMs ?? 1000;
    this.concurrency = opts.concurrency ?? 64;
    this.log = opts.log ?? ((l) => process.stderr.write(`kubelet: ${l}\n`));
    const first = opts.firstIndex ?? 0;
    const zones = Math.max(1, opts.zones);
    if (opts.host) {
      const h = opts.host;
      this.nodes.set(h.name, {
        name: h.name,
        index: 0,
        zone: '',
        podCIDR: h.podCIDR ?? '',
        internalIP: h.internalIP,
        // unused: the runtime's CNI gives a real node's pods their addresses
        ipam: new PodIpAllocator(h.podCIDR ?? nodePodCidr(0)),
        readySince: metaTime(),
        lease: { next: Infinity, busy: false },
        report: { next: Infinity, busy: false },
        lastStatusReport: 0,
      });
    }
    for (let k = 0; k < (opts.host ? 0 : opts.count); k++) {
      const index = first + k;
      const name = `${opts.namePrefix}${index}`;
      this.nodes.set(name, {
        name,
        index,
        zone: `zone-${index % zones}`,
        // as upstream's kubelet, a hollow node registers no podCIDR: node IPAM gives it
        podCIDR: '',
        internalIP: nodeInternalIp(index),
        ipam: new PodIpAllocator(nodePodCidr(index)),
        readySince: metaTime(),
        // scheduled by start()
        lease: { next: Infinity, busy: false },
        report: { next: Infinity, busy: false },
        lastStatusReport: 0,
      });
    }
    // the body is built when the batch leaves, so a renewal that waited for a free request slot is not stale
    this.leaseWriter = new Batcher(
      (nodes) => {
        const renewTime = metaMicroTime();
        return client.batchPatch(nodes.map((n) => this.leasePatch(n, renewTime)));
      },
      'renewing the leases of',
      (n) => `node ${n.name}`,
      { maxBatch: LEASE_BATCH, maxInFlight: HEARTBEAT_IN_FLIGHT },
    );
    this.statusWriter = new Batcher(
      (nodes) => {
        const heartbeat = metaTime();
        return client.batchPatch(nodes.map((n) => this.statusPatch(n, heartbeat)));
      },
      'reporting the status of',
      (n) => `node ${n.name}`,
      { maxBatch: NODE_BATCH, maxInFlight: STATUS_IN_FLIGHT },
    );
    this.informer = new SharedInformer<Node>(client, Resources.nodes, {
      ...(opts.host ? { fieldSelector: `metadata.name=${opts.host.name}` } : { labelSelector: `${HOLLOW_LABEL}=true` }),
      onError: (e) => this.log(`node watch: ${(e as Error)?.message ?? e}; re-listing`),
    });
    this.informer.addEventHandler({
      onAdd: (node) => this.observe(node),
      onUpdate: (_old, node) => this.observe(node),
      onDelete: (o) => this.observeGone(deletedObject(o)),
    });
  }

  /** batch requests sent for lease renewals and status reports so far */
  get heartbeatRequests(): { leases: number; statuses: number } {
    return { leases: this.leaseWriter.requests, statuses: this.statusWriter.requests };
  }

  has(name: string | undefined): boolean {
    return name !== undefined && this.nodes.has(name);
  }

  get(name: string): HollowNode | undefined {
    return this.nodes.get(name);
  }

  conditions(n: HollowNode, heartbeat: string): NodeCondition[] {
    if (this.opts.host?.health) return this.opts.host.health.conditions(heartbeat);
    return NODE_CONDITIONS.map(([type, status, reason, message]) => ({
      type,
      status,
      lastHeartbeatTime: heartbeat,
      lastTransitionTime: n.readySince,
      reason,
      message,
    }));
  }

  private capacity(): Record<string, string> {
    if (this.opts.host) return this.opts.host.capacity;
    return { cpu: this.opts.cpu, memory: this.opts.memory, pods: String(this.opts.pods), 'ephemeral-storage': '100Gi' };
  }

  private allocatable(): Record<string, string> {
    return this.opts.host?.allocatable ?? this.capacity();
  }

  /** The status a hollow node reports. */
  nodeStatus(n: HollowNode, heartbeat: string): NodeStatus {
    const capacity = this.capacity();
    return {
      capacity,
      allocatable: { ...this.allocatable() },
      conditions: this.conditions(n, heartbeat),
      addresses: [
        { type: 'InternalIP', address: n.internalIP },
        { type: 'Hostname', address: n.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.kubeletPort ?? 10250 } },
      nodeInfo: this.opts.host?.nodeInfo ?? {
        machineID: n.name,
        systemUUID: n.name,
        bootID: n.name,
        kernelVersion: 'hollow',
        osImage: 'Flotilla hollow node',
        containerRuntimeVersion: `hollow://${this.opts.runtimeVersion}`,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
  }

  /**
   * The Node object a node registers; a hollow one also has its zone, region, hollow label
   * and providerID, unless an external cloud provider sets them (then it has the
   * uninitialized taint instead, as upstream's kubelet with --cloud-provider=external).
   */
  nodeObject(n: HollowNode): Node {
    const hollow = !this.opts.host;
    const external = !!this.opts.externalCloudProvider;
    const own = hollow && !external;
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        labels: {
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/os': 'linux',
          [HOSTNAME_LABEL]: n.name,
          ...(own && { [ZONE_LABEL]: n.zone, [REGION_LABEL]: 'region-1' }),
          ...(hollow && { [HOLLOW_LABEL]: 'true' }),
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0', ...(external && { 'alpha.kubernetes.io/provided-node-ip': n.internalIP }) },
      },
      spec: {
        ...(n.podCIDR && { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] }),
        ...(own && { providerID: `hollow://${n.name}` }),
        ...(external && { taints: [{ key: UNINITIALIZED_TAINT, value: 'true', effect: 'NoSchedule' }] }),
      },
      status: this.nodeStatus(n, metaTime()),
    };
  }

  leaseObject(n: HollowNode): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: n.name,
        namespace: NODE_LEASE_NAMESPACE,
        // upstream: the lease goes with its node
        ownerReferences: n.uid ? [{ apiVersion: 'v1', kind: 'Node', name: n.name, uid: n.uid }] : undefined,
      },
      spec: { holderIdentity: n.name, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: metaMicroTime() },
    };
  }

  private leasePatch(n: HollowNode, renewTime: string): BatchPatchRequest['items'][number] {
    return {
      ...Resources.leases,
      namespace: NODE_LEASE_NAMESPACE,
      name: n.name,
      patchType: 'merge',
      body: { spec: { holderIdentity: n.name, leaseDurationSeconds: this.leaseDurationSeconds, renewTime } },
    };
  }

  private statusPatch(n: HollowNode, heartbeat: string): BatchPatchRequest['items'][number] {
    const status = this.nodeStatus(n, heartbeat);
    if (!this.opts.externalCloudProvider) return { ...Resources.nodes, name: n.name, subresource: 'status', patchType: 'merge', body: { status } };
    // with a cloud, others write parts of the status too: its addresses stay (upstream's kubelet
    // leaves them too), and a strategic merge replaces only the kubelet's own conditions,
    // keeping the route controller's NetworkUnavailable
    delete status.addresses;
    return { ...Resources.nodes, name: n.name, subresource: 'status', patchType: 'strategic', body: { status } };
  }

  /** Patches in batches, a few requests at a time (items[i] is of nodes[i]); throws on the first that failed. */
  private async patchAll(what: string, nodes: HollowNode[], items: BatchPatchRequest['items'], size: number): Promise<void> {
    const parts = chunks(items, size);
    const results: unknown[][] = new Array(parts.length);
    const errors = await forEachLimited(parts, STATUS_IN_FLIGHT, async (part, i) => {
      results[i] = await this.client.batchPatch(part);
    });
    const broken = errors.find((e) => e !== undefined);
    if (broken) throw new Error(`${what}: ${(broken as Error).message}`, { cause: broken });
    const flat = results.flat();
    const bad = flat.findIndex((r) => r instanceof StatusError);
    if (bad >= 0) throw new Error(`${what} ${nodes[bad]!.name}: ${(flat[bad] as Error).message}`, { cause: flat[bad] });
  }

  /**
   * Creates every Node and Lease, many per request (flotilla.api.batch.create). A node
   * that already exists (a restarted process) keeps its podCIDR and gets its labels
   * and status refreshed; an existing Lease is renewed.
   */
  async register(): Promise<void> {
    const all = [...this.nodes.values()];
    const existing: HollowNode[] = [];
    const createAll = async <T>(
      what: string,
      ref: { group: string; version: string; resource: string; namespace?: string },
      body: (n: HollowNode) => T,
      size: number,
      inFlight: number,
      onCreated: (n: HollowNode, r: T) => void,
    ) => {
      const errors = await forEachLimited(chunks(all, size), inFlight, async (batch) => {
        const results = await this.client.batchCreate<T>(batch.map((n) => ({ ...ref, body: body(n) })));
        results.forEach((r, i) => {
          const n = batch[i]!;
          if (!(r instanceof StatusError)) return onCreated(n, r);
          if (isAlreadyExists(r)) existing.push(n);
          else throw new Error(`${what} of node ${n.name}: ${r.message}`, { cause: r });
        });
      });
      const failed = errors.find((e) => e !== undefined);
      if (failed) throw failed;
    };

    // Nodes one request at a time: every watcher of Nodes (scheduler, controllers) gets
    // them in watch frames of up to 512 events, and 512 Nodes (~2 kB each) would pass
    // NATS's 1 MB max_payload, which ends those watches (they re-list, but late)
    await createAll('registering', Resources.nodes, (n) => this.nodeObject(n), NODE_REGISTER_BATCH, 1, (n, r: Node) => (n.uid = r.metadata?.uid));
    await this.adopt(existing.splice(0));
    await createAll('creating the lease', { ...Resources.leases, namespace: NODE_LEASE_NAMESPACE }, (n) => this.leaseObject(n), LEASE_BATCH, HEARTBEAT_IN_FLIGHT, () => undefined);
    if (existing.length) {
      const renewTime = metaMicroTime();
      await this.patchAll('renewing the existing lease of node', existing, existing.map((n) => this.leasePatch(n, renewTime)), LEASE_BATCH);
    }
    const now = Date.now();
    for (const n of all) n.lastStatusReport = now;
  }

  /** Nodes left by an earlier run: keep each podCIDR (immutable upstream), refresh the rest. */
  private async adopt(existing: HollowNode[]): Promise<void> {
    if (!existing.length) return;
    const current = new Map<HollowNode, Node>();
    const errors = await forEachLimited(existing, this.concurrency, async (n) => {
      current.set(n, await this.client.get<Node>({ ...Resources.nodes, name: n.name }));
    });
    const failed = errors.findIndex((e) => e !== undefined);
    if (failed >= 0) throw new Error(`reading existing node ${existing[failed]!.name}: ${(errors[failed] as Error).message}`, { cause: errors[failed] });
    const meta: BatchPatchRequest['items'] = [];
    for (const n of existing) {
      const cur = current.get(n)!;
      n.uid = cur.metadata?.uid;
      if (cur.spec?.podCIDR) this.takePodCIDR(n, cur.spec.podCIDR);
      // the uninitialized taint only on registration: a restarted kubelet does not undo the cloud's work
      const want = this.nodeObject(n);
      const { taints: _, ...spec } = want.spec!;
      meta.push({ ...Resources.nodes, name: n.name, patchType: 'merge', body: { metadata: { labels: want.metadata!.labels }, spec: cur.spec?.podCIDR ? {} : spec } });
    }
    await this.patchAll('updating existing node', existing, meta, NODE_BATCH);
    const heartbeat = metaTime();
    await this.patchAll('reporting the status of existing node', existing, existing.map((n) => this.statusPatch(n, heartbeat)), NODE_BATCH);
  }

  /** Renews one node's Lease now (a Lease deleted under us is created again). */
  async renewLease(n: HollowNode): Promise<void> {
    try {
      await this.leaseWriter.add(n);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.client.create({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE }, this.leaseObject(n));
    }
    this.leaseRenewals++;
  }

  /** Reports one node's status now (a Node deleted under us is registered again, as a restarted kubelet would). */
  async reportStatus(n: HollowNode): Promise<void> {
    n.lastStatusReport = Date.now();
    try {
      await this.statusWriter.add(n);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      n.readySince = metaTime();
      // its podCIDR went back to node IPAM with the Node: a hollow node asks again (a real one keeps its bridge's)
      if (!this.opts.host) n.podCIDR = '';
      const created = await this.client.create<Node>(Resources.nodes, this.nodeObject(n));
      n.uid = created.metadata?.uid;
    }
    this.statusReports++;
  }

  /** Starts the shared Node watch and the heartbeat timer; each node's first heartbeats are spread over their intervals from now. */
  start(): void {
    if (this.timer || this.stopped) return;
    const all = [...this.nodes.values()];
    const now = Date.now();
    const leaseAt = spreadOver(all.length, this.renewMs, now);
    const reportAt = spreadOver(all.length, this.reportMs, now);
    all.forEach((n, k) => {
      n.lease.next = leaseAt[k]!;
      n.report.next = reportAt[k]!;
    });
    this.informer.start();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 250);
  }

  /**
   * Queues every due lease renewal and status report (those already queued or on the
   * wire are not queued again). Returns how many of each it queued.
   */
  tick(now = Date.now()): { leases: number; statuses: number } {
    let leases = 0;
    let statuses = 0;
    this.checkHealth(now);
    for (const n of this.nodes.values()) {
      if (this.beat(n.lease, now, this.renewMs, () => this.renewLease(n))) leases++;
      if (this.beat(n.report, now, this.reportMs, () => this.reportStatus(n))) statuses++;
    }
    this.tellFailures(now);
    return { leases, statuses };
  }

  /**
   * A real node reads the machine every nodeStatusUpdateFrequency (upstream's 10 s) and
   * reports at once when a condition changed.
   */
  private checkHealth(now: number): void {
    const health = this.opts.host?.health;
    if (!health || this.healthCheck.busy || this.healthCheck.next > now) return;
    this.healthCheck.busy = true;
    this.healthCheck.next = now + this.updateMs;
    health.refresh().then(
      (changed) => {
        this.healthCheck.busy = false;
        if (!changed || this.stopped) return;
        for (const n of this.nodes.values()) n.report.next = Math.min(n.report.next, Date.now());
      },
      (e) => {
        this.healthCheck.busy = false;
        this.log(`reading the node's health: ${(e as Error)?.message ?? e}`);
      },
    );
  }

  /** Reads the machine and the runtime again and reports the real node's status now (its network just came up). */
  async recheckHealth(): Promise<void> {
    const health = this.opts.host?.health;
    if (!health) return;
    await health.refresh();
    this.healthCheck.next = Date.now() + this.updateMs;
    for (const n of this.nodes.values()) await this.reportStatus(n);
  }

  /** Sends a due heartbeat and schedules the next; a failed one is retried soon. Answers whether it sent. */
  private beat(b: Heartbeat, now: number, interval: number, send: () => Promise<unknown>): boolean {
    if (b.busy || b.next > now) return false;
    b.busy = true;
    b.next = now + interval;
    send().then(
      () => (b.busy = false),
      (e) => {
        b.busy = false;
        b.next = Math.min(b.next, Date.now() + this.retryMs);
        this.failed(e);
      },
    );
    return true;
  }

  /** Resolves once every renewal and report queued so far is answered. */
  async idle(): Promise<void> {
    await Promise.all([this.leaseWriter.drain(), this.statusWriter.drain()]);
    // a NotFound answer is followed by a create: let those settle too
    await new Promise((r) => setImmediate(r));
    if (this.leaseWriter.outstanding || this.statusWriter.outstanding || [...this.nodes.values()].some((n) => n.lease.busy || n.report.busy)) {
      await new Promise((r) => setTimeout(r, 10));
      return this.idle();
    }
  }

  /**
   * What the API says of one of our nodes: when its status is not what the node would
   * report, the node reports again (as soon as nodeStatusUpdateFrequency allows).
   */
  private observe(node: Node): void {
    const n = this.nodes.get(node.metadata?.name ?? '');
    if (!n || this.stopped) return;
    if (node.metadata?.uid) n.uid = node.metadata.uid;
    if (node.spec?.podCIDR) this.takePodCIDR(n, node.spec.podCIDR);
    if (!this.statusDiffers(node.status)) return;
    // the conditions go back to what the kubelet says: a transition, as upstream records it
    if (!this.conditionsMatch(node.status)) n.readySince = metaTime();
    this.reportSoon(n);
  }

  /**
   * The podCIDR the Node has (given by node IPAM, or kept from an earlier run). A hollow
   * node hands its pods addresses from it, unless some pod already has one from the
   * node's provisional range (the two would not be told apart on release).
   */
  private takePodCIDR(n: HollowNode, podCIDR: string): void {
    if (n.podCIDR === podCIDR) return;
    n.podCIDR = podCIDR;
    if (!this.opts.host && n.ipam.allocated === 0) n.ipam = new PodIpAllocator(podCIDR);
  }

  /**
   * Resolves with the node's podCIDR once its Node has one (node IPAM writes it after
   * registration), saying in the log every logEveryMs what it waits for.
   */
  async waitForPodCIDR(name: string, signal?: AbortSignal, logEveryMs = 10_000): Promise<string> {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`node ${name} is not one of this kubelet's`);
    const t0 = Date.now();
    let told = t0;
    while (!n.podCIDR) {
      signal?.throwIfAborted();
      if (this.stopped) throw new Error(`stopped while node ${name} waited for its podCIDR`);
      if (Date.now() - told >= logEveryMs) {
        told = Date.now();
        this.log(`node ${name} has no spec.podCIDR after ${Math.round((told - t0) / 1000)} s: waiting for the node IPAM controller (controller-manager --allocate-node-cidrs --cluster-cidr CIDR), or give the kubelet --pod-cidr`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return n.podCIDR;
  }

  private observeGone(node: Node): void {
    const n = this.nodes.get(node.metadata?.name ?? '');
    if (n && !this.stopped) this.reportSoon(n);
  }

  private reportSoon(n: HollowNode): void {
    n.report.next = Math.min(n.report.next, Math.max(Date.now(), n.lastStatusReport + this.updateMs));
  }

  private conditionsMatch(status: NodeStatus | undefined): boolean {
    if (this.opts.host?.health) return this.opts.host.health.matches(status?.conditions);
    return NODE_CONDITIONS.every(([type, want, reason]) => {
      const c = status?.conditions?.find((x) => x.type === type);
      return c?.status === want && c.reason === reason;
    });
  }

  /** Whether the API's status of a node differs from what it reports: conditions, capacity or allocatable. */
  statusDiffers(status: NodeStatus | undefined): boolean {
    if (!this.conditionsMatch(status)) return true;
    const capacity = this.capacity();
    const allocatable = this.allocatable();
    for (const [k, v] of Object.entries(capacity)) {
      if (status?.capacity?.[k] !== v || status?.allocatable?.[k] !== allocatable[k]) return true;
    }
    return false;
  }

  private failed(e: unknown): void {
    if (this.stopped) return;
    this.failures++;
    this.unreported.count++;
    this.unreported.first ??= e instanceof Error ? e : new Error(String(e));
  }

  /** Heartbeat failures go to the log in one line every FAILURE_LOG_MS, not one line each. */
  private tellFailures(now: number): void {
    const u = this.unreported;
    if (!u.count || now - u.since < FAILURE_LOG_MS) return;
    this.log(`${u.count} lease renewals or status reports failed (retried after ${this.retryMs} ms); first: ${u.first?.message}`);
    this.unreported = { count: 0, first: undefined, since: now };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.informer.stop();
    await this.idle();
  }
}
