/**
 * The Node objects and heartbeats of every hollow node in the process. Upstream's
 * kubelet registers its Node, renews its Lease in kube-node-lease every 10 s (a quarter
 * of the 40 s lease) and reports status when it changes or every
 * nodeStatusReportFrequency. One process here carries thousands of nodes, so there is
 * one timer for them all: each tick renews the leases (and reports the statuses) that
 * are due, spread evenly over the interval, a bounded number of requests at a time.
 */
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ApiClient } from '../../lib/client/client.js';
import { Resources } from '../../lib/client/client.js';
import { formatMicroTime } from '../../lib/client/leaderelection.js';
import { StatusError, isAlreadyExists, isNotFound } from '../../lib/api/errors.js';
import { chunks, forEachLimited } from './concurrency.js';
import { PodIpAllocator, nodeInternalIp, nodePodCidr } from './podip.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const HOLLOW_LABEL = 'flotilla.io/hollow';
export const KUBELET_VERSION = 'v1.31.0-flotilla';

export interface NodeManagerOptions {
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
  /** how often each node reports its status when nothing changed (default 60 s; upstream 5 min) */
  statusReportIntervalMs?: number;
  /** the heartbeat timer's period (default 500 ms) */
  tickMs?: number;
  /** requests in flight at once (default 64) */
  concurrency?: number;
  runtimeVersion: string;
  log?: (line: string) => void;
}

export interface HollowNode {
  name: string;
  index: number;
  zone: string;
  podCIDR: string;
  internalIP: string;
  uid?: string;
  ipam: PodIpAllocator;
  /** when each condition last changed (lastTransitionTime) */
  readySince: string;
  nextLeaseRenew: number;
  nextStatusReport: number;
}

