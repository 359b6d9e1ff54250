/**
 * `flotilla kubelet`: its flags and usage; server.ts assembles the kubelet. Stops on
 * SIGINT/SIGTERM, or when its supervising launcher is gone.
 */
import { TRACING_FLAG_OPTIONS, tracingFlags, tracingFlagsUsage } from '../../lib/tracing/mod.js';
import { parseArgs } from 'node:util';
import { parseQuantity } from '../../lib/api/quantity.js';
import { boolFlag, checkedFlag, intFlag, natsFlagUsage, natsUrlFlag } from '../../lib/process/flags.js';
import { runIfEntryPoint, startAndRunUntilStopped } from '../../lib/process/lifecycle.js';
import { MAX_NODE_CIDRS } from './podip.js';
import { startKubelet } from './server.js';
import { DEFAULT_EVICTION_HARD, parseEvictionHard, parseReserved } from './nodehealth.js';
import { parseIPv4CIDR } from './cni/bridge.js';
import { ipToInt } from '../../lib/net/mod.js';
import { localRegistryHosts } from './images/puller.js';
import { LOCAL_REGISTRY_PORT } from './containerd/config.js';

export const DEFAULT_CRI_ENDPOINT = 'unix:///run/containerd/containerd.sock';
export const DEFAULT_ROOT_DIR = '/var/lib/flotilla/kubelet';
export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
/** upstream's --read-only-port */
export const DEFAULT_READ_ONLY_PORT = 10255;

export const KUBELET_USAGE = `usage: flotilla kubelet --runtime hollow --nodes N [--nats URL] [--name-prefix hollow-] [--first-index 0]
                        [--cpu 4] [--memory 16Gi] [--pods 110] [--zones 3] [--start-delay-ms 0] [--synthetic-log-rate 0]
       flotilla kubelet --runtime cri [--nats URL] [--container-runtime-endpoint unix://PATH] [--root-dir DIR]
                        [--cni-conf-dir DIR] [--pod-cidr CIDR] [--hostname-override NAME] [--node-ip IP] [--netns NAME] [--pods 110]
                        [--pod-manifest-path DIR] [--system-reserved cpu=Q,memory=Q] [--kube-reserved ...] [--eviction-hard memory.available<100Mi,...]
                        [--registry-port ${LOCAL_REGISTRY_PORT}] [--cluster-dns IP,...] [--cluster-domain cluster.local] [--resolv-conf /etc/resolv.conf]
                        [--container-log-max-size 10Mi] [--container-log-max-files 5] [--ship-logs=true] [--read-only-port 10255]
       (both: [--cloud-provider external] [--tracing-sampling-rate R] [--tracing-endpoint URL] [--tracing-retention D] [--tracing-max-bytes N])

  ${natsFlagUsage(20)}
  --runtime hollow    simulated nodes and containers (like KWOK), the default
  --runtime cri       one real node, this machine: pods run on containerd through CRI (needs root)
  --container-runtime-endpoint  containerd's CRI socket (default ${DEFAULT_CRI_ENDPOINT})
  --root-dir DIR      the kubelet's files: built image archives, pod logs (default ${DEFAULT_ROOT_DIR})
  --cni-conf-dir DIR  where the pod network's conflist goes: containerd's CNI conf_dir (default ${DEFAULT_CNI_CONF_DIR})
  --pod-cidr CIDR     the node's spec.podCIDR when it registers; without it the kubelet waits for the
                      node IPAM controller (controller-manager --allocate-node-cidrs) to give one
  --hostname-override NAME  the node's name (default: the hostname)
  --node-ip IP        the node's InternalIP (default: this machine's address on its default-route interface)
  --netns NAME        the node's pods live in network namespace NAME (its containerd runs there: flotilla up
                      --nodes 2); with --cloud-provider external the local cloud routes its podCIDR to --node-ip
  --pod-manifest-path DIR  static pods: run the pods of the YAML/JSON files in DIR, even before an apiserver
                      answers, following changes; mirror pods show them in the API
  --system-reserved, --kube-reserved  cpu=, memory=, ephemeral-storage= quantities taken off allocatable
  --eviction-hard LIST  hard thresholds: MemoryPressure, DiskPressure, PIDPressure when under them; memory.available
                      and nodefs.available are also taken off allocatable (default ${DEFAULT_EVICTION_HARD})
  --container-log-max-size Q   a container's log rotates at this size (default 10Mi)
  --container-log-max-files N  rotated files kept with the live one, at most (default 5, at least 2)
  --ship-logs=true    ship the containers' logs into the JetStream stream FLOTILLA_LOGS (docs/monitoring.md)
  --cni-network NAME, --cni-bridge NAME   the pod network's CNI name and host bridge (default flotilla, flt0)
  --registry-port N   the local registry on 127.0.0.1: images named localhost:N/... or 127.0.0.1:N/... are
                      pulled from it; nothing is pulled from anywhere else (default ${LOCAL_REGISTRY_PORT})
  --cluster-dns IPS   the cluster DNS Service's address(es): pods with dnsPolicy ClusterFirst get them as
                      nameservers, with search NS.svc.DOMAIN svc.DOMAIN DOMAIN and options ndots:5 (flotilla up
                      passes 10.96.0.10); without it those pods get the host's resolv.conf (MissingClusterDNS)
  --cluster-domain D  the cluster's DNS domain (default cluster.local)
  --resolv-conf FILE  the host's resolver config for dnsPolicy Default (default /etc/resolv.conf; '' = none)
  --read-only-port N  /metrics, /metrics/resource, /metrics/cadvisor and /stats/summary over HTTP on 127.0.0.1:N
                      (0: none; default 10255 for the real node, any free port for hollow nodes); the nodes
                      advertise it as status.daemonEndpoints.kubeletEndpoint.Port
  --cloud-provider external  the nodes are machines of the local cloud: they register with the taint
                      node.cloudprovider.kubernetes.io/uninitialized, which the cloud-controller-manager
                      removes once it set providerID, addresses, zone and instance type (docs/services.md)
  --nodes N           how many nodes this process carries (named <prefix><index>)
  --name-prefix P     node name prefix (default hollow-)
  --first-index I     the first node's index: processes with one prefix carry disjoint ranges (default 0)
  --cpu, --memory, --pods   each node's capacity and allocatable
  --zones Z           nodes are spread over topology.kubernetes.io/zone zone-0 .. zone-(Z-1)
  --start-delay-ms D  how long a pod stays Pending before its containers run
  --synthetic-log-rate N  each running hollow container prints N lines a second into the log stream
                      (FLOTILLA_LOGS, as a real node ships its files; default 0: none)
${tracingFlagsUsage(20)}

A hollow container runs until its pod is deleted, unless the pod's annotations say
flotilla.io/hollow-run-seconds (exit after that long) and flotilla.io/hollow-exit-code.`;

