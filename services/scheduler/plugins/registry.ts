/**
 * The in-tree plugin registry (upstream pkg/scheduler/framework/plugins/registry.go):
 * upstream plugin name -> factory(args, handle). The service hands it to each profile's
 * framework.
 */
import type { Registry } from '../framework/types.js';
import { newBalancedAllocation, BALANCEDALLOCATION } from './balancedallocation.js';
import { newDefaultBinder, DEFAULTBINDER } from './defaultbinder.js';
import { newNodeAffinity, NODEAFFINITY } from './nodeaffinity.js';
import { newNodeName, NODENAME } from './nodename.js';
import { newNodePorts, NODEPORTS } from './nodeports.js';
import { newNodeResourcesFit, NODERESOURCESFIT } from './noderesourcesfit.js';
import { newNodeUnschedulable, NODEUNSCHEDULABLE } from './nodeunschedulable.js';
import { newPrioritySort, PRIORITYSORT } from './prioritysort.js';
import { newTaintToleration, TAINTTOLERATION } from './tainttoleration.js';
import { newPodTopologySpread, PODTOPOLOGYSPREAD, type PodTopologySpreadArgs } from './podtopologyspread.js';
import { newInterPodAffinity, INTERPODAFFINITY, type InterPodAffinityArgs } from './interpodaffinity.js';
import { newDefaultPreemption, NAME as DEFAULTPREEMPTION, type DefaultPreemptionDeps } from './defaultpreemption/defaultpreemption.js';

/**
 * Upstream default plugins that have nothing to act on here (no volumes, no image
 * locality data, no scheduling gates yet): a configuration may name them; they are skipped.
 */
const NOT_APPLICABLE_PLUGINS = [
  'SchedulingGates',
  'VolumeRestrictions',
  'NodeVolumeLimits',
  'EBSLimits',
  'GCEPDLimits',
  'AzureDiskLimits',
  'CinderLimits',
  'VolumeBinding',
  'VolumeZone',
  'ImageLocality',
  'DynamicResources',
];

export const inTreeRegistry: Registry = {
  ...Object.fromEntries(NOT_APPLICABLE_PLUGINS.map((name) => [name, () => undefined])),
  [PRIORITYSORT]: () => newPrioritySort(),
  [NODENAME]: () => newNodeName(),
  [NODEUNSCHEDULABLE]: () => newNodeUnschedulable(),
  [TAINTTOLERATION]: () => newTaintToleration(),
  [NODEAFFINITY]: (args) => newNodeAffinity(args),
  [NODEPORTS]: () => newNodePorts(),
  [NODERESOURCESFIT]: (args, h) => newNodeResourcesFit(args, h),
  [BALANCEDALLOCATION]: (args, h) => newBalancedAllocation(args, h),
  [PODTOPOLOGYSPREAD]: (args, h) => newPodTopologySpread(args as PodTopologySpreadArgs | undefined, h),
  [INTERPODAFFINITY]: (args, h) => newInterPodAffinity(args as InterPodAffinityArgs | undefined, h),
  [DEFAULTPREEMPTION]: (args, h) => {
    // without an ApiClient (unit tests, dry runs) preemption cannot evict: the plugin stays inert
    if (!h.client) return { name: DEFAULTPREEMPTION };
    const deps: DefaultPreemptionDeps = {
      ...(h.extras as Partial<DefaultPreemptionDeps> | undefined),
      client: h.client,
      snapshot: h.snapshot,
      reasons: (code, detail, snapshot) => h.framework.renderReasons(code, detail, snapshot),
    };
    return newDefaultPreemption(args as Parameters<typeof newDefaultPreemption>[0], deps);
  },
  [DEFAULTBINDER]: (args, h) => newDefaultBinder(args, h),
};
