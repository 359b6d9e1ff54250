/**
 * Which node and container an exec, attach or port-forward goes to, checked as
 * upstream's pod REST storage does before it proxies to the kubelet: the pod exists, has a
 * node, the container is one of its own (defaulted when the pod has only one), and the pod
 * is not finished. A pod on a hollow node is refused at once: nothing runs there.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { BadRequestError } from '../../../lib/api/errors.js';
import { findKind } from '../kinds.js';
import type { ObjectStorage } from '../storage.js';

export type StreamingSubresource = 'exec' | 'attach' | 'portforward';

/** the label hollow nodes carry (services/kubelet/nodes.ts HOLLOW_LABEL) */
const HOLLOW_LABEL = 'flotilla.io/hollow';

/** A hollow node's containers are simulated: no logs, no exec, attach or port-forward. */
export function isHollowNode(node: { metadata?: { labels?: Record<string, string> } } | undefined): boolean {
  return node?.metadata?.labels?.[HOLLOW_LABEL] === 'true';
}

export interface StreamTarget {
  nodeName: string;
  /** lib/stream's request target */
  target: { namespace: string; pod: string; uid: string; container?: string };
}

function kind(plural: string) {
  const k = findKind('', 'v1', plural);
  if (!k) throw new Error(`the ${plural} kind is not served`);
  return k;
}

export async function resolveTarget(storage: ObjectStorage, sub: StreamingSubresource, namespace: string, name: string, container: string | undefined): Promise<StreamTarget> {
  const pod = (await storage.get(kind('pods'), namespace, name)) as Pod;
  const spec = pod.spec!;
  const target: StreamTarget['target'] = { namespace, pod: name, uid: pod.metadata!.uid! };
  if (sub !== 'portforward') {
    const names = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].map((c) => c.name);
    if (!container) {
      if (spec.containers?.length !== 1) throw new BadRequestError(`a container name must be specified for pod ${name}, choose one of: [${spec.containers?.map((c) => c.name).join(' ')}]`);
      container = spec.containers[0].name;
    }
    if (!names.includes(container)) throw new BadRequestError(`container ${container} is not valid for pod ${name}`);
    target.container = container;
  }
  const nodeName = spec.nodeName;
  if (!nodeName) throw new BadRequestError(`pod ${name} does not have a host assigned`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    const verb = sub === 'exec' ? 'exec into' : sub === 'attach' ? 'attach to' : 'forward a port of';
    throw new BadRequestError(`cannot ${verb} a container in a completed pod; current phase is ${phase}`);
  }
  const node = storage.cache.get(kind('nodes').storage, '', nodeName)?.obj as { metadata?: { labels?: Record<string, string> } } | undefined;
  if (isHollowNode(node)) {
    throw new BadRequestError(`pod ${name} runs on hollow node ${nodeName}, whose containers are simulated: ${sub} needs a pod on a real node`);
  }
  return { nodeName, target };
}
