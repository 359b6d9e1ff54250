/**
 * Leader election on coordination.k8s.io/v1 Lease objects, with client-go's semantics:
 * a candidate takes the lease when it is free or its holder has not renewed it for
 * leaseDurationSeconds *as observed on the candidate's own clock* (so clock skew
 * between machines does not matter); the leader renews every retryPeriod and gives up
 * leadership when it could not renew within renewDeadline. Every write is a
 * compare-and-swap on the lease's resourceVersion, so two candidates cannot both win.
 *
 * Unlike client-go, a standby does not learn of renewals only by polling: it watches the
 * Lease, so it observes each renewal as it happens, and it wakes when the lease it observed
 * runs out instead of at its next poll. A standby therefore takes over about
 * leaseDuration after the holder's last renewal (client-go: up to leaseDuration plus two
 * jittered retry periods, ~8.8 s more with the defaults). It still only takes a lease that
 * has expired by its own observation; polls every retryPeriod remain the fallback.
 */
import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import { isNotFound } from '../api/errors.js';
import { metaMicroTime } from '../api/time.js';
import type { ApiClient } from './client.js';
import type { Watch } from './watch.js';
import { Resources } from './resources.js';
import type { ResourceRef } from './protocol.js';
import { sleep } from './retry.js';

/** client-go's JitterFactor: a waiting candidate sleeps retryPeriod * (1 .. 2.2). */
const JITTER_FACTOR = 1.2;

export interface LeaderCallbacks {
  /** this candidate now leads; signal aborts when it stops leading */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** leadership ended (lost, or given up on stop); only called after onStartedLeading */
  onStoppedLeading(): void;
  /** someone (possibly this candidate) was seen to hold the lease */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  client: ApiClient;
  /** namespace and name of the Lease */
  namespace: string;
  name: string;
  /** this candidate's identity, unique among candidates (e.g. hostname + random) */
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** give the lease up when stopped, so a standby takes over at once (default true) */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  /** told about failed lease reads and writes (default: ignored; they are retried) */
  onError?: (err: unknown) => void;
}

