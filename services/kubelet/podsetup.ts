/**
 * What a real node prepares for a pod beyond the runtime calls themselves, in one place
 * so pods.ts only calls it: the ConfigMaps and Secrets the pod references (watched one
 * by one, watchmanager.ts), and each container's config with its environment resolved
 * (envvars.ts) and `$(VAR)` expanded in command and args.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../../lib/client/mod.js';
import { containerConfig } from './containerconfig.js';
import { expandCommandAndArgs, makeEnvironment } from './envvars.js';
import type { PodEvents } from './events.js';
import type { ContainerConfig } from './runtime.js';
import { configMapManager, secretManager } from './watchmanager.js';

export interface PodSetupOptions {
  client: ApiClient;
  /** the node's allocatable (limits a container does not set default to it) */
  allocatable: () => Record<string, string>;
  events?: PodEvents;
  log?: (line: string) => void;
}

export class PodSetup {
  readonly configMaps;
  readonly secrets;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: PodSetupOptions) {
    this.log = opts.log ?? (() => {});
    this.configMaps = configMapManager(opts.client, this.log);
    this.secrets = secretManager(opts.client, this.log);
  }

  /** A pod arrived on this node (or changed): watch what it references. */
  admit(pod: Pod): void {
    this.configMaps.registerPod(pod);
    this.secrets.registerPod(pod);
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
    return config;
  }

  /** The pod is gone from this node: stop watching what only it referenced. */
  async release(pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    this.configMaps.unregisterPod(uid);
    this.secrets.unregisterPod(uid);
  }

  async stop(): Promise<void> {
    await Promise.all([this.configMaps.stop(), this.secrets.stop()]);
  }
}
