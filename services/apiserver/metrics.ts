/** The apiserver's metrics, with upstream names and labels. */
import type { Verb } from '../../lib/client/mod.js';
import { APISERVER_LATENCY_BUCKETS, APISERVER_SLI_BUCKETS, client, LabelledChildren, newRegistry } from '../../lib/metrics/mod.js';

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

  private readonly requestChildren = new LabelledChildren(this.requests);
  private readonly durationChildren = new LabelledChildren(this.duration);
  private readonly sliDurationChildren = new LabelledChildren(this.sliDuration);

  /** Each metric's child is found by one Map lookup of a joined key: no label objects per request. */
  observe(l: RequestLabels, code: number, seconds: number): void {
    const dryRun = l.dryRun ? 'All' : '';
    const subresource = l.subresource ?? '';
    // label values hold no newline (verbs, API groups, versions, resources, scopes, components)
    const key = `${l.verb}\n${dryRun}\n${l.group}\n${l.version}\n${l.resource}\n${subresource}\n${l.scope}\n${l.component}`;
    const base = () => ({ verb: l.verb, dry_run: dryRun, group: l.group, version: l.version, resource: l.resource, subresource, scope: l.scope, component: l.component });
    this.requestChildren.child(`${key}\n${code}`, () => ({ ...base(), code: String(code) })).inc();
    if (l.verb !== 'WATCH') {
      this.durationChildren.child(key, base).observe(seconds);
      // keyed with dry_run, which the SLI histogram has not: both keys' children record into one series
      this.sliDurationChildren
        .child(key, () => {
          const { dry_run: _, ...sli } = base();
          return sli;
        })
        .observe(seconds);
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
