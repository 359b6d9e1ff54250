/**
 * A container's environment as upstream's kubelet makes it (kubelet_pods.go
 * makeEnvironmentVariables): first `envFrom` (ConfigMaps and Secrets, each key with the
 * optional prefix; keys that are no valid variable names are skipped and reported), then
 * `env` in order, later entries overriding earlier ones. A `value` has its `$(VAR)`
 * references expanded against what is defined so far; `valueFrom` reads a fieldRef,
 * a resourceFieldRef, or a key of a ConfigMap or Secret. A missing object or key that is
 * not `optional` makes the container config fail with upstream's message, so the pod
 * shows CreateContainerConfigError. Command and args are expanded against the result.
 */
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../../lib/api/errors.js';
import { ContainerConfigError, fieldValue } from './containerconfig.js';
import { expand, mappingFor } from './expansion.js';
import { resourceFieldValue } from './resourcefield.js';

export interface EnvSources {
  configMap(namespace: string, name: string): Promise<ConfigMap>;
  secret(namespace: string, name: string): Promise<Secret>;
  /** the node's allocatable: the default of limits a container does not set */
  allocatable: Record<string, string>;
  podIP: string;
  hostIP: string;
  /** told of envFrom keys skipped as invalid names (upstream's InvalidEnvironmentVariableNames event) */
  invalidKeys?(message: string): void;
}

const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The object, undefined when it is missing and optional; other failures are the config's error. */
async function lookup<T>(get: () => Promise<T>, optional: boolean | undefined): Promise<T | undefined> {
  try {
    return await get();
  } catch (e) {
    if (isNotFound(e) && optional) return undefined;
    throw new ContainerConfigError((e as Error).message);
  }
}

function secretData(s: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64').toString();
  // stringData is write-only in the API, but an object read from a store that kept it still counts
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] ??= v;
  return out;
}

/** The environment of container c, in order, each name once. */
export async function makeEnvironment(pod: Pod, c: Container, src: EnvSources): Promise<Array<{ key: string; value: string }>> {
  const ns = pod.metadata?.namespace ?? '';
  const env = new Map<string, string>();
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    let what = '';
    if (from.configMapRef) {
      const cm = await lookup(() => src.configMap(ns, from.configMapRef!.name!), from.configMapRef.optional);
      data = cm?.data ?? (cm ? {} : undefined);
      what = `configMap ${ns}/${from.configMapRef.name}`;
    } else if (from.secretRef) {
      const s = await lookup(() => src.secret(ns, from.secretRef!.name!), from.secretRef.optional);
      data = s ? secretData(s) : undefined;
      what = `secret ${ns}/${from.secretRef.name}`;
    }
    if (!data) continue;
    const invalid: string[] = [];
    for (const [k, v] of Object.entries(data)) {
      const key = prefix + k;
      if (!ENV_VAR_NAME.test(key)) invalid.push(key);
      else env.set(key, v);
    }
    if (invalid.length) src.invalidKeys?.(`Keys [${invalid.sort().join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`);
  }
  for (const e of c.env ?? []) {
    let value = e.value ?? '';
    const from = e.valueFrom;
    if (value !== '') value = expand(value, mappingFor(env));
    else if (from?.fieldRef) value = fieldValue(pod, from.fieldRef.fieldPath, src.podIP, src.hostIP);
    else if (from?.resourceFieldRef) value = resourceFieldValue(from.resourceFieldRef, pod, c, src.allocatable);
    else if (from?.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const cm = await lookup(() => src.configMap(ns, ref.name ?? ''), ref.optional);
      if (!cm) continue;
      const v = cm.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      }
      value = v;
    } else if (from?.secretKeyRef) {
      const ref = from.secretKeyRef;
      const s = await lookup(() => src.secret(ns, ref.name ?? ''), ref.optional);
      if (!s) continue;
      const v = secretData(s)[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      }
      value = v;
    }
    env.set(e.name, value);
  }
  return [...env].map(([key, value]) => ({ key, value }));
}

/** Command and args with `$(VAR)` expanded against the container's environment (upstream ExpandContainerCommandAndArgs). */
export function expandCommandAndArgs(c: Container, envs: Array<{ key: string; value: string }>): { command?: string[]; args?: string[] } {
  const mapping = mappingFor(new Map(envs.map((e) => [e.key, e.value])));
  return { command: c.command?.map((s) => expand(s, mapping)), args: c.args?.map((s) => expand(s, mapping)) };
}