const nowTime = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class NodeManager {
  readonly nodes = new Map<string, HollowNode>();
  /** lease renewals and status reports that failed (told to the log, retried next interval) */
  failures = 0;
  leaseRenewals = 0;
  statusReports = 0;
  private readonly leaseDurationSeconds: number;
  private readonly renewMs: number;
  private readonly reportMs: number;
  private readonly concurrency: number;
  private readonly log: (line: string) => void;
  private timer?: NodeJS.Timeout;
  private busy?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly opts: NodeManagerOptions,
  ) {
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 40;
    this.renewMs = opts.leaseRenewIntervalMs ?? (this.leaseDurationSeconds * 1000) / 4;
    this.reportMs = opts.statusReportIntervalMs ?? 60_000;
    this.concurrency = opts.concurrency ?? 64;
    this.log = opts.log ?? ((l) => process.stderr.write(`kubelet: ${l}\n`));
    const first = opts.firstIndex ?? 0;
    const zones = Math.max(1, opts.zones);
    const now = Date.now();
    for (let k = 0; k < opts.count; k++) {
      const index = first + k;
      const name = `${opts.namePrefix}${index}`;
      const podCIDR = nodePodCidr(index);
      // spread over the interval so the process sends an even trickle, not a burst
      const phase = opts.count > 1 ? k / opts.count : 0;
      this.nodes.set(name, {
        name,
        index,
        zone: `zone-${index % zones}`,
        podCIDR,
        internalIP: nodeInternalIp(index),
        ipam: new PodIpAllocator(podCIDR),
        readySince: nowTime(),
        nextLeaseRenew: now + this.renewMs * phase,
        nextStatusReport: now + this.reportMs * phase,
      });
    }
  }

  has(name: string | undefined): boolean {
    return name !== undefined && this.nodes.has(name);
  }

  get(name: string): HollowNode | undefined {
    return this.nodes.get(name);
  }

  conditions(n: HollowNode, heartbeat: string): NodeCondition[] {
    const c = (type: string, status: string, reason: string, message: string): NodeCondition => ({
      type,
      status,
      lastHeartbeatTime: heartbeat,
      lastTransitionTime: n.readySince,
      reason,
      message,
    });
    return [
      c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ];
  }

  /** The Node object a hollow node registers. */
  nodeObject(n: HollowNode): Node {
    const capacity = { cpu: this.opts.cpu, memory: this.opts.memory, pods: String(this.opts.pods), 'ephemeral-storage': '100Gi' };
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.name,
        labels: {
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/os': 'linux',
          [HOSTNAME_LABEL]: n.name,
          [ZONE_LABEL]: n.zone,
          [REGION_LABEL]: 'region-1',
          [HOLLOW_LABEL]: 'true',
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR], providerID: `hollow://${n.name}` },
      status: {
        capacity,
        allocatable: { ...capacity },
        conditions: this.conditions(n, nowTime()),
        addresses: [
          { type: 'InternalIP', address: n.internalIP },
          { type: 'Hostname', address: n.name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
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
      },
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
      spec: { holderIdentity: n.name, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: formatMicroTime(new Date()) },
    };
  }

  /**
   * Creates every Node and Lease, many per request (flotilla.api.batch.create). A node
   * that already exists (a restarted process) keeps its podCIDR and gets its labels
   * and status refreshed.
   */
  async register(): Promise<void> {
    const all = [...this.nodes.values()];
    const existing: HollowNode[] = [];
    for (const batch of chunks(all, 200)) {
      const results = await this.client.batchCreate<Node>(batch.map((n) => ({ ...Resources.nodes, body: this.nodeObject(n) })));
      results.forEach((r, i) => {
        const n = batch[i]!;
        if (r instanceof StatusError) {
          if (isAlreadyExists(r)) existing.push(n);
          else throw new Error(`registering node ${n.name}: ${r.message}`, { cause: r });
        } else n.uid = r.metadata?.uid;
      });
    }
    const errors = await forEachLimited(existing, this.concurrency, (n) => this.adopt(n));
    const failed = errors.findIndex((e) => e !== undefined);
    if (failed >= 0) throw new Error(`updating existing node ${existing[failed]!.name}: ${(errors[failed] as Error).message}`, { cause: errors[failed] });

    for (const batch of chunks(all, 200)) {
      const results = await this.client.batchCreate<Lease>(batch.map((n) => ({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE, body: this.leaseObject(n) })));
      const renew: HollowNode[] = [];
      results.forEach((r, i) => {
        if (!(r instanceof StatusError)) return;
        if (isAlreadyExists(r)) renew.push(batch[i]!);
        else throw new Error(`creating the lease of node ${batch[i]!.name}: ${r.message}`, { cause: r });
      });
      await forEachLimited(renew, this.concurrency, (n) => this.renewLease(n));
    }
  }

  /** A node left by an earlier run: keep its podCIDR (immutable upstream), refresh the rest. */
  private async adopt(n: HollowNode): Promise<void> {
    const cur = await this.client.get<Node>({ ...Resources.nodes, name: n.name });
    n.uid = cur.metadata?.uid;
    if (cur.spec?.podCIDR && cur.spec.podCIDR !== n.podCIDR) {
      n.podCIDR = cur.spec.podCIDR;
      n.ipam = new PodIpAllocator(n.podCIDR);
    }
    const want = this.nodeObject(n);
    await this.client.patch({ ...Resources.nodes, name: n.name }, 'merge', { metadata: { labels: want.metadata!.labels }, spec: cur.spec?.podCIDR ? {} : want.spec });
    await this.client.patch({ ...Resources.nodes, name: n.name, subresource: 'status' }, 'merge', { status: want.status });
  }

  async renewLease(n: HollowNode): Promise<void> {
    const ref = { ...Resources.leases, namespace: NODE_LEASE_NAMESPACE, name: n.name };
    try {
      await this.client.patch(ref, 'merge', { spec: { holderIdentity: n.name, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: formatMicroTime(new Date()) } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.client.create({ ...Resources.leases, namespace: NODE_LEASE_NAMESPACE }, this.leaseObject(n));
    }
    this.leaseRenewals++;
  }

  async reportStatus(n: HollowNode): Promise<void> {
    try {
      await this.client.patch({ ...Resources.nodes, name: n.name, subresource: 'status' }, 'merge', { status: { conditions: this.conditions(n, nowTime()) } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      // the Node was deleted under us: register it again, as a restarted kubelet would
      const created = await this.client.create<Node>(Resources.nodes, this.nodeObject(n));
      n.uid = created.metadata?.uid;
    }
    this.statusReports++;
  }

  /** Starts the heartbeat timer. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      // a tick still sending (a slow apiserver) is not overlapped: its nodes are simply due again
      if (this.busy) return;
      this.busy = this.tick().finally(() => (this.busy = undefined));
    }, this.opts.tickMs ?? 500);
  }

  /** Renews every due lease and reports every due status. */
  async tick(): Promise<void> {
    const now = Date.now();
    const leases: HollowNode[] = [];
    const statuses: HollowNode[] = [];
    for (const n of this.nodes.values()) {
      if (n.nextLeaseRenew <= now) {
        leases.push(n);
        n.nextLeaseRenew = now + this.renewMs;
      }
      if (n.nextStatusReport <= now) {
        statuses.push(n);
        n.nextStatusReport = now + this.reportMs;
      }
    }
    const work: Array<() => Promise<void>> = [...leases.map((n) => () => this.renewLease(n)), ...statuses.map((n) => () => this.reportStatus(n))];
    const errors = await forEachLimited(work, this.concurrency, (w) => w());
    const failed = errors.filter((e) => e !== undefined);
    if (failed.length && !this.stopped) {
      this.failures += failed.length;
      this.log(`${failed.length} of ${work.length} heartbeats failed, retried at the next interval; first: ${(failed[0] as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.busy;
  }
}
