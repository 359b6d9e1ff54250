/**
 * The Prometheus of the monitoring addon as the dashboard's server asks it (the browser
 * never does): instant queries and ranges over its HTTP API, and the PromQL of every
 * chart. The selectors are kube-prometheus' job names, as `flotilla up` scrapes them
 * (docs/monitoring.md#prometheus). Usage is the containers' (cAdvisor's series), so it
 * compares with what the pods request.
 */

/** One series of an instant vector or a matrix: its labels and its points (seconds, value). */
export interface PromSeries {
  metric: Record<string, string>;
  values: Array<[number, number]>;
}

const RATE = '1m';
const CADVISOR = 'job="kubelet", metrics_path="/metrics/cadvisor", container!=""';

/** A label value inside PromQL double quotes. */
export function promString(s: string): string {
  return JSON.stringify(s);
}

/** 0 rather than nothing while `job` is scraped but the series has no sample yet (no pod scheduled, no container) */
const orZero = (q: string, job: string) => `(${q}) or (sum(up{job="${job}"}) * 0)`;

export const PROMQL = {
  scheduled: orZero(`sum(rate(scheduler_schedule_attempts_total{job="kube-scheduler", result="scheduled"}[${RATE}]))`, 'kube-scheduler'),
  pending: 'sum(scheduler_pending_pods{job="kube-scheduler"})',
  apiRate: `sum(rate(apiserver_request_total{job="apiserver"}[${RATE}]))`,
  apiP99: `histogram_quantile(0.99, sum by (le) (rate(apiserver_request_duration_seconds_bucket{job="apiserver", verb!~"WATCH|CONNECT"}[${RATE}])))`,
  cpuUsage: orZero(`sum(rate(container_cpu_usage_seconds_total{${CADVISOR}}[${RATE}]))`, 'kubelet'),
  memUsage: orZero(`sum(container_memory_working_set_bytes{${CADVISOR}})`, 'kubelet'),
  nodeCpu: `sum by (node) (rate(container_cpu_usage_seconds_total{${CADVISOR}}[${RATE}]))`,
  nodeMemory: `sum by (node) (container_memory_working_set_bytes{${CADVISOR}})`,
  podCpu: (ns: string, pod: string) => `sum by (container) (rate(container_cpu_usage_seconds_total{${CADVISOR}, namespace=${promString(ns)}, pod=${promString(pod)}}[${RATE}]))`,
  podMemory: (ns: string, pod: string) => `sum by (container) (container_memory_working_set_bytes{${CADVISOR}, namespace=${promString(ns)}, pod=${promString(pod)}})`,
};

export class PrometheusApi {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 4000,
  ) {}

  /** The instant vector of `query` at `time` (seconds); each series has one point. */
  async query(query: string, time: number): Promise<PromSeries[]> {
    const data = await this.get('query', { query, time: String(time) });
    if (data.resultType === 'scalar') return [{ metric: {}, values: [[data.result[0], Number(data.result[1])]] }];
    return (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({ metric: r.metric, values: [[r.value[0], Number(r.value[1])]] }));
  }

  /** The range of `query` from start to end (seconds) every step seconds. */
  async queryRange(query: string, start: number, end: number, step: number): Promise<PromSeries[]> {
    const data = await this.get('query_range', { query, start: String(start), end: String(end), step: String(step) });
    return (data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>).map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [t, Number(v)]) }));
  }

  private async get(path: string, params: Record<string, string>): Promise<any> {
    const url = `${this.url}/api/v1/${path}?${new URLSearchParams(params)}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new Error(`prometheus at ${this.url}: ${(e as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { status?: string; data?: unknown; error?: string };
    if (!res.ok || body.status !== 'success') throw new Error(`prometheus at ${this.url}: ${path} ${params.query}: HTTP ${res.status} ${body.error ?? ''}`.trim());
    return body.data;
  }
}

/** The one value of a sum() at an instant (null when the vector is empty: nothing scraped yet). */
export function scalarOf(series: PromSeries[]): number | null {
  const v = series[0]?.values[0]?.[1];
  return v === undefined || Number.isNaN(v) ? null : v;
}
