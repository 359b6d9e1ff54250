/**
 * Prometheus' configuration for a Flotilla cluster: one scrape job per component, named
 * as the kubernetes-mixin dashboards select them, each fed by a file_sd file the
 * launcher rewrites as components and kubelet processes come and go (targets.ts).
 */
import path from 'node:path';
import YAML from 'yaml';

/** The scrape jobs the kubernetes-mixin dashboards (as kube-prometheus configures them) select. */
export const SCRAPE_JOBS = ['apiserver', 'kube-scheduler', 'kube-controller-manager', 'kubelet', 'kube-state-metrics', 'kube-proxy', 'coredns'] as const;

/** The scrape config for announced targets of any other job (they carry their job as a label). */
export const OTHER_JOBS = 'flotilla-addons';

export interface PrometheusLayout {
  /** <data>/prometheus */
  dir: string;
  config: string;
  /** the TSDB */
  data: string;
  /** file_sd files, one per scrape job */
  targets: string;
  /** the recording rules (rules.ts) */
  rules: string;
}

export function prometheusLayout(dataDir: string): PrometheusLayout {
  const dir = path.join(dataDir, 'prometheus');
  return { dir, config: path.join(dir, 'prometheus.yml'), data: path.join(dir, 'data'), targets: path.join(dir, 'targets'), rules: path.join(dir, 'rules.yml') };
}

/** The file_sd file of a scrape job. */
export function targetsFile(layout: PrometheusLayout, job: string): string {
  return path.join(layout.targets, `${job}.json`);
}

/** Go's duration text of whole milliseconds (Prometheus reads 1s, 1500ms, 15s). */
function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** prometheus.yml: every job from its file_sd file, re-read within refreshMs of a change. */
export function renderPrometheusConfig(layout: PrometheusLayout, scrapeIntervalMs: number): string {
  const fileSd = (job: string) => [{ files: [targetsFile(layout, job)], refresh_interval: goDuration(Math.max(1000, scrapeIntervalMs)) }];
  const jobs = SCRAPE_JOBS.map((job) => ({
    job_name: job,
    // a hollow-kubelet process labels each series with its node: those labels win over the target's
    ...(job === 'kubelet' ? { honor_labels: true } : {}),
    file_sd_configs: fileSd(job),
    // kube-prometheus' kubelet ServiceMonitor keeps the path: dashboards select metrics_path="/metrics/cadvisor"
    ...(job === 'kubelet' ? { relabel_configs: [{ source_labels: ['__metrics_path__'], target_label: 'metrics_path' }] } : {}),
  }));
  const config = {
    global: {
      scrape_interval: goDuration(scrapeIntervalMs),
      scrape_timeout: goDuration(Math.min(10_000, scrapeIntervalMs)),
      evaluation_interval: goDuration(scrapeIntervalMs),
    },
    rule_files: [layout.rules],
    scrape_configs: [...jobs, { job_name: OTHER_JOBS, file_sd_configs: fileSd(OTHER_JOBS) }],
  };
  return `# written by flotilla up; rewritten at every start\n${YAML.stringify(config)}`;
}
