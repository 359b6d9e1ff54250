/**
 * The node IPAM controller (upstream pkg/controller/nodeipam, the RangeAllocator): with
 * --allocate-node-cidrs, every Node without spec.podCIDR gets one free block of
 * /--node-cidr-mask-size out of --cluster-cidr, written to spec.podCIDR and
 * spec.podCIDRs. The kubelet (real or hollow) takes its pod network from it.
 *
 * - At start the informer's first list occupies the blocks existing Nodes hold, before
 *   anything is allocated (the workers wait for the synced cache), so a restarted
 *   controller-manager gives nobody a block already in use.
 * - A deleted Node's block is released, and nodes that found the range full get theirs.
 * - When the range is full the Node gets upstream's event: reason CIDRNotAvailable,
 *   "Node <name> status is now: CIDRNotAvailable" (component cidrAllocator), once until
 *   it gets a block.
 * - Upstream patches one Node per worker round trip; 10,000 hollow nodes registering at
 *   once would queue 10,000 serial writes. Here the allocations of one event-loop turn
 *   travel as batch patches (flotilla.api.batch.patch, NODE_BATCH Nodes each, a few in
 *   flight), so their Nodes get a podCIDR within seconds.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import { Batcher, type DeletedFinalStateUnknown, deletedObject, isNotFound, Resources, type SharedInformer, type EventRecorder } from '../../../../lib/client/mod.js';
import { formatCidr } from '../../../../lib/net/mod.js';
import { InformerController, type ControllerContext } from '../../../../lib/controller/mod.js';
import { CidrSet, CidrSetError } from './cidrset.js';

/** upstream --node-cidr-mask-size for IPv4 */
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;
/** Nodes per batch patch: each reply carries the Node (~2 kB) and NATS's max_payload is 1 MB */
const NODE_BATCH = 100;
const PATCHES_IN_FLIGHT = 4;
const DEFAULT_RETRY_MS = 1000;
export const CIDR_NOT_AVAILABLE = 'CIDRNotAvailable';

export interface NodeIpamControllerOptions {
  /** --cluster-cidr, e.g. 10.244.0.0/16 */
  clusterCIDR: string;
  /** --node-cidr-mask-size (default 24) */
  nodeCIDRMaskSize?: number;
  /** a failed write is tried again after this (default 1 s) */
  retryMs?: number;
}

interface Allocation {
  name: string;
  cidr: string;
}

export class NodeIpamController extends InformerController {
  readonly cidrs: CidrSet;
  private readonly nodes: SharedInformer<Node>;
  private readonly recorder: EventRecorder;
  private readonly writer: Batcher<Allocation>;
  private readonly retryMs: number;
  /** Nodes without a podCIDR that wait for this controller */
  private readonly pending = new Set<string>();
  /** blocks given and not yet seen on their Node */
  private readonly given = new Map<string, string>();
  /** Nodes told CIDRNotAvailable: they wait for a block to be released */
  private readonly unavailable = new Set<string>();
  /** Nodes whose podCIDR is none of ours (told once to the log) */
  private readonly foreign = new Set<string>();
  private synced = false;
  private flushing = false;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  /** patches sent, for tests and the log */
  allocations = 0;

  constructor(ctx: ControllerContext, opts: NodeIpamControllerOptions) {
    super('node_ipam', ctx);
    this.cidrs = new CidrSet(opts.clusterCIDR, opts.nodeCIDRMaskSize ?? DEFAULT_NODE_CIDR_MASK_SIZE);
    this.retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.recorder = ctx.recorder('cidrAllocator');
    this.nodes = ctx.informers.forResource<Node>(Resources.nodes);
    this.writer = new Batcher<Allocation>(
      (items) =>
        ctx.client.batchPatch(items.map((a) => ({ ...Resources.nodes, name: a.name, patchType: 'merge' as const, body: { spec: { podCIDR: a.cidr, podCIDRs: [a.cidr] } } }))),
      'allocating the podCIDR of',
      (a) => `node ${a.name}`,
      { maxBatch: NODE_BATCH, maxInFlight: PATCHES_IN_FLIGHT },
    );
    this.handle(this.nodes, {
      onAdd: (n) => this.observe(n),
      onUpdate: (_old, n) => this.observe(n),
      onDelete: (o: Node | DeletedFinalStateUnknown<Node>) => this.forget(deletedObject(o)),
    });
  }

