/**
 * The cloud-controller-manager: the controllers that talk to a cloud, in one process over
 * one shared informer factory, as upstream's cloud-controller-manager runs them. The
 * cloud is a provider behind the cloud-provider interface (`cloudprovider/cloud.ts`);
 * the one provider is `local` (`cloudprovider/local/`). Replicas campaign for the Lease
 * kube-system/cloud-controller-manager; only the leader runs controllers, standbys keep
 * the caches warm. /metrics, /healthz and /readyz on --port (upstream: 10258, HTTPS).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, componentUserAgent, connectNats, EventRecorder, type GroupVersionResource, Resources, SharedInformerFactory } from '../../lib/client/mod.js';
import { enabledControllers, runWithLeadership, type Controller, type ControllerContext, type LeaderElectionFlags } from '../../lib/controller/mod.js';
import { announceTargets, newRegistry, serveMetrics, targetAddress, type HealthServer } from '../../lib/metrics/mod.js';
import { DEFAULT_CLUSTER_NAME, type Interface } from './cloudprovider/cloud.js';
import { LocalCloud } from './cloudprovider/local/local.js';
import { CloudNodeController } from './controllers/node.js';
import { CloudNodeLifecycleController } from './controllers/nodelifecycle.js';
import { ServiceLoadBalancerController } from './controllers/service.js';
import { RouteController } from './controllers/route.js';

export const DEFAULT_CLOUD_CONTROLLER_MANAGER_PORT = 10258;
export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'cloud-controller-manager';
export const CLOUD_PROVIDERS = ['local'];

/** What a controller needs beyond the shared context: the cloud and the flags. */
export interface CloudControllerContext extends ControllerContext {
  cloud: Interface;
  providerIDPrefix: string;
  opts: StartCloudControllerManagerOptions;
}

export interface CloudControllerDescriptor {
  name: string;
  resources: GroupVersionResource[];
  workers: number;
  /** undefined when the cloud lacks what the controller needs (it is then not run, as upstream) */
  build(ctx: CloudControllerContext): Controller | undefined;
}

/** The controllers, in upstream's names (--controllers). */
export const CLOUD_CONTROLLERS: CloudControllerDescriptor[] = [
  {
    name: 'cloud-node-controller',
    resources: [Resources.nodes],
    // upstream --concurrent-node-syncs is 1; a few here so hundreds of hollow nodes are initialized in a second or two
    workers: 4,
    build: (ctx) => {
      const instances = ctx.cloud.instancesV2();
      return instances && new CloudNodeController(ctx, instances, ctx.providerIDPrefix);
    },
  },
  {
    name: 'cloud-node-lifecycle-controller',
    resources: [Resources.nodes],
    workers: 1,
    build: (ctx) => {
      const instances = ctx.cloud.instancesV2();
      return instances && new CloudNodeLifecycleController(ctx, instances, ctx.providerIDPrefix, { nodeMonitorPeriodMs: ctx.opts.nodeMonitorPeriodMs });
    },
  },
  {
    name: 'service-lb-controller',
    resources: [Resources.services, Resources.nodes],
    // upstream --concurrent-service-syncs
    workers: 1,
    build: (ctx) => {
      const lb = ctx.cloud.loadBalancer();
      return lb && new ServiceLoadBalancerController(ctx, lb, ctx.opts.clusterName ?? DEFAULT_CLUSTER_NAME);
    },
  },
  {
    name: 'node-route-controller',
    resources: [Resources.nodes],
    workers: 1,
    build: (ctx) => {
      const routes = ctx.cloud.routes();
      const { allocateNodeCIDRs, configureCloudRoutes, clusterCIDR } = ctx.opts;
      // as upstream: only where the cloud routes and node IPAM gives the podCIDRs
      if (!routes || !allocateNodeCIDRs || configureCloudRoutes === false || !clusterCIDR) return undefined;
      return new RouteController(ctx, routes, { clusterName: ctx.opts.clusterName ?? DEFAULT_CLUSTER_NAME, providerIDPrefix: ctx.providerIDPrefix, clusterCIDR, reconciliationPeriodMs: ctx.opts.routeReconciliationPeriodMs });
    },
  },
];

