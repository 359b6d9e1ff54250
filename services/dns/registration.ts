/**
 * How the DNS server becomes the cluster's `kube-dns`: the Service kube-system/kube-dns at
 * the well-known clusterIP (10.96.0.10, what the kubelet's --cluster-dns names), with
 * CoreDNS's ports (dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP) and labels, and no
 * selector (the server is a host process, not a pod), plus an EndpointSlice of its own
 * pointing at the node address and the ports it really listens on. The proxy DNATs
 * 10.96.0.10:53 to that address and port. Server-side apply, so a restart on another port
 * just moves the EndpointSlice.
 */
import { type ApiClient, applyHostService } from '../../lib/client/mod.js';
import { intToIp, parseCidr } from '../../lib/net/mod.js';

export const SERVICE_NAMESPACE = 'kube-system';
export const SERVICE_NAME = 'kube-dns';
/** kubeadm's: the tenth address of the default service range 10.96.0.0/12 */
export const DEFAULT_CLUSTER_DNS_IP = '10.96.0.10';

/** kubeadm's choice for kube-dns in any service range: its tenth address (10.96.0.10 in 10.96.0.0/12) */
export function clusterDnsIP(serviceClusterIPRange?: string): string {
  if (!serviceClusterIPRange) return DEFAULT_CLUSTER_DNS_IP;
  return intToIp(parseCidr(serviceClusterIPRange).base + 10);
}
const FIELD_MANAGER = 'flotilla-dns';
const LABELS = { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' };

export interface Registration {
  clusterIP: string;
  /** where pods reach the server: the node's address (never 127.0.0.1 when pods must reach it) */
  address: string;
  dnsPort: number;
  metricsPort: number;
}

export async function registerKubeDns(client: ApiClient, r: Registration): Promise<void> {
  await applyHostService(client, {
    namespace: SERVICE_NAMESPACE,
    name: SERVICE_NAME,
    fieldManager: FIELD_MANAGER,
    labels: LABELS,
    annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    clusterIP: r.clusterIP,
    address: r.address,
    conditions: { ready: true, serving: true, terminating: false },
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: r.dnsPort },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: r.dnsPort },
      { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: r.metricsPort },
    ],
  });
}
