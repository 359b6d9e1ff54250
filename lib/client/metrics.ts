/** client-go's rest_client_requests_total and rest_client_request_duration_seconds, per verb and host. */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Verb } from './protocol.js';

const HTTP_METHOD: Record<Verb, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

export class ClientMetrics {
  private readonly requests: Counter<'code' | 'method' | 'host'>;
  private readonly duration: Histogram<'verb' | 'host'>;
  constructor(registry: Registry) {
    const registers = [registry];
    this.requests =
      (registry.getSingleMetric('rest_client_requests_total') as Counter<'code' | 'method' | 'host'> | undefined) ??
      new Counter({
        name: 'rest_client_requests_total',
        help: 'Number of HTTP requests, partitioned by status code, method, and host.',
        labelNames: ['code', 'method', 'host'],
        registers,
      });
    this.duration =
      (registry.getSingleMetric('rest_client_request_duration_seconds') as Histogram<'verb' | 'host'> | undefined) ??
      new Histogram({
        name: 'rest_client_request_duration_seconds',
        help: 'Request latency in seconds. Broken down by verb, and host.',
        labelNames: ['verb', 'host'],
        buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
        registers,
      });
  }
  observe(verb: Verb, host: string, code: string, seconds: number): void {
    const method = HTTP_METHOD[verb];
    this.requests.inc({ code, method, host });
    this.duration.observe({ verb: method, host }, seconds);
  }
}
