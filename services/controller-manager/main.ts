/**
 * `flotilla controller-manager`: one controller-manager process. Stops on SIGINT/SIGTERM
 * (giving up the lease so a standby takes over at once), or when its launcher is gone.
 */
import { parseArgs } from 'node:util';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { boolFlag, durationFlag, natsFlagUsage, natsUrlFlag, numberFlag, portFlag, startOnPort } from '../../lib/process/flags.js';
import type { NodeLifecycleControllerOptions } from './controllers/nodelifecycle/nodelifecycle.js';
import { DEFAULT_NODE_CIDR_MASK_SIZE, type NodeIpamControllerOptions } from './controllers/nodeipam/nodeipam.js';
import { CidrSet } from './controllers/nodeipam/cidrset.js';
import { CONTROLLERS, DEFAULT_CONTROLLER_MANAGER_PORT, startControllerManager, type StartControllerManagerOptions } from './server.js';

export const CONTROLLER_MANAGER_USAGE = `usage: flotilla controller-manager [--nats URL] [--port N] [--leader-elect=false] [--controllers '*,-foo'] [node lifecycle flags]
                                  [--allocate-node-cidrs --cluster-cidr CIDR [--node-cidr-mask-size 24]]

  ${natsFlagUsage()}
  --port N             HTTP port of /metrics, /healthz, /readyz (default ${DEFAULT_CONTROLLER_MANAGER_PORT}; 0 = any free port)
  --leader-elect BOOL  campaign for the Lease kube-system/kube-controller-manager first (default true)
  --controllers LIST   controllers to run: '*' for all, 'name' to enable, '-name' to disable
                       (${CONTROLLERS.map((c) => c.name).join(', ')})

Node lifecycle (upstream's flags and defaults; durations as Go writes them: 40s, 1m30s):
  --node-monitor-grace-period D      a node unheard of this long gets Ready=Unknown (default 40s)
  --node-startup-grace-period D      the same for a node that never posted Ready (default 1m0s)
  --node-monitor-period D            how often node health is checked (default 5s)
  --node-eviction-rate R             nodes a second per zone that get NoExecute taints (default 0.1)
  --secondary-node-eviction-rate R   the rate in a zone in PartialDisruption (default 0.01)
  --large-cluster-size-threshold N   zones of at most N nodes stop tainting when partially disrupted (default 50)
  --unhealthy-zone-threshold F       the share of not-Ready nodes that makes a zone PartialDisruption (default 0.55)

Node IPAM (upstream's flags; off unless --allocate-node-cidrs):
  --allocate-node-cidrs              give every Node without spec.podCIDR a block of --cluster-cidr
  --cluster-cidr CIDR                the pods' address range, e.g. 10.244.0.0/16
  --node-cidr-mask-size N            each Node's block: a /N (default ${DEFAULT_NODE_CIDR_MASK_SIZE})

Pod garbage collector:
  --terminated-pod-gc-threshold N    terminated pods kept before the oldest are deleted (default 12500; 0 or less: never)`;

const NODE_LIFECYCLE_FLAGS = [
  'node-monitor-grace-period',
  'node-startup-grace-period',
  'node-monitor-period',
  'node-eviction-rate',
  'secondary-node-eviction-rate',
  'large-cluster-size-threshold',
  'unhealthy-zone-threshold',
] as const;

