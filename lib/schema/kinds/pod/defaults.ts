/**
 * What the apiserver fills in on a pod: upstream's defaulting (static schema defaults plus
 * the computed ones) and the QoS class it records at creation.
 */
import { CORE } from '../../dsl.js';
import { applySchemaDefaults } from '../../defaults.js';

/** Upstream ParseImageName's tag: "latest" when the image names neither a tag nor a digest. */
function imageTag(image: string): string {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const lastPart = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastPart.lastIndexOf(':');
  if (colon >= 0) return lastPart.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}

function defaultContainer(c: any, hostNetwork: boolean): void {
  if (!c || typeof c !== 'object') return;
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    c.imagePullPolicy = imageTag(c.image) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  // Upstream defaults requests to limits for each resource that has a limit but no request.
  const limits = c.resources?.limits;
  if (limits && typeof limits === 'object') {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(limits)) c.resources.requests[k] ??= v;
  }
  if (hostNetwork) {
    for (const p of c.ports ?? []) if (p && p.hostPort === undefined) p.hostPort = p.containerPort;
  }
}

/** Upstream's pod defaulting on the v1 object: static schema defaults plus the computed ones. */
export function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  applySchemaDefaults(spec, CORE + 'PodSpec');
  const hostNetwork = spec.hostNetwork === true;
  for (const c of spec.containers ?? []) defaultContainer(c, hostNetwork);
  for (const c of spec.initContainers ?? []) defaultContainer(c, hostNetwork);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c, false);
}

/**
 * The pod's QoS class as upstream computes it: BestEffort without any cpu/memory request
 * or limit, Guaranteed when every container limits cpu and memory with requests equal to
 * the limits, Burstable otherwise.
 */
export function qosClass(spec: any): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers: any[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c?.resources?.requests ?? {};
    const lim = c?.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      if (lim[r] === undefined) guaranteed = false;
      else if (req[r] !== undefined && String(req[r]) !== String(lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