export interface StartCloudControllerManagerOptions extends LeaderElectionFlags {
  natsUrl: string;
  /** --cloud-provider (only `local`) */
  cloudProvider?: string;
  /** --cluster-name (default kubernetes) */
  clusterName?: string;
  port?: number;
  controllers?: string[];
  identity?: string;
  /** --node-monitor-period of the cloud node lifecycle controller (default 5 s) */
  nodeMonitorPeriodMs?: number;
  /** --allocate-node-cidrs with --cluster-cidr: the route controller runs (unless --configure-cloud-routes=false) */
  allocateNodeCIDRs?: boolean;
  clusterCIDR?: string;
  configureCloudRoutes?: boolean;
  /** --route-reconciliation-period (default 10 s) */
  routeReconciliationPeriodMs?: number;
  /** the local cloud's --load-balancer-ip-range (default 10.240.0.0/24) */
  loadBalancerIPRange?: string;
  /** the local cloud's dummy interface for load balancer IPs (default flt-lb0; '' none) */
  loadBalancerInterface?: string;
  /** how often kubelets announce their instances to the local cloud (tests shorten it; the kubelets must match) */
  announceIntervalMs?: number;
  log?: (line: string) => void;
}

export interface RunningCloudControllerManager {
  readonly identity: string;
  readonly metricsUrl: string;
  readonly client: ApiClient;
  readonly cloud: Interface;
  readonly controllers: string[];
  isLeader(): boolean;
  running(): Controller[];
  stop(): Promise<void>;
}

export async function startCloudControllerManager(opts: StartCloudControllerManagerOptions): Promise<RunningCloudControllerManager> {
  const provider = opts.cloudProvider ?? 'local';
  if (!CLOUD_PROVIDERS.includes(provider)) throw new Error(`--cloud-provider: unknown provider "${provider}" (known: ${CLOUD_PROVIDERS.join(', ')})`);
  const identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
  const log = opts.log ?? ((line: string) => process.stderr.write(`cloud-controller-manager: ${line}\n`));
  const enabled = enabledControllers(opts.controllers, CLOUD_CONTROLLERS.map((c) => c.name));
  const descriptors = CLOUD_CONTROLLERS.filter((c) => enabled.includes(c.name));
  const registry = newRegistry('cloud-controller-manager');
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `cloud-controller-manager/${identity}` });
  const client = new ApiClient(nc, { registry, userAgent: componentUserAgent('cloud-controller-manager') });
  const cloud: Interface = new LocalCloud({ nc, client, loadBalancerIPRange: opts.loadBalancerIPRange, loadBalancerInterface: opts.loadBalancerInterface, announceIntervalMs: opts.announceIntervalMs, log });
  const informers = new SharedInformerFactory(client);
  for (const d of descriptors) for (const gvr of d.resources) informers.forResource(gvr);

  const recorders = new Map<string, EventRecorder>();
  const ctx: CloudControllerContext = {
    client,
    informers,
    registry,
    log,
    cloud,
    providerIDPrefix: `${cloud.providerName()}://`,
    opts: { ...opts, clusterName: opts.clusterName ?? DEFAULT_CLUSTER_NAME },
    recorder: (component) => {
      let r = recorders.get(component);
      if (!r) recorders.set(component, (r = new EventRecorder({ client, reportingController: component, reportingInstance: `${component}-${identity}`.slice(0, 128), registry })));
      return r;
    },
  };

  let http: HealthServer;
  try {
    await cloud.initialize();
    http = await serveMetrics(registry, opts.port ?? DEFAULT_CLOUD_CONTROLLER_MANAGER_PORT, () => descriptors.every((d) => d.resources.every((g) => informers.forResource(g).hasSynced())));
  } catch (e) {
    await cloud.stop();
    client.close();
    await nc.close();
    throw e;
  }
  informers.start();

  let stopped = false;
  const leadership = runWithLeadership({
    client,
    namespace: LEASE_NAMESPACE,
    name: LEASE_NAME,
    identity,
    flags: opts,
    log,
    build: () =>
      descriptors.flatMap((d) => {
        const controller = d.build(ctx);
        if (!controller) log(`${d.name} not started: the ${provider} cloud lacks what it needs, or its flags are not given`);
        return controller ? [{ name: d.name, workers: d.workers, controller }] : [];
      }),
    startInformers: () => informers.start(),
  });

  const announced = announceTargets(nc, () => [{ job: 'cloud-controller-manager', address: targetAddress(http.url) }]);
  return {
    identity,
    metricsUrl: `${http.url}/metrics`,
    client,
    cloud,
    controllers: descriptors.map((d) => d.name),
    isLeader: () => leadership.isLeader(),
    running: () => leadership.running(),
    async stop() {
      if (stopped) return;
      stopped = true;
      announced.stop();
      await leadership.stop();
      await Promise.all([...recorders.values()].map((r) => r.stop()));
      await informers.stop();
      await http.stop();
      await cloud.stop();
      client.close();
      await nc.close();
    },
  };
}
