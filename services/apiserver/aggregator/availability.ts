/**
 * The APIService availability controller, as kube-aggregator's: every APIService gets an
 * `Available` condition. A local one (no spec.service) is always available; a remote one
 * is available when its Service resolves to a ready endpoint and that endpoint answers
 * GET /apis/<group>/<version>. The answer (an APIResourceList) is kept: it is what
 * discovery lists for the group version. Checks run when an APIService, Service or
 * EndpointSlice changes and every `intervalMs`.
 */
import { isConflict, isNotFound } from '../../../lib/api/errors.js';
import { findKind } from '../kinds.js';
import { now, type ObjectStorage } from '../storage.js';
import { EndpointResolveError, type ApiServiceIndex } from './targets.js';

export interface Availability {
  available: boolean;
  reason: string;
  message: string;
  /** the APIResourceList the service answered its discovery check with */
  resources?: any;
  /** when this was decided (ms) */
  at: number;
}

/** how long the discovery check waits for an answer (upstream: 5 s) */
const DISCOVERY_CHECK_TIMEOUT_MS = 5_000;

export class AvailabilityController {
  private readonly state = new Map<string, Availability>();
  private timer?: NodeJS.Timeout;
  private soon?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private unsubscribe: Array<() => void> = [];
  private stopped = false;
  private readonly kind = findKind('apiregistration.k8s.io', 'v1', 'apiservices')!;

  constructor(
    private readonly index: ApiServiceIndex,
    private readonly storage: ObjectStorage,
    private readonly intervalMs = 10_000,
  ) {}

  /** What the last check found for an APIService (by name). */
  get(name: string): Availability | undefined {
    return this.state.get(name);
  }

  start(): void {
    const cache = this.index.cache;
    const from = cache.revision;
    for (const r of [this.index.resource, findKind('', 'v1', 'services')!.storage, findKind('discovery.k8s.io', 'v1', 'endpointslices')!.storage]) {
      this.unsubscribe.push(cache.subscribe(r, from, () => this.checkSoon()));
    }
    this.timer = setInterval(() => this.checkSoon(), this.intervalMs);
    this.timer.unref();
    this.checkSoon();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    for (const u of this.unsubscribe) u();
    await this.running;
  }

  /** Checks every APIService shortly (changes come in bursts: one check for the burst). */
  checkSoon(): void {
    if (this.stopped || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.checkAll().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.checkSoon();
        }
      });
    }, 50);
    this.soon.unref();
  }

  /** Checks every APIService now and writes the conditions that changed. */
  async checkAll(): Promise<void> {
    const all = this.index.list();
    const names = new Set(all.map((a) => a.metadata.name as string));
    for (const n of this.state.keys()) if (!names.has(n)) this.state.delete(n);
    await Promise.all(
      all.map(async (a) => {
        const result = await this.check(a);
        if (this.stopped) return;
        this.state.set(a.metadata.name, result);
        await this.writeCondition(a.metadata.name, result);
      }),
    );
  }

  private async check(apiService: any): Promise<Availability> {
    const at = Date.now();
    if (!apiService.spec?.service) return { available: true, reason: 'Local', message: 'Local APIServices are always available', at };
    let endpoint: string;
    try {
      endpoint = this.index.resolve(apiService);
    } catch (e) {
      if (e instanceof EndpointResolveError) return { available: false, reason: e.reason, message: e.message, at };
      throw e;
    }
    const url = `http://${endpoint}/apis/${apiService.spec.group}/${apiService.spec.version}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(DISCOVERY_CHECK_TIMEOUT_MS), headers: { Accept: 'application/json' } });
      const body = await res.text();
      // upstream counts 401 and 403 as an answering server too
      if (!(res.status >= 200 && res.status < 300) && res.status !== 401 && res.status !== 403) {
        return { available: false, reason: 'FailedDiscoveryCheck', message: `failing or missing response from ${url}: bad status from ${url}: ${res.status}`, at };
      }
      let resources: any;
      try {
        resources = JSON.parse(body);
      } catch {
        resources = undefined;
      }
      return { available: true, reason: 'Passed', message: 'all checks passed', resources, at };
    } catch (e) {
      const err = e as Error & { cause?: Error };
      return { available: false, reason: 'FailedDiscoveryCheck', message: `failing or missing response from ${url}: ${err.cause?.message ?? err.message}`, at };
    }
  }

  private async writeCondition(name: string, a: Availability): Promise<void> {
    const current = this.storage.cache.get(this.kind.storage, '', name)?.obj;
    if (!current) return;
    const status = a.available ? 'True' : 'False';
    const conditions: any[] = current.status?.conditions ?? [];
    const old = conditions.find((c) => c.type === 'Available');
    if (old && old.status === status && old.reason === a.reason && old.message === a.message) return;
    const condition = { type: 'Available', status, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now(), reason: a.reason, message: a.message };
    const next = structuredClone(current);
    next.status = { ...(next.status ?? {}), conditions: [...conditions.filter((c) => c.type !== 'Available'), condition] };
    try {
      await this.storage.update(this.kind, '', name, next, { warnings: [], fieldManager: 'kube-apiserver' }, 'status');
    } catch (e) {
      // another apiserver wrote first, or the APIService went: the next check sees it
      if (!isConflict(e) && !isNotFound(e)) throw e;
    }
  }
}