  override async run(workers: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closed) return;
    // waits for the Node cache: every block in use is occupied before one is given
    await super.run(workers, signal);
    if (signal.aborted || this.closed) return;
    this.synced = true;
    this.ctx.log(`node-ipam-controller: ${this.cidrs.size} of ${this.cidrs.capacity} /${this.cidrs.maskSize} blocks of ${this.clusterCIDR} in use; ${this.pending.size} nodes wait for one`);
    this.flush();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  override async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await super.stop();
    await this.writer.drain();
  }

  get clusterCIDR(): string {
    return formatCidr(this.cidrs.cluster);
  }

  private observe(node: Node): void {
    const name = node.metadata!.name!;
    const cidr = node.spec?.podCIDRs?.[0] ?? node.spec?.podCIDR;
    if (!cidr) {
      if (!this.given.has(name) && !this.unavailable.has(name)) {
        this.pending.add(name);
        this.flushSoon();
      }
      return;
    }
    this.pending.delete(name);
    this.unavailable.delete(name);
    const mine = this.given.get(name);
    this.given.delete(name);
    // a block we gave that the Node did not take (someone else set another) goes back
    if (mine && mine !== cidr) this.cidrs.release(mine);
    try {
      this.cidrs.occupy(cidr);
    } catch (e) {
      if (!(e instanceof CidrSetError)) throw e;
      if (!this.foreign.has(name)) this.ctx.log(`node-ipam-controller: node ${name} keeps its podCIDR: ${e.message}`);
      this.foreign.add(name);
    }
  }

  private forget(node: Node): void {
    const name = node.metadata?.name ?? '';
    this.pending.delete(name);
    this.unavailable.delete(name);
    this.foreign.delete(name);
    const cidr = node.spec?.podCIDRs?.[0] ?? node.spec?.podCIDR ?? this.given.get(name);
    this.given.delete(name);
    if (!cidr) return;
    try {
      this.cidrs.release(cidr);
    } catch (e) {
      if (!(e instanceof CidrSetError)) throw e;
      return;
    }
    // a freed block: the nodes that found the range full try again
    if (this.unavailable.size) {
      for (const n of this.unavailable) this.pending.add(n);
      this.unavailable.clear();
      this.flushSoon();
    }
  }

  private flushSoon(): void {
    if (!this.synced || this.flushing || this.closed) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      this.flush();
    });
  }

  /** Gives every pending Node a block; the patches of this turn leave together. */
  private flush(): void {
    if (this.closed) return;
    for (const name of this.pending) {
      this.pending.delete(name);
      const node = this.nodes.store.getByKey(name);
      if (!node || node.spec?.podCIDR || this.given.has(name)) continue;
      const cidr = this.cidrs.allocateNext();
      if (!cidr) {
        this.unavailable.add(name);
        this.recorder.eventf(node, undefined, 'Normal', CIDR_NOT_AVAILABLE, CIDR_NOT_AVAILABLE, `Node ${name} status is now: ${CIDR_NOT_AVAILABLE}`);
        this.ctx.log(`node-ipam-controller: no free /${this.cidrs.maskSize} left in ${this.clusterCIDR} for node ${name}`);
        continue;
      }
      this.given.set(name, cidr);
      this.allocations++;
      this.writer.add({ name, cidr }).catch((e) => this.failed(name, cidr, e));
    }
  }

  /** A write that failed: the block goes back; the Node tries again unless it is gone. */
  private failed(name: string, cidr: string, e: unknown): void {
    if (this.given.get(name) !== cidr) return;
    this.given.delete(name);
    this.cidrs.release(cidr);
    if (this.closed || isNotFound(e)) return;
    this.ctx.log(`node-ipam-controller: writing podCIDR ${cidr} to node ${name} failed, will retry: ${(e as Error)?.message ?? e}`);
    this.pending.add(name);
    this.retryTimer ??= setTimeout(() => {
      this.retryTimer = undefined;
      this.flush();
    }, this.retryMs);
  }
}
