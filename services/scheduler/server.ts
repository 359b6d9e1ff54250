/**
 * One scheduler process's life: connect to NATS, read the configuration, warm the caches,
 * serve /metrics /healthz /readyz, and schedule while holding the Lease
 * kube-system/kube-scheduler (upstream's leader election; a standby keeps warm caches and
 * takes over when the leader lets go or stops renewing). Used by `flotilla scheduler`
 * and by the tests.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, componentUserAgent, connectNats, LeaderElector } from '../../lib/client/mod.js';
import { announceTargets, newRegistry, serveMetrics, targetAddress } from '../../lib/metrics/mod.js';
import type { BatchBindClient } from './binding.js';
import { defaultSchedulerConfiguration, parseSchedulerConfiguration, type SchedulerConfiguration } from './config.js';
import { checkCoreAvailable, defaultCoreKind } from './core/mod.js';
import type { CoreKind } from './core/types.js';
import { SchedulerMetrics } from './metrics.js';
import { inTreeRegistry } from './plugins/registry.js';
import { Scheduler } from './scheduler.js';
import { startTracing, type TracingOptions } from '../../lib/tracing/mod.js';

export interface StartSchedulerOptions {
  natsUrl: string;
  /** a KubeSchedulerConfiguration document (YAML or JSON); default: upstream's defaults */
  configText?: string;
  /** HTTP port of /metrics, /healthz, /readyz (default 10259; 0 = any free port) */
  port?: number;
  /** campaign for the lease before scheduling (default: the configuration's leaderElection.leaderElect) */
  leaderElect?: boolean;
  /** leader-election identity and events' reportingInstance (default: hostname_<random>) */
  identity?: string;
  coreKind?: CoreKind;
  /** pods per scheduling cycle */
  batchSize?: number;
  /** where bindings go (default: the API client); tests inject failures here */
  bindClient?: (client: ApiClient) => BatchBindClient;
  log?: (line: string) => void;
  /** trace the cycles of pods whose create was sampled (absent: no tracing; the `scheduler` command always passes it) */
  tracing?: Omit<TracingOptions, 'service' | 'nc'>;
}

export interface RunningScheduler {
  readonly metricsUrl: string;
  readonly identity: string;
  readonly scheduler: Scheduler;
  readonly config: SchedulerConfiguration;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export const DEFAULT_SCHEDULER_PORT = 10259;

export async function startScheduler(opts: StartSchedulerOptions): Promise<RunningScheduler> {
  const config = opts.configText !== undefined ? parseSchedulerConfiguration(opts.configText) : defaultSchedulerConfiguration();
  const coreKind = opts.coreKind ?? defaultCoreKind();
  checkCoreAvailable(coreKind);
  const identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
  const log = opts.log ?? ((line: string) => process.stderr.write(`scheduler: ${line}\n`));
  const registry = newRegistry('scheduler');
  const metrics = new SchedulerMetrics(registry);
  metrics.startProfiles(config.profiles.map((p) => p.schedulerName));
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `scheduler/${identity}` });
  const client = new ApiClient(nc, { registry, userAgent: componentUserAgent('kube-scheduler') });
  const tracing = opts.tracing ? await startTracing({ ...opts.tracing, service: 'kube-scheduler', nc }) : undefined;
  const scheduler = new Scheduler({
    client,
    config,
    metrics,
    identity,
    coreKind,
    registry: inTreeRegistry,
    batchSize: opts.batchSize,
    bindClient: opts.bindClient?.(client),
    log,
    tracer: tracing?.tracer,
  });
  let http: Awaited<ReturnType<typeof serveMetrics>>;
  try {
    http = await serveMetrics(registry, opts.port ?? DEFAULT_SCHEDULER_PORT, () => scheduler.hasSynced());
  } catch (e) {
    await scheduler.stop();
    client.close();
    await tracing?.shutdown();
    await nc.close();
    throw e;
  }
  try {
    await scheduler.startInformers();
  } catch (e) {
    await http.stop();
    await scheduler.stop();
    client.close();
    await tracing?.shutdown();
    await nc.close();
    throw e;
  }

  let stopped = false;
  let leading = false;
  let elector: LeaderElector | undefined;
  let loop: Promise<void> | undefined;
  const leaderElect = opts.leaderElect ?? config.leaderElection.leaderElect;

  if (!leaderElect) {
    leading = true;
    loop = scheduler.run();
  } else {
    const le = config.leaderElection;
    // A replica that loses the lease goes back to campaigning (upstream exits and is restarted).
    const campaign = async (): Promise<void> => {
      while (!stopped) {
        const abortLoop = new AbortController();
        elector = new LeaderElector({
          client,
          namespace: le.resourceNamespace,
          name: le.resourceName,
          identity,
          leaseDurationSeconds: le.leaseDuration,
          renewDeadlineSeconds: le.renewDeadline,
          retryPeriodSeconds: le.retryPeriod,
          callbacks: {
            onStartedLeading: (signal) => {
              leading = true;
              log(`${identity} is the leader; scheduling`);
              loop = scheduler.run(AbortSignal.any([signal, abortLoop.signal]));
            },
            onStoppedLeading: () => {
              leading = false;
              abortLoop.abort();
              if (!stopped) log(`${identity} lost the lease; standing by`);
            },
          },
        });
        await elector.run();
        abortLoop.abort();
        await loop;
      }
    };
    void campaign().catch((e) => log(`leader election failed: ${(e as Error).message}`));
  }
  const announced = announceTargets(nc, () => [{ job: 'kube-scheduler', address: targetAddress(http.url) }]);

  return {
    metricsUrl: `${http.url}/metrics`,
    identity,
    scheduler,
    config,
    isLeader: () => leading && !stopped,
    async stop() {
      if (stopped) return;
      stopped = true;
      announced.stop();
      await scheduler.stop();
      await elector?.stop();
      await loop;
      await http.stop();
      client.close();
      await tracing?.shutdown();
      await nc.close();
    },
  };
}
