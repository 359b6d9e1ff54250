/**
 * The controller-manager: every controller in one process over ONE shared informer
 * factory, as kube-controller-manager runs them. Replicas campaign for the Lease
 * kube-system/kube-controller-manager; only the leader runs controllers, while standbys
 * keep the caches the controllers read warm, so a takeover starts from synced caches.
 * /metrics (workqueue_* per controller, rest_client_*), /healthz and /readyz are served
 * on an HTTP port (upstream: 10257, HTTPS).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { ApiClient, componentUserAgent, connectNats, CONTROLLER_REVISIONS, CRONJOBS, DAEMONSETS, ENDPOINT_SLICES, EventRecorder, type GroupVersionResource, JOBS, PODDISRUPTIONBUDGETS as PDBS, Resources, SERVICE_ACCOUNTS, SharedInformerFactory, STATEFULSETS } from '../../lib/client/mod.js';
import { announceTargets, newRegistry, serveMetrics, targetAddress, type HealthServer } from '../../lib/metrics/mod.js';
import { enabledControllers, runWithLeadership, type Controller, type ControllerContext, type LeaderElectionFlags } from '../../lib/controller/mod.js';
import { ReplicaSetController } from './controllers/replicaset.js';
import { EndpointSliceController } from './controllers/endpoints/endpointslice.js';
import { EndpointsController } from './controllers/endpoints/endpoints.js';
import { NodeLifecycleController, type NodeLifecycleControllerOptions } from './controllers/nodelifecycle/nodelifecycle.js';
import { GarbageCollector, garbageCollectedResources } from './controllers/garbagecollector.js';
import { DeploymentController } from './controllers/deployment.js';
import { ServiceAccountController } from './controllers/serviceaccount.js';
import { JobController } from './controllers/job.js';
import { CronJobController } from './controllers/cronjob.js';
import { StatefulSetController } from './controllers/statefulset.js';
import { DaemonSetController } from './controllers/daemonset.js';
import { DisruptionController } from './controllers/disruption.js';
import { NamespaceController } from './controllers/namespace.js';
import { PodGCController, type PodGCControllerOptions } from './controllers/podgc.js';
import { NodeIpamController, type NodeIpamControllerOptions } from './controllers/nodeipam/nodeipam.js';

export const DEFAULT_CONTROLLER_MANAGER_PORT = 10257;
export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'kube-controller-manager';

/** How a controller is built, and which resources it reads (kept warm on standbys). */
export interface ControllerDescriptor {
  name: string;
  resources: GroupVersionResource[];
  /** upstream's --concurrent-*-syncs default */
  workers: number;
  build(ctx: ControllerContext, opts: StartControllerManagerOptions): Controller;
}

/** The controllers, in upstream's names (--controllers). */
export const CONTROLLERS: ControllerDescriptor[] = [
  { name: 'endpointslice-controller', resources: [Resources.services, Resources.pods, Resources.nodes, ENDPOINT_SLICES], workers: 5, build: (ctx) => new EndpointSliceController(ctx) },
  { name: 'endpoints-controller', resources: [Resources.services, Resources.pods, Resources.endpoints], workers: 5, build: (ctx) => new EndpointsController(ctx) },
  { name: 'node-lifecycle-controller', resources: [Resources.nodes, Resources.pods, Resources.leases], workers: 4, build: (ctx, opts) => new NodeLifecycleController(ctx, opts.nodeLifecycle) },
  { name: 'garbagecollector-controller', resources: garbageCollectedResources(), workers: 20, build: (ctx) => new GarbageCollector(ctx) },
  { name: 'replicaset-controller', resources: [Resources.replicasets, Resources.pods], workers: 5, build: (ctx) => new ReplicaSetController(ctx) },
  { name: 'deployment-controller', resources: [Resources.deployments, Resources.replicasets, Resources.pods], workers: 5, build: (ctx) => new DeploymentController(ctx) },
  { name: 'serviceaccount-controller', resources: [Resources.namespaces, SERVICE_ACCOUNTS], workers: 5, build: (ctx) => new ServiceAccountController(ctx) },
  { name: 'job-controller', resources: [JOBS, Resources.pods], workers: 5, build: (ctx) => new JobController(ctx) },
  { name: 'cronjob-controller', resources: [CRONJOBS, JOBS], workers: 5, build: (ctx) => new CronJobController(ctx) },
  { name: 'statefulset-controller', resources: [STATEFULSETS, Resources.pods, CONTROLLER_REVISIONS], workers: 5, build: (ctx) => new StatefulSetController(ctx) },
  { name: 'daemonset-controller', resources: [DAEMONSETS, Resources.pods, Resources.nodes, CONTROLLER_REVISIONS], workers: 2, build: (ctx) => new DaemonSetController(ctx) },
  { name: 'disruption-controller', resources: [PDBS, Resources.pods, Resources.replicasets, Resources.deployments, STATEFULSETS], workers: 1, build: (ctx) => new DisruptionController(ctx) },
  { name: 'namespace-controller', resources: [Resources.namespaces, Resources.pods], workers: 10, build: (ctx) => new NamespaceController(ctx) },
  { name: 'node-ipam-controller', resources: [Resources.nodes], workers: 1, build: (ctx, opts) => new NodeIpamController(ctx, opts.nodeIpam!) },
  { name: 'pod-garbage-collector', resources: [Resources.pods, Resources.nodes], workers: 1, build: (ctx, opts) => new PodGCController(ctx, opts.podGC) },
];

