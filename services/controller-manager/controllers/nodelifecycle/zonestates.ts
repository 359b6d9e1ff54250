/**
 * Zones and the pacing of NoExecute tainting in them (upstream pkg/controller/nodelifecycle
 * /scheduler, v1.31, with the zone helpers of pkg/controller/nodelifecycle): a node's zone
 * key, the state of a zone from its nodes' Ready statuses, and the token-bucket
 * rate-limited timed queue each zone's NoExecute tainting goes through. The node lifecycle
 * controller decides what to queue and which rate each zone gets.
 */
import type { Node } from 'kubernetes-types/core/v1.js';

export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_TOPOLOGY_REGION = 'topology.kubernetes.io/region';
const LABEL_FAILURE_DOMAIN_BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const LABEL_FAILURE_DOMAIN_BETA_REGION = 'failure-domain.beta.kubernetes.io/region';
/** upstream scheduler.NodeEvictionPeriod: how often the tainting queues are tried */
export const NODE_EVICTION_PERIOD_MS = 100;
/** upstream scheduler.EvictionRateLimiterBurst */
const EVICTION_RATE_LIMITER_BURST = 1;

export type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

/**
 * upstream GetZoneKey: region and zone (the beta labels first, as upstream), "" when the
 * node has neither.
 */
export function zoneKey(node: Node): string {
  const labels = node.metadata?.labels ?? {};
  const zone = labels[LABEL_FAILURE_DOMAIN_BETA_ZONE] ?? labels[LABEL_TOPOLOGY_ZONE] ?? '';
  const region = labels[LABEL_FAILURE_DOMAIN_BETA_REGION] ?? labels[LABEL_TOPOLOGY_REGION] ?? '';
  if (!region && !zone) return '';
  return `${region}:\u0000:${zone}`;
}

/**
 * upstream ComputeZoneState over the zone's Ready statuses (undefined: never posted):
 * FullDisruption with none Ready, PartialDisruption with more than two and at least
 * `unhealthyThreshold` of them not Ready, else Normal.
 */
export function computeZoneState(readyStatuses: ReadonlyArray<string | undefined>, unhealthyThreshold: number): { notReady: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const s of readyStatuses) {
    if (s === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return { notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyThreshold) return { notReady, state: 'PartialDisruption' };
  return { notReady, state: 'Normal' };
}

/** upstream flowcontrol token bucket, TryAccept only; a rate of 0 accepts nothing. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, t - this.last) / 1000) * this.qps);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * upstream scheduler.RateLimitedTimedQueue: node names waiting for their NoExecute taint,
 * tried in order of processAt while the limiter hands out tokens. A name stays a member
 * after it was processed, so it is not queued again until removed (the node healthy
 * again, or its taint found missing).
 */
export class RateLimitedTimedQueue {
  private readonly members = new Set<string>();
  private queue: Array<{ value: string; processAt: number }> = [];
  private limiter: TokenBucket;

  constructor(
    qps: number,
    private readonly now: () => number,
  ) {
    this.limiter = new TokenBucket(qps, EVICTION_RATE_LIMITER_BURST, now);
  }

  get qps(): number {
    return this.limiter.qps;
  }

  /** Queues value unless it is a member already. */
  add(value: string): boolean {
    if (this.members.has(value)) return false;
    this.members.add(value);
    this.insert({ value, processAt: this.now() });
    return true;
  }

  remove(value: string): boolean {
    if (!this.members.delete(value)) return false;
    this.queue = this.queue.filter((e) => e.value !== value);
    return true;
  }

  /** upstream SwapLimiter: a bucket of the new rate, drained if the old one was empty. */
  swapLimiter(qps: number): void {
    if (this.limiter.qps === qps) return;
    const next = new TokenBucket(qps, EVICTION_RATE_LIMITER_BURST, this.now);
    if (qps > 0 && !this.limiter.tryAccept()) next.tryAccept();
    this.limiter = next;
  }

  /**
   * Processes due entries while tokens last; `fn` answers undefined when done with the
   * entry, or after how many ms to try it again.
   */
  async try(fn: (value: string) => Promise<number | undefined>): Promise<void> {
    while (this.queue.length) {
      if (!this.limiter.tryAccept()) return;
      const head = this.queue[0]!;
      const now = this.now();
      if (now < head.processAt) return;
      const retryMs = await fn(head.value);
      // the monitor pass may have removed or requeued it meanwhile
      const i = this.queue.indexOf(head);
      if (i < 0) continue;
      this.queue.splice(i, 1);
      if (retryMs !== undefined) this.insert({ value: head.value, processAt: now + retryMs + 1 });
    }
  }

  private insert(e: { value: string; processAt: number }): void {
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.processAt > e.processAt) i--;
    this.queue.splice(i, 0, e);
  }
}
