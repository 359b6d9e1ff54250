/** The apiserver's metrics, with upstream names and labels. */
import type { Verb } from '../../lib/client/mod.js';
import { APISERVER_LATENCY_BUCKETS, APISERVER_SLI_BUCKETS, client, newRegistry } from '../../lib/metrics/mod.js';

export class ApiServerMetrics {
  readonly registry = newRegistry('apiserver');
  readonly requests = new client.Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'],
    registers: [this.registry],
  });
  readonly duration = new client.Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    buckets: APISERVER_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  /** What the kubernetes-mixin's availability SLO counts (1 s, 5 s, 30 s buckets). Flotilla has no webhooks or APF queue to subtract, so it equals the request duration. */
  readonly sliDuration = new client.Histogram({
    name: 'apiserver_request_sli_duration_seconds',
    help: 'Response latency distribution (not counting webhook duration and priority & fairness queue wait times) in seconds for each verb, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    buckets: APISERVER_SLI_BUCKETS,
    registers: [this.registry],
  });
  readonly inflight = new client.Gauge({
    name: 'apiserver_current_inflight_requests',
    help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
    labelNames: ['request_kind'],
    registers: [this.registry],
  });
  readonly watchers = new client.Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Number of currently registered watchers for a given resources',
    labelNames: ['group', 'version', 'kind'],
    registers: [this.registry],
  });
  readonly storageObjects = new client.Gauge({
    name: 'apiserver_storage_objects',
    help: 'Number of stored objects at the time of last check split by kind.',
    labelNames: ['resource'],
    registers: [this.registry],
  });

  observe(l: RequestLabels, code: number, seconds: number): void {
    const base = {
      verb: l.verb,
      dry_run: l.dryRun ? 'All' : '',
      group: l.group,
      version: l.version,
      resource: l.resource,
      subresource: l.subresource ?? '',
      scope: l.scope,
      component: l.component,
    };
    this.requests.inc({ ...base, code: String(code) });
    if (l.verb !== 'WATCH') {
      this.duration.observe(base, seconds);
      const { dry_run: _, ...sli } = base;
      this.sliDuration.observe(sli, seconds);
    }
  }
}

const UPSTREAM_VERB: Record<Verb, string> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETECOLLECTION',
};

/** The `verb` label upstream gives a request, whether it came over HTTP or NATS. */
export function upstreamVerb(verb: Verb): string {
  return UPSTREAM_VERB[verb] ?? String(verb).toUpperCase();
}

export interface RequestLabels {
  /** upstream verb label: GET LIST WATCH POST PUT PATCH DELETE DELETECOLLECTION */
  verb: string;
  dryRun?: boolean;
  group: string;
  version: string;
  resource: string;
  subresource?: string;
  /** resource | namespace | cluster */
  scope: string;
  /** apiserver (HTTP) or nats */
  component: string;
}
