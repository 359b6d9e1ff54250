/**
 * Every resource the services name, defined once: a component asks for `JOBS` or
 * `Resources.jobs`, never spells out a group and version of its own. Each must be a kind
 * the schema serves (lib/schema/kinds; resources.test.ts holds them to it).
 */
import type { ResourceRef } from './protocol.js';

/** A resource type without a namespace or name: what a ResourceClient or informer is for. */
export type GroupVersionResource = Pick<ResourceRef, 'group' | 'version' | 'resource'>;

function gvr<const G extends string, const R extends string>(group: G, version: 'v1', resource: R) {
  return { group, version, resource } as const satisfies GroupVersionResource;
}

export const NAMESPACES = gvr('', 'v1', 'namespaces');
export const NODES = gvr('', 'v1', 'nodes');
export const PODS = gvr('', 'v1', 'pods');
export const SERVICES = gvr('', 'v1', 'services');
export const ENDPOINTS = gvr('', 'v1', 'endpoints');
export const CONFIGMAPS = gvr('', 'v1', 'configmaps');
export const SECRETS = gvr('', 'v1', 'secrets');
export const SERVICE_ACCOUNTS = gvr('', 'v1', 'serviceaccounts');
export const EVENTS = gvr('', 'v1', 'events');
export const LEASES = gvr('coordination.k8s.io', 'v1', 'leases');
export const DEPLOYMENTS = gvr('apps', 'v1', 'deployments');
export const REPLICASETS = gvr('apps', 'v1', 'replicasets');
export const STATEFULSETS = gvr('apps', 'v1', 'statefulsets');
export const DAEMONSETS = gvr('apps', 'v1', 'daemonsets');
export const CONTROLLER_REVISIONS = gvr('apps', 'v1', 'controllerrevisions');
export const JOBS = gvr('batch', 'v1', 'jobs');
export const CRONJOBS = gvr('batch', 'v1', 'cronjobs');
export const ENDPOINT_SLICES = gvr('discovery.k8s.io', 'v1', 'endpointslices');
export const PODDISRUPTIONBUDGETS = gvr('policy', 'v1', 'poddisruptionbudgets');
export const PRIORITY_CLASSES = gvr('scheduling.k8s.io', 'v1', 'priorityclasses');
export const APISERVICES = gvr('apiregistration.k8s.io', 'v1', 'apiservices');
/** events.k8s.io/v1 Event, what the EventRecorder writes */
export const EVENTS_V1 = gvr('events.k8s.io', 'v1', 'events');

/** The same constants by plural, for callers that read better so (`Resources.pods`). */
export const Resources = {
  namespaces: NAMESPACES,
  nodes: NODES,
  pods: PODS,
  services: SERVICES,
  endpoints: ENDPOINTS,
  configmaps: CONFIGMAPS,
  secrets: SECRETS,
  serviceaccounts: SERVICE_ACCOUNTS,
  events: EVENTS,
  leases: LEASES,
  deployments: DEPLOYMENTS,
  replicasets: REPLICASETS,
  statefulsets: STATEFULSETS,
  daemonsets: DAEMONSETS,
  controllerrevisions: CONTROLLER_REVISIONS,
  jobs: JOBS,
  cronjobs: CRONJOBS,
  endpointslices: ENDPOINT_SLICES,
  poddisruptionbudgets: PODDISRUPTIONBUDGETS,
  priorityclasses: PRIORITY_CLASSES,
  apiservices: APISERVICES,
} as const satisfies Record<string, GroupVersionResource>;