/** The command line as startControllerManager's options (without starting anything). */
export function controllerManagerOptions(argv: string[]): (StartControllerManagerOptions & { portGiven: boolean }) | 'help' {
  const { values } = parseArgs({
    // Go's bool flags also take =true / =false
    args: argv.flatMap((a) => (a === '--allocate-node-cidrs=true' ? ['--allocate-node-cidrs'] : a === '--allocate-node-cidrs=false' ? [] : [a])),
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      'leader-elect': { type: 'string' },
      controllers: { type: 'string' },
      ...Object.fromEntries(NODE_LIFECYCLE_FLAGS.map((f) => [f, { type: 'string' as const }])),
      'terminated-pod-gc-threshold': { type: 'string' },
      'allocate-node-cidrs': { type: 'boolean' },
      'cluster-cidr': { type: 'string' },
      'node-cidr-mask-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const flag = (name: (typeof NODE_LIFECYCLE_FLAGS)[number]) => (values as Record<string, string | boolean | undefined>)[name] as string | undefined;
  const port = portFlag(values.port) ?? DEFAULT_CONTROLLER_MANAGER_PORT;
  const nodeLifecycle: NodeLifecycleControllerOptions = {
    nodeMonitorGracePeriodMs: durationFlag(flag('node-monitor-grace-period'), '--node-monitor-grace-period'),
    nodeStartupGracePeriodMs: durationFlag(flag('node-startup-grace-period'), '--node-startup-grace-period'),
    nodeMonitorPeriodMs: durationFlag(flag('node-monitor-period'), '--node-monitor-period'),
    nodeEvictionRate: numberFlag(flag('node-eviction-rate'), '--node-eviction-rate', (n) => n >= 0, 'a rate of 0 or more'),
    secondaryNodeEvictionRate: numberFlag(flag('secondary-node-eviction-rate'), '--secondary-node-eviction-rate', (n) => n >= 0, 'a rate of 0 or more'),
    largeClusterSizeThreshold: numberFlag(flag('large-cluster-size-threshold'), '--large-cluster-size-threshold', (n) => Number.isInteger(n) && n >= 0, 'a node count'),
    unhealthyZoneThreshold: numberFlag(flag('unhealthy-zone-threshold'), '--unhealthy-zone-threshold', (n) => n > 0 && n <= 1, 'a fraction in (0, 1]'),
  };
  for (const k of Object.keys(nodeLifecycle) as (keyof NodeLifecycleControllerOptions)[]) if (nodeLifecycle[k] === undefined) delete nodeLifecycle[k];
  let nodeIpam: NodeIpamControllerOptions | undefined;
  if (values['allocate-node-cidrs']) {
    if (!values['cluster-cidr']) throw new Error('--allocate-node-cidrs needs --cluster-cidr');
    nodeIpam = {
      clusterCIDR: values['cluster-cidr'],
      nodeCIDRMaskSize: numberFlag(values['node-cidr-mask-size'], '--node-cidr-mask-size', Number.isInteger, 'a prefix length') ?? DEFAULT_NODE_CIDR_MASK_SIZE,
    };
    // refuses a bad CIDR or mask size now, not once this replica leads
    new CidrSet(nodeIpam.clusterCIDR, nodeIpam.nodeCIDRMaskSize!);
  }
  return {
    natsUrl: natsUrlFlag(values.nats),
    nodeIpam,
    port,
    portGiven: values.port !== undefined,
    leaderElect: boolFlag(values['leader-elect'], '--leader-elect'),
    controllers: values.controllers?.split(',').map((s) => s.trim()).filter(Boolean),
    nodeLifecycle,
    podGC: values['terminated-pod-gc-threshold'] === undefined ? {} : {
      terminatedPodThreshold: numberFlag(values['terminated-pod-gc-threshold'], '--terminated-pod-gc-threshold', Number.isInteger, 'a pod count'),
    },
  };
}

export async function runControllerManager(argv: string[]): Promise<number> {
  const parsed = controllerManagerOptions(argv);
  if (parsed === 'help') {
    console.log(CONTROLLER_MANAGER_USAGE);
    return 0;
  }
  const { portGiven, ...opts } = parsed;
  const start = (p: number) => startControllerManager({ ...opts, port: p });
  return startAndRunUntilStopped(
    'controller-manager',
    () => startOnPort('controller-manager', opts.port!, portGiven, start),
    (running) => console.log(`controller-manager: ${running.identity} serving ${running.metricsUrl} (NATS ${opts.natsUrl}; controllers ${running.controllers.join(', ')})`),
  );
}

runIfEntryPoint(import.meta.url, 'controller-manager', runControllerManager);