function sameRecord(a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

export class LeaderElector {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly ref: ResourceRef;
  private observedRecord?: LeaseSpec;
  private observedLease?: Lease;
  /** local clock time when the observed record last changed */
  private observedTime = 0;
  private reportedLeader = '';
  private leading = false;
  private stopped = false;
  private release = true;
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  /** set by the last attempt when it found the lease validly held by someone else */
  private declinedHeldLease = false;
  /** ends the current stand-by wait early (the watch saw the lease given up) */
  private wakeStandby?: () => void;

  constructor(readonly config: LeaderElectionConfig) {
    this.leaseDurationMs = (config.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadlineMs = (config.renewDeadlineSeconds ?? 10) * 1000;
    this.retryPeriodMs = (config.retryPeriodSeconds ?? 2) * 1000;
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) throw new Error(`renewDeadline must be greater than retryPeriod*${JITTER_FACTOR}`);
    if (!config.identity) throw new Error('leader election requires an identity');
    this.release = config.releaseOnCancel ?? true;
    this.ref = { ...Resources.leases, namespace: config.namespace, name: config.name };
  }

  /** True while this candidate holds the lease. */
  isLeader(): boolean {
    return this.leading && this.observedRecord?.holderIdentity === this.config.identity;
  }

  /** The identity last seen holding the lease ("" if none). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /**
   * Campaigns until this candidate leads, then renews until leadership is lost or
   * stop() is called. Resolves when it is over (as client-go's Run returns; a component
   * that loses leadership is expected to exit and be restarted).
   */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Stops campaigning or leading; releases the lease unless told not to (or releaseOnCancel is false). */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (opts.release !== undefined) this.release = opts.release;
    this.stopped = true;
    this.abort.abort(new Error('leader election stopped'));
    await this.running;
  }

  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, this.abort.signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Local clock time when the lease observed held by someone else runs out. */
  private observedExpiry(): number | undefined {
    const holder = this.observedRecord?.holderIdentity ?? '';
    if (holder === '' || holder === this.config.identity) return undefined;
    return this.observedTime + (this.observedRecord?.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
  }

  /**
   * Waits before the next attempt to acquire: the next poll (retryPeriod with client-go's
   * jitter), or the moment the lease last found held by someone else expires by this
   * candidate's observation, if that comes first; at once when the watch sees the lease
   * given up. False when stopped.
   */
  private standBy(): Promise<boolean> {
    let ms = this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR);
    const expiry = this.declinedHeldLease ? this.observedExpiry() : undefined;
    // +1 ms: a timer may fire a fraction of a millisecond before Date.now() reaches the expiry
    if (expiry !== undefined) ms = Math.min(ms, Math.max(0, expiry - Date.now()) + 1);
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const finish = (proceed: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.wakeStandby === wake) this.wakeStandby = undefined;
        resolve(proceed);
      };
      const onAbort = (): void => finish(false);
      const wake = (): void => finish(true);
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.wakeStandby = wake;
    });
  }

  /**
   * Watches the lease while standing by, so every renewal is observed when it is written
   * rather than at the next poll. Returns the function that ends the watch.
   */
  private followLease(): () => void {
    let ended = false;
    let current: Watch<Lease> | undefined;
    const follow = async (): Promise<void> => {
      while (!ended && !this.stopped) {
        try {
          current = this.config.client.watch<Lease>(this.ref);
          for await (const ev of current) {
            if (ended) break;
            if (ev.type === 'DELETED') {
              this.wakeStandby?.();
            } else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
              this.observeIfNewer(ev.object);
              if (!ev.object.spec?.holderIdentity) this.wakeStandby?.();
            }
          }
        } catch (e) {
          if (!ended) this.fail(e);
        }
        // the watch ended (server timeout, apiserver gone): polls cover the gap until it is back
        if (ended || !(await this.pause(this.retryPeriodMs))) break;
      }
    };
    void follow();
    return () => {
      ended = true;
      current?.stop();
    };
  }

  /** Observes a watched lease unless it is older than the one already observed. */
  private observeIfNewer(lease: Lease): void {
    const rv = Number(lease.metadata?.resourceVersion);
    const seen = Number(this.observedLease?.metadata?.resourceVersion);
    if (Number.isFinite(rv) && Number.isFinite(seen) && rv <= seen) return;
    this.observe(lease);
  }

  private async campaign(): Promise<void> {
    // acquire
    const unfollow = this.followLease();
    try {
      while (!this.stopped) {
        if (await this.tryAcquireOrRenew(this.retryPeriodMs * 2)) break;
        if (!(await this.standBy())) break;
      }
    } finally {
      unfollow();
    }
    if (this.stopped) {
      // stopped while an acquire was in flight that took the lease: give it back, or a
      // standby waits a whole lease duration for a candidate that never led
      if (this.release && this.observedRecord?.holderIdentity === this.config.identity) await this.releaseLease();
      return;
    }
    this.leading = true;
    const leadership = new AbortController();
    Promise.resolve()
      .then(() => this.config.callbacks.onStartedLeading(leadership.signal))
      .catch((e) => console.error(`leader election ${this.config.namespace}/${this.config.name}: onStartedLeading failed: ${e instanceof Error ? e.stack : e}`));
    // renew
    renewing: while (!this.stopped) {
      const deadline = Date.now() + this.renewDeadlineMs;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) break renewing;
        if (await this.tryAcquireOrRenew(left)) break;
        if (this.stopped) break renewing;
        if (!(await this.pause(Math.min(this.retryPeriodMs, Math.max(0, deadline - Date.now()))))) break renewing;
      }
      if (!(await this.pause(this.retryPeriodMs))) break;
    }
    const wasLeader = this.isLeader();
    this.leading = false;
    leadership.abort(new Error('leadership lost'));
    if (this.stopped && this.release && wasLeader) await this.releaseLease();
    this.config.callbacks.onStoppedLeading();
  }

  private observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    this.observedLease = lease;
    if (!sameRecord(spec, this.observedRecord)) {
      this.observedRecord = spec;
      this.observedTime = Date.now();
    }
    const holder = spec.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      try {
        this.config.callbacks.onNewLeader?.(holder);
      } catch (e) {
        console.error(`leader election ${this.config.namespace}/${this.config.name}: onNewLeader failed: ${e instanceof Error ? e.stack : e}`);
      }
    }
  }

  private fail(e: unknown): false {
    this.config.onError?.(e);
    return false;
  }

  /** One attempt to take or keep the lease; false when someone else holds it or the write lost a race. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    this.declinedHeldLease = false;
    try {
      return await withTimeout(this.acquireOrRenewOnce(), timeoutMs, `lease ${this.config.namespace}/${this.config.name} update`);
    } catch (e) {
      return this.fail(e);
    }
  }

  private async acquireOrRenewOnce(): Promise<boolean> {
    const { client, identity } = this.config;
    const now = metaMicroTime();
    const desired: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    let lease: Lease;
    try {
      lease = await client.get<Lease>(this.ref);
    } catch (e) {
      if (!isNotFound(e)) return this.fail(e);
      try {
        const created = await client.create<Lease>(this.ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { namespace: this.config.namespace, name: this.config.name },
          spec: desired,
        });
        this.observe(created);
        return true;
      } catch (e2) {
        return this.fail(e2);
      }
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    if (holder !== '' && holder !== identity && this.observedTime + durationMs > Date.now()) {
      this.declinedHeldLease = true;
      return false;
    }
    if (holder === identity) {
      desired.acquireTime = spec.acquireTime;
      desired.leaseTransitions = spec.leaseTransitions ?? 0;
    } else {
      desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    try {
      const updated = await client.update<Lease>(this.ref, { ...lease, spec: { ...spec, ...desired } });
      this.observe(updated);
      return true;
    } catch (e) {
      // a Conflict means another candidate wrote first: it leads, not us
      return this.fail(e);
    }
  }

  /** Hands the lease back (no holder, 1 s duration) so a standby need not wait it out. */
  private async releaseLease(): Promise<void> {
    const lease = this.observedLease;
    if (!lease) return;
    const now = metaMicroTime();
    const spec: LeaseSpec = {
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    };
    try {
      const updated = await withTimeout(this.config.client.update<Lease>(this.ref, { ...lease, spec }), this.renewDeadlineMs, `release of lease ${this.config.namespace}/${this.config.name}`);
      this.observe(updated);
    } catch (e) {
      this.fail(e);
    }
  }
}
