/**
 * `flotilla cloud-controller-manager`: one cloud-controller-manager process. Stops on
 * SIGINT/SIGTERM (giving up the lease so a standby takes over at once), or when its
 * launcher is gone.
 */
import { parseArgs } from 'node:util';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { boolFlag, checkedFlag, durationFlag, natsFlagUsage, natsUrlFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import { CLOUD_CONTROLLERS, CLOUD_PROVIDERS, DEFAULT_CLOUD_CONTROLLER_MANAGER_PORT, startCloudControllerManager, type StartCloudControllerManagerOptions } from './server.js';
import { DEFAULT_CLUSTER_NAME } from './cloudprovider/cloud.js';
import { DEFAULT_LOAD_BALANCER_IP_RANGE } from './cloudprovider/local/loadbalancer.js';
import { DEFAULT_LB_INTERFACE } from './cloudprovider/local/lbinterface.js';
import { parseCidr } from '../../lib/net/mod.js';

export const CLOUD_CONTROLLER_MANAGER_USAGE = `usage: flotilla cloud-controller-manager [--nats URL] [--cloud-provider local] [--port N] [--leader-elect=false]
                                        [--controllers '*,-foo'] [--cluster-name kubernetes] [--node-monitor-period 5s]
                                        [--load-balancer-ip-range ${DEFAULT_LOAD_BALANCER_IP_RANGE}] [--load-balancer-interface ${DEFAULT_LB_INTERFACE}]
                                        [--allocate-node-cidrs --cluster-cidr CIDR [--configure-cloud-routes=false] [--route-reconciliation-period 10s]]

  ${natsFlagUsage()}
  --cloud-provider P   the cloud (${CLOUD_PROVIDERS.join(', ')}; default local: this machine, see docs/services.md)
  --port N             HTTP port of /metrics, /healthz, /readyz (default ${DEFAULT_CLOUD_CONTROLLER_MANAGER_PORT}; 0 = any free port)
  --leader-elect BOOL  campaign for the Lease kube-system/cloud-controller-manager first (default true)
  --controllers LIST   controllers to run: '*' for all, 'name' to enable, '-name' to disable
                       (${CLOUD_CONTROLLERS.map((c) => c.name).join(', ')})
  --cluster-name NAME  the cluster's name in the cloud's resources (default ${DEFAULT_CLUSTER_NAME})
  --node-monitor-period D  how often Nodes that are not Ready are checked against the cloud (default 5s)
  --load-balancer-ip-range CIDR  the local cloud's pool of load balancer IPs (default ${DEFAULT_LOAD_BALANCER_IP_RANGE});
                       keep it off any network this machine reaches
  --load-balancer-interface NAME  the dummy interface they answer on, as root (default ${DEFAULT_LB_INTERFACE}; '' none)
  --allocate-node-cidrs, --cluster-cidr CIDR  node IPAM gives podCIDRs out of CIDR (the controller-manager's flags):
                       the node-route-controller routes each Node's podCIDR and deletes routes of CIDR nobody holds
  --configure-cloud-routes BOOL  run the node-route-controller when the above are given (default true)
  --route-reconciliation-period D  how often every route is checked (default 10s)

Kubelets join the cloud with --cloud-provider=external: their Nodes wait under the
node.cloudprovider.kubernetes.io/uninitialized taint until this manager initializes them.`;

/** The command line as startCloudControllerManager's options (without starting anything). */
export function cloudControllerManagerOptions(argv: string[]): (StartCloudControllerManagerOptions & { port: number; portGiven: boolean }) | 'help' {
  const { values } = parseArgs({
    // Go's bool flags also take =true / =false
    args: argv.flatMap((a) => (a === '--allocate-node-cidrs=true' ? ['--allocate-node-cidrs'] : a === '--allocate-node-cidrs=false' ? [] : [a])),
    options: {
      nats: { type: 'string' },
      'cloud-provider': { type: 'string' },
      port: { type: 'string' },
      'leader-elect': { type: 'string' },
      controllers: { type: 'string' },
      'cluster-name': { type: 'string' },
      'node-monitor-period': { type: 'string' },
      'load-balancer-ip-range': { type: 'string' },
      'load-balancer-interface': { type: 'string' },
      'allocate-node-cidrs': { type: 'boolean' },
      'cluster-cidr': { type: 'string' },
      'configure-cloud-routes': { type: 'string' },
      'route-reconciliation-period': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const cloudProvider = values['cloud-provider'] ?? 'local';
  if (!CLOUD_PROVIDERS.includes(cloudProvider)) throw new Error(`--cloud-provider: unknown provider "${cloudProvider}" (known: ${CLOUD_PROVIDERS.join(', ')})`);
  if (values['allocate-node-cidrs'] && !values['cluster-cidr']) throw new Error('--allocate-node-cidrs needs --cluster-cidr');
  return {
    natsUrl: natsUrlFlag(values.nats),
    cloudProvider,
    port: portFlag(values.port) ?? DEFAULT_CLOUD_CONTROLLER_MANAGER_PORT,
    portGiven: values.port !== undefined,
    leaderElect: boolFlag(values['leader-elect'], '--leader-elect'),
    controllers: values.controllers?.split(',').map((s) => s.trim()).filter(Boolean),
    clusterName: values['cluster-name'],
    nodeMonitorPeriodMs: durationFlag(values['node-monitor-period'], '--node-monitor-period'),
    loadBalancerIPRange: checkedFlag(values['load-balancer-ip-range'], '--load-balancer-ip-range', parseCidr),
    loadBalancerInterface: values['load-balancer-interface'],
    allocateNodeCIDRs: values['allocate-node-cidrs'],
    clusterCIDR: checkedFlag(values['cluster-cidr'], '--cluster-cidr', parseCidr),
    configureCloudRoutes: boolFlag(values['configure-cloud-routes'], '--configure-cloud-routes'),
    routeReconciliationPeriodMs: durationFlag(values['route-reconciliation-period'], '--route-reconciliation-period'),
  };
}

export async function runCloudControllerManager(argv: string[]): Promise<number> {
  const parsed = cloudControllerManagerOptions(argv);
  if (parsed === 'help') {
    console.log(CLOUD_CONTROLLER_MANAGER_USAGE);
    return 0;
  }
  const { portGiven, ...opts } = parsed;
  return startAndRunUntilStopped(
    'cloud-controller-manager',
    () => startOnPort('cloud-controller-manager', opts.port, portGiven, (port) => startCloudControllerManager({ ...opts, port })),
    (running) => console.log(`cloud-controller-manager: ${running.identity} serving ${running.metricsUrl} (cloud ${running.cloud.providerName()}, NATS ${opts.natsUrl}; controllers ${running.controllers.join(', ')})`),
  );
}

runIfEntryPoint(import.meta.url, 'cloud-controller-manager', runCloudControllerManager);
