/**
 * Prometheus as an addon of `flotilla up`: Debian's `prometheus` (2.42) run as one more
 * supervised child, on 127.0.0.1 with its config, file_sd targets and TSDB under
 * <data>/prometheus. The Debian package's own service (prometheus.service, port 9090,
 * /var/lib/prometheus) is never used; when the binary is missing up says how to install
 * it and runs without.
 */
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../lib/client/mod.js';
import { announceTargets, targetAddress } from '../../lib/metrics/mod.js';
import { choosePort, processes, terminate } from '../datafolder.js';
import { SupervisedProcess, type SupervisorOutput } from '../supervisor.js';
import { prometheusLayout, renderPrometheusConfig, type PrometheusLayout } from './config.js';
import { renderRecordingRules } from './rules.js';
import { TargetFiles } from './targets.js';

export const DEFAULT_PROMETHEUS_PORT = 9090;
export const PROMETHEUS_INSTALL = 'sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus';

/** The prometheus binary: PROMETHEUS_BIN, else PATH (Debian: /usr/bin/prometheus); undefined when it is not there. */
export function prometheusBinary(): string | undefined {
  const candidates = process.env.PROMETHEUS_BIN
    ? [process.env.PROMETHEUS_BIN]
    : [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin'].map((d) => path.join(d, 'prometheus'));
  for (const p of candidates) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* try the next folder */
    }
  }
  return undefined;
}

export function prometheusArgs(layout: PrometheusLayout, port: number): string[] {
  return [
    `--config.file=${layout.config}`,
    `--storage.tsdb.path=${layout.data}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ];
}

/** prometheus processes on this config file (a launcher killed outright left them). */
export function strayPrometheus(config: string): number[] {
  return processes()
    .filter(({ argv }) => argv[0]?.endsWith('prometheus') && argv.includes(`--config.file=${config}`))
    .map(({ pid }) => pid);
}

export interface PrometheusAddonOptions {
  dataDir: string;
  natsUrl: string;
  /** default 9090; a busy port is replaced by a free one; 0 = any */
  port?: number;
  /** scrape and evaluation interval, and how often targets are rediscovered (at most 5 s) */
  scrapeIntervalMs: number;
  out: SupervisorOutput;
  prefixWidth: number;
}

export class PrometheusAddon {
  process: SupervisedProcess | undefined;
  url = '';
  private nc: NatsConnection | undefined;
  private targets: TargetFiles | undefined;
  private announced: { stop(): void } | undefined;
  readonly layout: PrometheusLayout;

  constructor(private readonly opts: PrometheusAddonOptions) {
    this.layout = prometheusLayout(opts.dataDir);
  }

  /** Starts it and waits until it is ready; false (after one line saying why) when it cannot run here. */
  async start(): Promise<boolean> {
    const log = this.opts.out.log;
    const bin = prometheusBinary();
    if (!bin) {
      log(`prometheus is not installed: running without it; install it with: ${PROMETHEUS_INSTALL}`);
      return false;
    }
    for (const pid of strayPrometheus(this.layout.config)) {
      log(`stopping prometheus pid ${pid}, left running on this data folder by a launcher that was killed`);
      await terminate(pid);
    }
    mkdirSync(this.layout.data, { recursive: true });
    writeFileSync(this.layout.config, renderPrometheusConfig(this.layout, this.opts.scrapeIntervalMs));
    writeFileSync(this.layout.rules, renderRecordingRules());
    this.nc = await connectNats(this.opts.natsUrl, { name: 'flotilla-up/prometheus-targets' });
    this.targets = new TargetFiles(this.nc, this.layout, Math.min(5000, this.opts.scrapeIntervalMs), log);
    this.targets.start();
    const wanted = this.opts.port ?? DEFAULT_PROMETHEUS_PORT;
    const { port, moved } = await choosePort(wanted);
    if (moved && wanted) log(`prometheus port ${wanted} is busy; using ${port}`);
    this.url = `http://127.0.0.1:${port}`;
    this.process = new SupervisedProcess({ name: 'prometheus', command: bin, args: prometheusArgs(this.layout, port) }, this.opts.out, this.opts.prefixWidth);
    this.process.start();
    await this.waitReady(60_000);
    // found over NATS like every other target: the dashboard's charts ask it (job prometheus)
    this.announced = announceTargets(this.nc, () => [{ job: 'prometheus', address: targetAddress(this.url) }]);
    log(`prometheus on ${this.url} (its targets: ${this.url}/targets; config ${this.layout.config})`);
    return true;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        await res.text();
        if (res.ok) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`prometheus at ${this.url} is not ready after ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<void> {
    this.announced?.stop();
    await this.targets?.stop();
    await this.process?.stop();
    await this.nc?.close().catch(() => undefined);
  }

  killNow(): void {
    this.process?.killNow();
  }
}