export interface StartControllerManagerOptions extends LeaderElectionFlags {
  natsUrl: string;
  /** HTTP port of /metrics, /healthz, /readyz (default 10257; 0 = any free port) */
  port?: number;
  /** --controllers entries (default ['*']) */
  controllers?: string[];
  /** leader-election identity and events' reportingInstance (default hostname_<random>) */
  identity?: string;
  /** --node-monitor-grace-period, --node-eviction-rate and the other node lifecycle flags */
  nodeLifecycle?: NodeLifecycleControllerOptions;
  /**
   * --allocate-node-cidrs with --cluster-cidr and --node-cidr-mask-size: the
   * node-ipam-controller runs only when given (as upstream, where it is off by default)
   */
  nodeIpam?: NodeIpamControllerOptions;
  /** --terminated-pod-gc-threshold */
  podGC?: PodGCControllerOptions;
  log?: (line: string) => void;
}

export interface RunningControllerManager {
  readonly identity: string;
  readonly metricsUrl: string;
  readonly client: ApiClient;
  readonly controllers: string[];
  isLeader(): boolean;
  /** the controllers running now (only while leading) */
  running(): Controller[];
  stop(): Promise<void>;
}

export async function startControllerManager(opts: StartControllerManagerOptions): Promise<RunningControllerManager> {
  const identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
  const log = opts.log ?? ((line: string) => process.stderr.write(`controller-manager: ${line}\n`));
  const enabled = enabledControllers(opts.controllers, CONTROLLERS.map((c) => c.name));
  const descriptors = CONTROLLERS.filter((c) => enabled.includes(c.name) && (c.name !== 'node-ipam-controller' || opts.nodeIpam));
  const registry = newRegistry('controller-manager');
  const nc: NatsConnection = await connectNats(opts.natsUrl, { name: `controller-manager/${identity}` });
  const client = new ApiClient(nc, { registry, userAgent: componentUserAgent('kube-controller-manager') });
  const informers = new SharedInformerFactory(client);
  // created before anything starts, so standbys watch what the controllers will read
  for (const d of descriptors) for (const gvr of d.resources) informers.forResource(gvr);

  const recorders = new Map<string, EventRecorder>();
  const ctx: ControllerContext = {
    client,
    informers,
    registry,
    log,
    recorder: (component) => {
      let r = recorders.get(component);
      if (!r) recorders.set(component, (r = new EventRecorder({ client, reportingController: component, reportingInstance: `${component}-${identity}`.slice(0, 128), registry })));
      return r;
    },
  };

  let http: HealthServer;
  try {
    http = await serveMetrics(registry, opts.port ?? DEFAULT_CONTROLLER_MANAGER_PORT, () => [...descriptors].every((d) => d.resources.every((g) => informers.forResource(g).hasSynced())));
  } catch (e) {
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
    build: () => descriptors.map((d) => ({ name: d.name, workers: d.workers, controller: d.build(ctx, opts) })),
    startInformers: () => informers.start(),
  });

  const announced = announceTargets(nc, () => [{ job: 'kube-controller-manager', address: targetAddress(http.url) }]);
  return {
    identity,
    metricsUrl: `${http.url}/metrics`,
    client,
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
      client.close();
      await nc.close();
    },
  };
}