const KUBELET_FLAGS = {
  nats: { type: 'string' },
  runtime: { type: 'string', default: 'hollow' },
  'container-runtime-endpoint': { type: 'string' },
  'root-dir': { type: 'string' },
  'cni-conf-dir': { type: 'string' },
  'pod-cidr': { type: 'string' },
  'hostname-override': { type: 'string' },
  'node-ip': { type: 'string' },
  netns: { type: 'string' },
  'container-log-max-size': { type: 'string' },
  'container-log-max-files': { type: 'string' },
  'cni-network': { type: 'string' },
  'cni-bridge': { type: 'string' },
  'system-reserved': { type: 'string' },
  'pod-manifest-path': { type: 'string' },
  'kube-reserved': { type: 'string' },
  'eviction-hard': { type: 'string' },
  'registry-port': { type: 'string' },
  'cluster-dns': { type: 'string' },
  'cluster-domain': { type: 'string' },
  'resolv-conf': { type: 'string' },
  'ship-logs': { type: 'string' },
  'read-only-port': { type: 'string' },
  nodes: { type: 'string' },
  'name-prefix': { type: 'string' },
  'first-index': { type: 'string' },
  cpu: { type: 'string' },
  memory: { type: 'string' },
  pods: { type: 'string' },
  zones: { type: 'string' },
  'start-delay-ms': { type: 'string' },
  'synthetic-log-rate': { type: 'string' },
  'cloud-provider': { type: 'string' },
  ...TRACING_FLAG_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type KubeletFlags = ReturnType<typeof parseArgs<{ options: typeof KUBELET_FLAGS }>>['values'];

export async function runKubelet(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: KUBELET_FLAGS });
  if (values.help) {
    console.log(KUBELET_USAGE);
    return 0;
  }
  if (values.runtime === 'cri') return runCriKubelet(values);
  if (values.runtime !== 'hollow') throw new Error(`--runtime: "hollow" or "cri", got "${values.runtime}"`);
  const nodes = intFlag(values.nodes, '--nodes', 1, MAX_NODE_CIDRS);
  if (nodes === undefined) throw new Error(`--nodes N is required\n\n${KUBELET_USAGE}`);
  const natsUrl = natsUrlFlag(values.nats);
  const t0 = Date.now();
  return startAndRunUntilStopped(
    'kubelet',
    () =>
      startKubelet({
        natsUrl,
        runtime: 'hollow',
        nodes,
        namePrefix: values['name-prefix'],
        firstIndex: intFlag(values['first-index'], '--first-index', 0, MAX_NODE_CIDRS - nodes),
        cpu: checkedFlag(values.cpu, '--cpu', parseQuantity),
        memory: checkedFlag(values.memory, '--memory', parseQuantity),
        pods: intFlag(values.pods, '--pods', 1, 250),
        zones: intFlag(values.zones, '--zones', 1, 1000),
        startDelayMs: intFlag(values['start-delay-ms'], '--start-delay-ms', 0),
        syntheticLogRate: intFlag(values['synthetic-log-rate'], '--synthetic-log-rate', 0, 100_000),
        tracing: tracingFlags(values),
        readOnlyPort: intFlag(values['read-only-port'], '--read-only-port', 0, 65535),
        cloudProvider: cloudProviderFlag(values['cloud-provider']),
      }),
    () => console.log(`kubelet: ${nodes} hollow nodes registered in ${Date.now() - t0} ms (NATS ${natsUrl})`),
  );
}

