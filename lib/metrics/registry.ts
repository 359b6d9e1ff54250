/**
 * Metrics helpers shared by every service: one prom-client Registry per process with
 * the default process metrics, and the upstream histogram buckets.
 */
import client from 'prom-client';

export { client };

export function newRegistry(component: string): client.Registry {
  const reg = new client.Registry();
  reg.setDefaultLabels({});
  client.collectDefaultMetrics({ register: reg });
  void component;
  return reg;
}

/** apiserver_request_duration_seconds buckets, as upstream. */
export const APISERVER_LATENCY_BUCKETS = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
];

/** apiserver_request_sli_duration_seconds buckets, as upstream: from 50 ms. */
export const APISERVER_SLI_BUCKETS = [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

/** Renders the registry for a GET /metrics response. */
export async function renderMetrics(reg: client.Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: reg.contentType, body: await reg.metrics() };
}
