/** The metrics library's public surface: one registry per process and the endpoint that serves it. */
export { APISERVER_LATENCY_BUCKETS, APISERVER_SLI_BUCKETS, client, newRegistry, renderMetrics } from './registry.js';
export { listenHttp, serveMetrics, type HealthServer, type ListeningServer } from './server.js';
export { TARGETS_SUBJECT, announceTargets, discoverTargets, targetAddress, type ScrapeTarget } from './targets.js';
export { LabelledChildren } from './children.js';
