/**
 * The proxy's metrics under upstream kube-proxy's names and buckets
 * (pkg/proxy/metrics), so the kubernetes-mixin's proxy dashboard reads them.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** upstream: exponential buckets from 1 ms, doubling, 15 of them */
const SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

/** upstream: 0.25 s and 0.5 s, every second to a minute, then coarser to 5 min */
const PROGRAMMING_BUCKETS = [
  0.25, 0.5,
  ...Array.from({ length: 59 }, (_, i) => i + 1),
  ...Array.from({ length: 12 }, (_, i) => 60 + 5 * i),
  ...Array.from({ length: 7 }, (_, i) => 120 + 30 * i),
];

export class ProxyMetrics {
  readonly syncDuration: Histogram;
  readonly lastSync: Gauge;
  readonly lastQueued: Gauge;
  readonly programmingDuration: Histogram;
  readonly syncFailures: Counter;
  readonly ruleCount: Gauge<'table' | 'chain'>;

  constructor(registry: Registry) {
    this.syncDuration = new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      buckets: SYNC_BUCKETS,
      registers: [registry],
    });
    this.lastSync = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
      help: 'The last time proxy rules were successfully synced',
      registers: [registry],
    });
    this.lastQueued = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
      help: 'The last time a sync of proxy rules was queued',
      registers: [registry],
    });
    this.programmingDuration = new Histogram({
      name: 'kubeproxy_network_programming_duration_seconds',
      help: 'In Cluster Network Programming Latency in seconds',
      buckets: PROGRAMMING_BUCKETS,
      registers: [registry],
    });
    this.syncFailures = new Counter({
      name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
      help: 'Number of failed nftables syncs',
      registers: [registry],
    });
    this.ruleCount = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_nftables_objects',
      help: 'Number of nftables chains and rules the proxy programs',
      labelNames: ['table', 'chain'],
      registers: [registry],
    });
  }
}