/** --cloud-provider: '' (none, the default) or external, as upstream's kubelet has left */
function cloudProviderFlag(v: string | undefined): 'external' | undefined {
  if (v === undefined || v === '') return undefined;
  if (v !== 'external') throw new Error(`--cloud-provider: only "external" (a cloud-controller-manager) is supported, got "${v}"`);
  return 'external';
}

runIfEntryPoint(import.meta.url, 'kubelet', runKubelet);

async function runCriKubelet(values: KubeletFlags): Promise<number> {
  const podCIDR = checkedFlag(values['pod-cidr'], '--pod-cidr', parseIPv4CIDR);
  const endpoint = values['container-runtime-endpoint'] ?? DEFAULT_CRI_ENDPOINT;
  const natsUrl = natsUrlFlag(values.nats);
  const t0 = Date.now();
  return startAndRunUntilStopped(
    'kubelet',
    () =>
      startKubelet({
        natsUrl,
        runtime: 'cri',
        pods: intFlag(values.pods, '--pods', 1, 250),
        tracing: tracingFlags(values),
        readOnlyPort: intFlag(values['read-only-port'], '--read-only-port', 0, 65535) ?? DEFAULT_READ_ONLY_PORT,
        readOnlyPortFallback: values['read-only-port'] === undefined,
        cloudProvider: cloudProviderFlag(values['cloud-provider']),
        cri: {
          endpoint,
          rootDir: values['root-dir'] ?? DEFAULT_ROOT_DIR,
          cniConfDir: values['cni-conf-dir'] ?? DEFAULT_CNI_CONF_DIR,
          podCIDR,
          nodeName: values['hostname-override'],
          nodeIP: checkedFlag(values['node-ip'], '--node-ip', ipToInt),
          netns: values.netns,
          containerLogMaxSize: values['container-log-max-size'] === undefined ? undefined : Number(parseQuantity(checkedFlag(values['container-log-max-size'], '--container-log-max-size', parseQuantity)!).value()),
          containerLogMaxFiles: intFlag(values['container-log-max-files'], '--container-log-max-files', 2),
          network: values['cni-network'],
          bridge: values['cni-bridge'],
          podManifestPath: values['pod-manifest-path'],
          systemReserved: checkedFlag(values['system-reserved'], '--system-reserved', (v) => parseReserved('--system-reserved', v)),
          kubeReserved: checkedFlag(values['kube-reserved'], '--kube-reserved', (v) => parseReserved('--kube-reserved', v)),
          evictionHard: checkedFlag(values['eviction-hard'], '--eviction-hard', parseEvictionHard),
          shipLogs: boolFlag(values['ship-logs'], '--ship-logs') ?? false,
          images: { registries: localRegistryHosts(intFlag(values['registry-port'], '--registry-port', 1, 65535)) },
          dns: { clusterDNS: values['cluster-dns']?.split(',').map((s) => s.trim()).filter(Boolean) ?? [], clusterDomain: values['cluster-domain'], resolvConf: values['resolv-conf'] },
        },
      }),
    (running) => {
      const [node] = running.nodes.nodes.values();
      console.log(`kubelet: node ${node!.name} registered in ${Date.now() - t0} ms (${running.runtime.runtimeName} ${running.runtime.runtimeVersion} at ${endpoint}, pod network ${node!.podCIDR}, NATS ${natsUrl})`);
    },
  );
}
