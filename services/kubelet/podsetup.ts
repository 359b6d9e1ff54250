/**
 * What a real node prepares for a pod beyond the runtime calls themselves, in one place
 * so pods.ts only calls it: the ConfigMaps and Secrets the pod references (watched one
 * by one, watchmanager.ts), its volumes (volumes/manager.ts, rewritten when those
 * objects change), and each container's config with its environment resolved
 * (envvars.ts), `$(VAR)` expanded in command and args, and its volume mounts.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../../lib/client/mod.js';
import { containerConfig } from './containerconfig.js';
import { podDnsConfig, type ClusterDnsSettings } from './dnsconfig.js';
import { expandCommandAndArgs, makeEnvironment } from './envvars.js';
import type { PodEvents } from './events.js';
import type { ContainerConfig, PodSandboxConfig, PortMapping } from './runtime.js';
import { containerSecurity, sandboxSecurity } from './securitycontext.js';
import { configMapManager, secretManager } from './watchmanager.js';
import { VolumeManager } from './volumes/manager.js';

export interface PodSetupOptions {
  client: ApiClient;
  /** the kubelet's root-dir: volumes under pods/<uid>/volumes */
  rootDir: string;
  /** the node's allocatable (limits a container does not set default to it) */
  allocatable: () => Record<string, string>;
  events?: PodEvents;
  log?: (line: string) => void;
  /** --cluster-dns, --cluster-domain and the host's resolv.conf: each pod's by its dnsPolicy */
  dns?: ClusterDnsSettings;
}

export class PodSetup {
  readonly configMaps;
  readonly secrets;
  readonly volumes: VolumeManager;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: PodSetupOptions) {
    this.log = opts.log ?? (() => {});
    this.configMaps = configMapManager(opts.client, this.log);
    this.secrets = secretManager(opts.client, this.log);
    this.volumes = new VolumeManager({
      rootDir: opts.rootDir,
      configMap: (ns, name) => this.configMaps.get(ns, name),
      secret: (ns, name) => this.secrets.get(ns, name),
      allocatable: opts.allocatable,
      log: this.log,
    });
    // configMap and secret volumes follow their objects (upstream within its sync period; here on the watch event)
    this.configMaps.onChange((ns, name) => void this.volumes.objectChanged('configmap', ns, name));
    this.secrets.onChange((ns, name) => void this.volumes.objectChanged('secret', ns, name));
  }

  /** A pod arrived on this node (or changed): watch what it references. */
  admit(pod: Pod): void {
    this.configMaps.registerPod(pod);
    this.secrets.registerPod(pod);
    void this.volumes.podUpdated(pod);
  }

  /** Before the sandbox: the pod's volumes. Fails (VolumeSetUpError, a FailedMount event) until they can be set up. */
  async prepare(pod: Pod): Promise<void> {
    try {
      await this.volumes.setUpPod(pod);
    } catch (e) {
      this.opts.events?.recordPod(pod, 'Warning', 'FailedMount', (e as Error).message);
      throw e;
    }
  }

  /** The runtime's config for container c: containerconfig.ts's, with env from every source and expanded command and args. */
  async containerConfig(pod: Pod, c: Container, attempt: number, podIP: string, hostIP: string): Promise<ContainerConfig> {
    const config = containerConfig(pod, { ...c, env: undefined }, attempt, podIP, hostIP);
    const envs = await makeEnvironment(pod, c, {
      configMap: (ns, name) => this.configMaps.get(ns, name),
      secret: (ns, name) => this.secrets.get(ns, name),
      allocatable: this.opts.allocatable(),
      podIP,
      hostIP,
      invalidKeys: (m) => this.opts.events?.recordPod(pod, 'Warning', 'InvalidEnvironmentVariableNames', m),
    });
    const { command, args } = expandCommandAndArgs(c, envs);
    if (envs.length) config.envs = envs;
    if (command?.length) config.command = command;
    if (args?.length) config.args = args;
    const mounts = this.volumes.mounts(pod, c);
    if (mounts.length) config.mounts = mounts;
    const security = containerSecurity(pod, c);
    if (security) config.securityContext = security;
    return config;
  }

  /**
   * The sandbox config with the pod's security settings and namespaces, host network (the
   * node's hostname) and its containers' ports as CRI port mappings (containerd
   * hands those with a hostPort to CNI's portmap plugin), and its resolv.conf by dnsPolicy.
   */
  sandboxConfig(pod: Pod, base: PodSandboxConfig): PodSandboxConfig {
    const out: PodSandboxConfig = { ...base };
    out.securityContext = sandboxSecurity(pod);
    // runc sets no hostname without a UTS namespace of the pod's; containerd then writes the node's to /etc/hostname
    if (pod.spec?.hostNetwork) out.hostname = '';
    const ports: PortMapping[] = [];
    for (const c of pod.spec?.containers ?? [])
      for (const p of c.ports ?? []) {
        // a host-network pod's ports are the host's already
        const hostPort = pod.spec?.hostNetwork ? 0 : (p.hostPort ?? 0);
        if (hostPort > 0) ports.push({ protocol: (p.protocol ?? 'TCP') as PortMapping['protocol'], containerPort: p.containerPort, hostPort, hostIp: p.hostIP ?? '' });
      }
    if (ports.length) out.portMappings = ports;
    if (this.opts.dns) out.dnsConfig = podDnsConfig(pod, this.opts.dns, (reason, message) => this.opts.events?.recordPod(pod, 'Warning', reason, message));
    return out;
  }

  /** The pod is gone from this node: its volumes torn down, and no more watching what only it referenced. */
  async release(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    this.configMaps.unregisterPod(uid);
    this.secrets.unregisterPod(uid);
    try {
      this.volumes.tearDownPod(uid);
    } catch (e) {
      this.log(`pod ${pod.metadata?.namespace}/${pod.metadata?.name}: tearing down volumes: ${(e as Error).message}`);
    }
  }

  /** After a restart, once the pods are known: volumes of pods that are gone. */
  removeOrphans(live: Set<string | undefined>): void {
    try {
      this.volumes.removeOrphans(new Set([...live].filter((u): u is string => !!u)));
    } catch (e) {
      this.log(`removing orphaned volumes: ${(e as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.configMaps.stop(), this.secrets.stop()]);
  }
}
