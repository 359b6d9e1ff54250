/**
 * `flotilla proxy`: kube-proxy's role for this node, on nftables (services/proxy/server.ts).
 * `--cleanup` removes its table and exits. Without root it says so in one line and does
 * nothing. Stops on SIGINT/SIGTERM (leaving its rules, as upstream, unless --cleanup-on-exit).
 */
import { parseArgs } from 'node:util';
import { checkedFlag, durationFlag, natsFlagUsage, natsUrlFlag, portFlag, startOnPort, boolFlag } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { formatCidr, parseCidr } from '../../lib/net/mod.js';
import { nftInstalled, NFT } from './nftables.js';
import { cleanupProxy, DEFAULT_MIN_SYNC_PERIOD_MS, DEFAULT_PROXY_METRICS_PORT, DEFAULT_PROXY_TABLE, DEFAULT_SERVICE_CIDR, DEFAULT_SYNC_PERIOD_MS, startProxy } from './server.js';

export const DEFAULT_PROXY_CLUSTER_CIDR = '10.244.0.0/16';

export const PROXY_USAGE = `usage: flotilla proxy [--nats URL] [--hostname-override NAME] [--cluster-cidr CIDR] [--netns NAME] [--cleanup] ...

Programs this node's Services (ClusterIP, NodePort, LoadBalancer ingress IPs) into the
nftables table it owns (root only).

  ${natsFlagUsage(28)}
  --hostname-override NAME    this node's name, for traffic policy Local (default: the host's name, as the kubelet's)
  --cluster-cidr CIDR         the pods' range; traffic to a ClusterIP from outside it is masqueraded (default ${DEFAULT_PROXY_CLUSTER_CIDR})
  --service-cluster-ip-range CIDR
                              the Services' range: traffic to it no Service takes is dropped (default ${DEFAULT_SERVICE_CIDR})
  --table NAME                the nftables table (family ip) it owns (default ${DEFAULT_PROXY_TABLE})
  --min-sync-period D         at most one sync per D (default ${DEFAULT_MIN_SYNC_PERIOD_MS / 1000}s)
  --sync-period D             at least one sync per D (default ${DEFAULT_SYNC_PERIOD_MS / 1000}s)
  --localhost-nodeports=BOOL  NodePorts answer on 127.0.0.1 too; sets route_localnet=1 on the pod bridge (default true)
  --metrics-port N            /metrics, /healthz, /readyz on 127.0.0.1 (default ${DEFAULT_PROXY_METRICS_PORT}; 0 = any free port)
  --cleanup                   remove the table (and route_localnet) and exit
  --cleanup-on-exit           remove the table when stopped (what flotilla up runs)
  --netns NAME                the node lives in network namespace NAME (ip netns; flotilla up --nodes 2): table and
                              route_localnet are set inside it (nsenter --net), the proxy stays outside on NATS`;

function cidrFlag(v: string | undefined, flag: string): string | undefined {
  return checkedFlag(v, flag, parseCidr) && formatCidr(parseCidr(v!));
}

export async function runProxy(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      'hostname-override': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'service-cluster-ip-range': { type: 'string' },
      table: { type: 'string' },
      'min-sync-period': { type: 'string' },
      'sync-period': { type: 'string' },
      'localhost-nodeports': { type: 'string' },
      'metrics-port': { type: 'string' },
      cleanup: { type: 'boolean' },
      'cleanup-on-exit': { type: 'boolean' },
      netns: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(PROXY_USAGE);
    return 0;
  }
  const table = checkedFlag(values.table, '--table', (t) => {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(t)) throw new Error(`"${t}" is not a table name (a letter, then letters, digits, _ and -)`);
  }) ?? DEFAULT_PROXY_TABLE;
  const clusterCIDR = cidrFlag(values['cluster-cidr'], '--cluster-cidr') ?? DEFAULT_PROXY_CLUSTER_CIDR;
  const serviceCIDR = cidrFlag(values['service-cluster-ip-range'], '--service-cluster-ip-range') ?? DEFAULT_SERVICE_CIDR;
  const minSyncPeriodMs = durationFlag(values['min-sync-period'], '--min-sync-period') ?? DEFAULT_MIN_SYNC_PERIOD_MS;
  const syncPeriodMs = durationFlag(values['sync-period'], '--sync-period') ?? DEFAULT_SYNC_PERIOD_MS;
  const localhostNodePorts = boolFlag(values['localhost-nodeports'], '--localhost-nodeports') ?? true;
  const port = portFlag(values['metrics-port'], '--metrics-port') ?? DEFAULT_PROXY_METRICS_PORT;
  const netns = checkedFlag(values.netns, '--netns', (n) => {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(n)) throw new Error(`"${n}" is not a network namespace name`);
  });
  // never half-program the host: without root (or nft) nothing at all is done
  if (process.getuid?.() !== 0) {
    console.log('proxy: not running as root: programming nftables needs root; doing nothing');
    return 0;
  }
  if (!nftInstalled()) {
    console.log(`proxy: ${NFT} is missing (Debian package nftables: sudo apt-get install -y nftables); doing nothing`);
    return 1;
  }
  if (values.cleanup) {
    await cleanupProxy(table, clusterCIDR, netns);
    console.log(`proxy: removed table ip ${table}${netns ? ` in network namespace ${netns}` : ''}`);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  return startAndRunUntilStopped(
    'proxy',
    () =>
      startOnPort('proxy', port, values['metrics-port'] !== undefined, (p) =>
        startProxy({ natsUrl, nodeName: values['hostname-override'], table, clusterCIDR, serviceCIDR, localhostNodePorts, minSyncPeriodMs, syncPeriodMs, metricsPort: p, cleanupOnStop: values['cleanup-on-exit'], netns }),
      ),
    (running) => console.log(`proxy: programming table ip ${running.table}; serving ${running.metricsUrl} (NATS ${natsUrl})`),
  );
}

runIfEntryPoint(import.meta.url, 'proxy', runProxy);
