/**
 * `flotilla dns`: the cluster DNS (CoreDNS's kubernetes plugin's role) behind the
 * kube-system/kube-dns Service. Stops on SIGINT/SIGTERM, or when its launcher is gone.
 */
import { parseArgs } from 'node:util';
import { hostInternalIP } from '../../lib/net/mod.js';
import { boolFlag, checkedFlag, natsFlagUsage, natsUrlFlag, portFlag } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { parseUpstream } from './forwarder.js';
import { DEFAULT_CLUSTER_DOMAIN, type PodsMode } from './records.js';
import { DEFAULT_CLUSTER_DNS_IP } from './registration.js';
import { DEFAULT_DNS_METRICS_PORT, startDnsServer, type DnsServerOptions } from './server.js';

export const DNS_USAGE = `usage: flotilla dns [--nats URL] [--port 53] [--advertise-address IP] [--bind-address IP,...]
                   [--cluster-domain cluster.local] [--cluster-ip ${DEFAULT_CLUSTER_DNS_IP}] [--upstream IP[:PORT]]
                   [--pods insecure|verified|disabled] [--metrics-port ${DEFAULT_DNS_METRICS_PORT}] [--register=false]

  ${natsFlagUsage(24)}
  --port N                UDP and TCP port (default 53; when it cannot be had, not being root or
                          taken, and --port was not given: a free port, printed; 0 = a free port)
  --advertise-address IP  where pods reach the server: the kube-dns EndpointSlice's address
                          (default the node's InternalIP, the first non-loopback, non-pod IPv4)
  --bind-address IPS      addresses to listen on, comma-separated (default 127.0.0.1 and the
                          advertise address; one socket each, so UDP answers leave from the
                          address the query came to)
  --cluster-domain D      the zone (default ${DEFAULT_CLUSTER_DOMAIN})
  --cluster-ip IP         the kube-dns Service's clusterIP (default ${DEFAULT_CLUSTER_DNS_IP}, the kubelet's --cluster-dns)
  --upstream IP[:PORT]    forward names outside the zone there; without it they are refused
                          (nothing ever leaves the machine unless told)
  --pods MODE             pod A records a-b-c-d.NS.pod.ZONE: insecure (any address, kubeadm's
                          default), verified (only a pod of NS with that IP), disabled
  --metrics-port N        /metrics, /healthz, /readyz on the advertise address (default ${DEFAULT_DNS_METRICS_PORT}; taken: a free one)
  --register=false        do not write the Service and EndpointSlice kube-system/kube-dns`;

const PODS_MODES: PodsMode[] = ['insecure', 'verified', 'disabled'];

export async function runDns(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: 'string' },
      port: { type: 'string' },
      'advertise-address': { type: 'string' },
      'bind-address': { type: 'string' },
      'cluster-domain': { type: 'string' },
      'cluster-ip': { type: 'string' },
      upstream: { type: 'string' },
      pods: { type: 'string' },
      'metrics-port': { type: 'string' },
      register: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(DNS_USAGE);
    return 0;
  }
  const natsUrl = natsUrlFlag(values.nats);
  const advertise = values['advertise-address'] ?? hostInternalIP();
  const bind = values['bind-address']?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...new Set(['127.0.0.1', advertise])];
  const pods = checkedFlag(values.pods, '--pods', (v) => {
    if (!PODS_MODES.includes(v as PodsMode)) throw new Error(`expected one of ${PODS_MODES.join(', ')}, got "${v}"`);
  }) as PodsMode | undefined;
  const upstream = values.upstream === undefined ? undefined : parseUpstream(checkedFlag(values.upstream, '--upstream', parseUpstream)!);
  const opts: DnsServerOptions = {
    natsUrl,
    port: portFlag(values.port) ?? 53,
    bindAddresses: bind,
    advertiseAddress: advertise,
    metricsPort: portFlag(values['metrics-port'], '--metrics-port'),
    clusterDomain: values['cluster-domain'],
    clusterIP: values['cluster-ip'],
    upstream,
    pods,
    register: boolFlag(values.register, '--register'),
  };
  return startAndRunUntilStopped(
    'dns',
    async () => {
      try {
        return await startDnsServer(opts);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (values.port !== undefined || (code !== 'EADDRINUSE' && code !== 'EACCES')) throw e;
        console.log(`dns: port ${opts.port} cannot be had (${code}); serving on a free port (the kube-dns EndpointSlice names it)`);
        return startDnsServer({ ...opts, port: 0 });
      }
    },
    (s) =>
      console.log(`dns: serving ${opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN} on ${bind.join(', ')} port ${s.port} (UDP, TCP), metrics ${s.metricsUrl}; ${upstream ? `forwarding other names to ${upstream.host}:${upstream.port}` : 'other names refused'} (NATS ${natsUrl})`),
  );
}

runIfEntryPoint(import.meta.url, 'dns', runDns);
