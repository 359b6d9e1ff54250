/**
 * apps/v1: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision, and the
 * PersistentVolumeClaim shape used by StatefulSet volumeClaimTemplates. Protobuf numbers
 * follow k8s.io/api apps/v1 (and core/v1 for the claim types) generated.proto.
 *
 * This module also exports the small workload helpers (non-negative and percent checks,
 * selector/template validation, selector formatting, container cells, the AGE column)
 * that the other group modules (batch, policy, ...) share.
 */
import { CORE, define, defineObject, field, META, fieldType } from '../dsl.js';
import { registerKind } from '../registry.js';
import type { Column, FieldError } from '../types.js';
import { translateAge } from '../printing.js';
import { forbidden, invalid, notSupported, required } from '../fielderrors.js';
import { canonicalJson, sortKeys } from '../../api/canonical.js';
import { formatLabels, selectorFromLabelSelector, type LabelSelector } from '../../api/labels.js';

const APPS = 'io.k8s.api.apps.v1.';

// ---------------------------------------------------------------------------
// Field checks and label selectors shared by the workload kinds.

/** upstream isNegativeErrorMsg */
export const NEGATIVE_MSG = 'must be greater than or equal to 0';

export function validateNonNegative(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'number' || !Number.isInteger(value)) return [invalid(path, value, 'must be an integer')];
  return value < 0 ? [invalid(path, value, NEGATIVE_MSG)] : [];
}

/** Checks an IntOrString that counts pods: a non-negative integer or a percentage "N%". */
export function validateIntOrPercent(value: unknown, path: string, maxPercent = Infinity): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number') return validateNonNegative(value, path);
  if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value);
    if (!m) return [invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
    if (Number(m[1]) > maxPercent) return [invalid(path, value, 'must not be greater than 100%')];
    return [];
  }
  return [invalid(path, value, "must be an integer or percentage (e.g '5%')")];
}

export function selectorIsEmpty(sel: LabelSelector | undefined | null): boolean {
  return !!sel && Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length === 0;
}

/** labels.Selector.String() of a LabelSelector, or undefined when it does not compile. */
function selectorString(sel: LabelSelector | undefined | null): string | undefined {
  try {
    return selectorFromLabelSelector(sel).toString();
  } catch {
    return undefined;
  }
}

/** metav1.FormatLabelSelector: the selector string, "<none>" when it selects by nothing. */
export function formatLabelSelector(sel: LabelSelector | undefined | null): string {
  const s = selectorString(sel);
  return s === undefined ? '<error>' : s || '<none>';
}

/** upstream layoutContainerCells: container names and images, comma-joined. */
export function containerCells(podSpec: any): [string, string] {
  const cs: any[] = podSpec?.containers ?? [];
  return [cs.map((c) => c?.name ?? '').join(','), cs.map((c) => c?.image ?? '').join(',')];
}

/** The three -o wide columns the controllers share (CONTAINERS IMAGES SELECTOR). */
export function wideTemplateColumns(podSpecOf: (obj: any) => any, selectorOf?: (obj: any) => string): Column[] {
  const cols: Column[] = [
    { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', value: (o) => containerCells(podSpecOf(o))[0] },
    { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', value: (o) => containerCells(podSpecOf(o))[1] },
  ];
  if (selectorOf) cols.push({ name: 'Selector', type: 'string', priority: 1, description: 'Label query over pods that should match the template.', value: (o) => selectorOf(o) });
  return cols;
}

export const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  priority: 0,
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  value: (o, now) => translateAge(o?.metadata?.creationTimestamp, now),
};

/**
 * The selector/template checks shared by the replicated controllers (upstream
 * ValidatePodTemplateSpecForReplicaSet and friends). `what` names the kind in the
 * "empty selector is invalid for ..." message, as upstream does.
 */
export function validateSelectorMatchesTemplate(
  spec: any,
  specPath: string,
  what: string,
  opts: { requireAlwaysRestart?: boolean } = {},
): FieldError[] {
  const errs: FieldError[] = [];
  const sel = spec?.selector;
  let selectorOk = false;
  if (sel === undefined || sel === null) {
    errs.push(required(`${specPath}.selector`));
  } else {
    const before = errs.length;
    for (const [i, r] of (sel.matchExpressions ?? []).entries()) {
      const p = `${specPath}.selector.matchExpressions[${i}]`;
      if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(r?.operator)) {
        errs.push(notSupported(`${p}.operator`, r?.operator ?? '', ['In', 'NotIn', 'Exists', 'DoesNotExist']));
      } else if ((r.operator === 'In' || r.operator === 'NotIn') && !(r.values ?? []).length) {
        errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      } else if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && (r.values ?? []).length) {
        errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
    }
    if (selectorIsEmpty(sel)) errs.push(invalid(`${specPath}.selector`, sortKeys(sel), `empty selector is invalid for ${what}`));
    if (errs.length === before) {
      try {
        selectorFromLabelSelector(sel);
        selectorOk = true;
      } catch (e) {
        errs.push(invalid(`${specPath}.selector`, sortKeys(sel), `invalid label selector: ${(e as Error).message}`));
      }
    }
  }
  const tmpl = spec?.template;
  if (tmpl === undefined || tmpl === null) {
    errs.push(required(`${specPath}.template`));
    return errs;
  }
  if (selectorOk && !selectorIsEmpty(sel) && !selectorFromLabelSelector(sel).matches(tmpl.metadata?.labels)) {
    errs.push(invalid(`${specPath}.template.metadata.labels`, sortKeys(tmpl.metadata?.labels ?? null), '`selector` does not match template `labels`'));
  }
  const restart = tmpl.spec?.restartPolicy;
  if (opts.requireAlwaysRestart && restart !== undefined && restart !== 'Always') {
    errs.push(notSupported(`${specPath}.template.spec.restartPolicy`, restart, ['Always']));
  }
  if (opts.requireAlwaysRestart && tmpl.spec?.activeDeadlineSeconds !== undefined && tmpl.spec?.activeDeadlineSeconds !== null) {
    const owner = what === 'daemonset' ? 'DaemonSet' : what === 'statefulset' ? 'StatefulSet' : 'ReplicaSet';
    errs.push(forbidden(`${specPath}.template.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${owner} is not Supported`));
  }
  return errs;
}

function ensure(obj: any, key: string): any {
  if (obj[key] === undefined || obj[key] === null || typeof obj[key] !== 'object') obj[key] = {};
  return obj[key];
}

const conditionFields = (kindWord: string, extra: Record<string, ReturnType<typeof field>> = {}) => ({
  type: field(1, fieldType.string, `Type of ${kindWord} condition.`, { required: true }),
  status: field(2, fieldType.string, 'Status of the condition: True, False or Unknown.', { required: true }),
  lastTransitionTime: field(3, fieldType.time, 'The last time the condition changed from one status to another.'),
  reason: field(4, fieldType.string, "A short, CamelCase reason for the condition's last transition."),
  message: field(5, fieldType.string, 'A human-readable message with details about the transition.'),
  ...extra,
});

const conditionsList = { mergeKey: 'type', strategy: 'merge' as const, listType: 'map' as const, listMapKeys: ['type'] };

// ---------------------------------------------------------------------------
// Deployment

defineObject(APPS + 'Deployment', 'Deployment provides declarative updates for Pods and ReplicaSets.', {
  spec: field(2, fieldType.ref(APPS + 'DeploymentSpec'), 'The desired behaviour of the Deployment.'),
  status: field(3, fieldType.ref(APPS + 'DeploymentStatus'), 'The most recently observed state of the Deployment.'),
});

define(APPS + 'DeploymentSpec', 'DeploymentSpec is the desired state of a Deployment.', {
  replicas: field(1, fieldType.int32, 'How many pods the Deployment should run. Defaults to 1.', { pointer: true }),
  selector: field(2, fieldType.ref(META + 'LabelSelector'), "Label query over the pods this Deployment manages. It must match the pod template's labels and is immutable in apps/v1.", { required: true }),
  template: field(3, fieldType.ref(CORE + 'PodTemplateSpec'), 'The pod template new pods are created from. Its restartPolicy must be Always.', { required: true }),
  strategy: field(4, fieldType.ref(APPS + 'DeploymentStrategy'), 'How existing pods are replaced by new ones.', { strategy: 'retainKeys' }),
  minReadySeconds: field(5, fieldType.int32, 'Minimum seconds a new pod must be ready, with no container crashing, before it counts as available. Defaults to 0.'),
  revisionHistoryLimit: field(6, fieldType.int32, 'How many old ReplicaSets to keep so a rollback stays possible. Defaults to 10.', { pointer: true }),
  paused: field(7, fieldType.boolean, 'Stops the deployment controller from rolling out changes while true.'),
  progressDeadlineSeconds: field(9, fieldType.int32, 'Seconds a rollout may make no progress before the Deployment is reported as failed (ProgressDeadlineExceeded). Defaults to 600.', { pointer: true }),
});

define(APPS + 'DeploymentStrategy', 'DeploymentStrategy describes how pods of a Deployment are replaced.', {
  type: field(1, fieldType.enum('Recreate', 'RollingUpdate'), 'Recreate or RollingUpdate. Defaults to RollingUpdate.'),
  rollingUpdate: field(2, fieldType.ref(APPS + 'RollingUpdateDeployment'), 'Rolling update parameters; present only when type is RollingUpdate.'),
});

define(APPS + 'RollingUpdateDeployment', 'Parameters that bound a rolling update of a Deployment.', {
  maxUnavailable: field(1, fieldType.intOrString, 'How many pods (a number or a percentage of desired pods, rounded down) may be unavailable during the update. Defaults to 25%. Cannot be 0 when maxSurge is 0.'),
  maxSurge: field(2, fieldType.intOrString, 'How many pods (a number or a percentage of desired pods, rounded up) may be created above the desired count during the update. Defaults to 25%.'),
});

define(APPS + 'DeploymentStatus', 'DeploymentStatus is the most recently observed state of a Deployment.', {
  observedGeneration: field(1, fieldType.int64, 'The generation the deployment controller last acted on.'),
  replicas: field(2, fieldType.int32, 'Pods (not terminating) targeted by this Deployment, whatever their template.'),
  updatedReplicas: field(3, fieldType.int32, 'Pods (not terminating) that already run the current template.'),
  readyReplicas: field(7, fieldType.int32, 'Pods targeted by this Deployment whose Ready condition is true.'),
  availableReplicas: field(4, fieldType.int32, 'Pods that have been ready for at least minReadySeconds.'),
  unavailableReplicas: field(5, fieldType.int32, 'Pods still needed for the Deployment to be at full availability.'),
  terminatingReplicas: field(9, fieldType.int32, 'Pods of this Deployment that are terminating (have a deletionTimestamp) but are not yet gone.', { pointer: true }),
  conditions: field(6, fieldType.array(fieldType.ref(APPS + 'DeploymentCondition')), 'The latest observations of the Deployment (Available, Progressing, ReplicaFailure).', conditionsList),
  collisionCount: field(8, fieldType.int32, 'Counts pod-template-hash collisions; folded into the hash of the next ReplicaSet name.', { pointer: true }),
});

define(APPS + 'DeploymentCondition', 'DeploymentCondition is one observation about a Deployment.', {
  type: field(1, fieldType.string, 'Type of deployment condition: Available, Progressing or ReplicaFailure.', { required: true }),
  status: field(2, fieldType.string, 'Status of the condition: True, False or Unknown.', { required: true }),
  lastUpdateTime: field(6, fieldType.time, 'The last time this condition was refreshed.'),
  lastTransitionTime: field(7, fieldType.time, 'The last time the condition changed from one status to another.'),
  reason: field(4, fieldType.string, "A short, CamelCase reason for the condition's last transition."),
  message: field(5, fieldType.string, 'A human-readable message with details about the transition.'),
});

function defaultDeployment(obj: any): void {
  const spec = ensure(obj, 'spec');
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  const strategy = ensure(spec, 'strategy');
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = ensure(strategy, 'rollingUpdate');
    if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = '25%';
    if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined || spec.progressDeadlineSeconds === null) spec.progressDeadlineSeconds = 600;
}

function validateDeployment(obj: any, old?: any): FieldError[] {
  const spec = obj?.spec ?? {};
  const errs: FieldError[] = [
    ...validateNonNegative(spec.replicas, 'spec.replicas'),
    ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
    ...validateSelectorMatchesTemplate(spec, 'spec', 'deployment', { requireAlwaysRestart: true }),
  ];
  const strategy = spec.strategy ?? {};
  if (strategy.type !== undefined && strategy.type !== 'Recreate' && strategy.type !== 'RollingUpdate') {
    errs.push(notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
  }
  if (strategy.type === 'Recreate' && strategy.rollingUpdate) {
    errs.push(forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  }
  const ru = strategy.rollingUpdate;
  if (ru && strategy.type === 'RollingUpdate') {
    errs.push(...validateIntOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', 100));
    errs.push(...validateIntOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'));
    const isZero = (v: unknown) => v === 0 || v === '0%';
    if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      errs.push(invalid('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  if (typeof spec.progressDeadlineSeconds === 'number') {
    errs.push(...validateNonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  if (old) errs.push(...validateSelectorImmutable(obj, old));
  return errs;
}

/** apps/v1 selectors cannot change after creation. */
function validateSelectorImmutable(obj: any, old: any): FieldError[] {
  const a = canonicalJson(obj?.spec?.selector ?? null);
  const b = canonicalJson(old?.spec?.selector ?? null);
  return a === b ? [] : [invalid('spec.selector', obj?.spec?.selector ?? null, 'field is immutable')];
}

const scale = { specReplicas: ['spec', 'replicas'], statusReplicas: ['status', 'replicas'], labelSelector: ['spec', 'selector'] };
const templateSpec = (o: any) => o?.spec?.template?.spec;

registerKind({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  definition: APPS + 'Deployment',
  subresources: ['status', 'scale'],
  scale,
  generation: true,
  defaults: defaultDeployment,
  validate: validateDeployment,
  columns: [
    { name: 'Ready', type: 'string', priority: 0, description: 'Number of the pod with ready state', value: (o) => `${o?.status?.readyReplicas ?? 0}/${o?.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'string', priority: 0, description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', value: (o) => o?.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'string', priority: 0, description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', value: (o) => o?.status?.availableReplicas ?? 0 },
    ageColumn,
    ...wideTemplateColumns(templateSpec, (o) => selectorString(o?.spec?.selector) ?? '<invalid>'),
  ],
});

// ---------------------------------------------------------------------------
// ReplicaSet

defineObject(APPS + 'ReplicaSet', 'ReplicaSet keeps a given number of identical pods running.', {
  spec: field(2, fieldType.ref(APPS + 'ReplicaSetSpec'), 'The desired behaviour of the ReplicaSet.'),
  status: field(3, fieldType.ref(APPS + 'ReplicaSetStatus'), 'The most recently observed state of the ReplicaSet; read-only.'),
});

define(APPS + 'ReplicaSetSpec', 'ReplicaSetSpec is the desired state of a ReplicaSet.', {
  replicas: field(1, fieldType.int32, 'How many pods the ReplicaSet should run. Defaults to 1.', { pointer: true }),
  minReadySeconds: field(4, fieldType.int32, 'Minimum seconds a new pod must be ready, with no container crashing, before it counts as available. Defaults to 0.'),
  selector: field(2, fieldType.ref(META + 'LabelSelector'), "Label query over the pods counted towards replicas. It must match the pod template's labels.", { required: true }),
  template: field(3, fieldType.ref(CORE + 'PodTemplateSpec'), 'The pod template used when too few pods exist.'),
});

define(APPS + 'ReplicaSetStatus', 'ReplicaSetStatus is the most recently observed state of a ReplicaSet.', {
  replicas: field(1, fieldType.int32, 'Pods (not terminating) the ReplicaSet currently owns.', { required: true }),
  fullyLabeledReplicas: field(2, fieldType.int32, "Pods whose labels match the pod template's labels."),
  readyReplicas: field(4, fieldType.int32, 'Pods of this ReplicaSet whose Ready condition is true.'),
  availableReplicas: field(5, fieldType.int32, 'Pods that have been ready for at least minReadySeconds.'),
  terminatingReplicas: field(7, fieldType.int32, 'Pods of this ReplicaSet that are terminating but are not yet gone.', { pointer: true }),
  observedGeneration: field(3, fieldType.int64, 'The generation the ReplicaSet controller last acted on.'),
  conditions: field(6, fieldType.array(fieldType.ref(APPS + 'ReplicaSetCondition')), 'The latest observations of the ReplicaSet (e.g. ReplicaFailure).', conditionsList),
});

define(APPS + 'ReplicaSetCondition', 'ReplicaSetCondition is one observation about a ReplicaSet.', conditionFields('replica set'));

registerKind({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  definition: APPS + 'ReplicaSet',
  subresources: ['status', 'scale'],
  scale,
  generation: true,
  defaults: (obj) => {
    const spec = ensure(obj, 'spec');
    if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  },
  validate: (obj, old) => {
    const spec = obj?.spec ?? {};
    return [
      ...validateNonNegative(spec.replicas, 'spec.replicas'),
      ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
      ...validateSelectorMatchesTemplate(spec, 'spec', 'deployment', { requireAlwaysRestart: true }),
      ...(old ? validateSelectorImmutable(obj, old) : []),
    ];
  },
  columns: [
    { name: 'Desired', type: 'integer', priority: 0, description: 'Number of desired pods.', value: (o) => o?.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', priority: 0, description: 'Most recently observed number of replicas.', value: (o) => o?.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', priority: 0, description: 'The number of ready replicas for this replica set.', value: (o) => o?.status?.readyReplicas ?? 0 },
    ageColumn,
    ...wideTemplateColumns(templateSpec, (o) => formatLabelSelector(o?.spec?.selector)),
  ],
});

// ---------------------------------------------------------------------------
// DaemonSet

defineObject(APPS + 'DaemonSet', 'DaemonSet runs a copy of a pod on every eligible node.', {
  spec: field(2, fieldType.ref(APPS + 'DaemonSetSpec'), 'The desired behaviour of the DaemonSet.'),
  status: field(3, fieldType.ref(APPS + 'DaemonSetStatus'), 'The most recently observed state of the DaemonSet; read-only.'),
});

define(APPS + 'DaemonSetSpec', 'DaemonSetSpec is the desired state of a DaemonSet.', {
  selector: field(1, fieldType.ref(META + 'LabelSelector'), "Label query over the pods this DaemonSet manages. It must match the pod template's labels.", { required: true }),
  template: field(2, fieldType.ref(CORE + 'PodTemplateSpec'), 'The pod template run on each eligible node (every node, or those matching its node selector and affinity).', { required: true }),
  updateStrategy: field(3, fieldType.ref(APPS + 'DaemonSetUpdateStrategy'), 'How pods are replaced when the template changes.'),
  minReadySeconds: field(4, fieldType.int32, 'Minimum seconds a new pod must be ready, with no container crashing, before it counts as available. Defaults to 0.'),
  revisionHistoryLimit: field(6, fieldType.int32, 'How many old ControllerRevisions to keep for rollback. Defaults to 10.', { pointer: true }),
});

define(APPS + 'DaemonSetUpdateStrategy', 'DaemonSetUpdateStrategy describes how DaemonSet pods are replaced.', {
  type: field(1, fieldType.enum('RollingUpdate', 'OnDelete'), 'RollingUpdate or OnDelete. Defaults to RollingUpdate.'),
  rollingUpdate: field(2, fieldType.ref(APPS + 'RollingUpdateDaemonSet'), 'Rolling update parameters; present only when type is RollingUpdate.'),
});

define(APPS + 'RollingUpdateDaemonSet', 'Parameters that bound a rolling update of a DaemonSet.', {
  maxUnavailable: field(1, fieldType.intOrString, 'How many scheduled daemon pods (a number or a percentage, rounded up) may be unavailable during the update. Defaults to 1; cannot be 0 when maxSurge is 0.'),
  maxSurge: field(2, fieldType.intOrString, 'How many nodes (a number or a percentage, rounded up) may briefly run an extra, updated daemon pod during the update. Defaults to 0.'),
});

define(APPS + 'DaemonSetStatus', 'DaemonSetStatus is the most recently observed state of a DaemonSet.', {
  currentNumberScheduled: field(1, fieldType.int32, 'Nodes running at least one daemon pod that should run it.', { required: true }),
  numberMisscheduled: field(2, fieldType.int32, 'Nodes running a daemon pod that should not run it.', { required: true }),
  desiredNumberScheduled: field(3, fieldType.int32, 'Nodes that should run the daemon pod, including those already running it correctly.', { required: true }),
  numberReady: field(4, fieldType.int32, 'Nodes that should run the daemon pod and have at least one of them ready.', { required: true }),
  observedGeneration: field(5, fieldType.int64, 'The generation the DaemonSet controller last acted on.'),
  updatedNumberScheduled: field(6, fieldType.int32, 'Nodes running the up-to-date daemon pod.'),
  numberAvailable: field(7, fieldType.int32, 'Nodes that should run the daemon pod and have one ready for at least minReadySeconds.'),
  numberUnavailable: field(8, fieldType.int32, 'Nodes that should run the daemon pod but have none available.'),
  collisionCount: field(9, fieldType.int32, 'Counts ControllerRevision name collisions; folded into the name of the next revision.', { pointer: true }),
  conditions: field(10, fieldType.array(fieldType.ref(APPS + 'DaemonSetCondition')), 'The latest observations of the DaemonSet.', conditionsList),
});

define(APPS + 'DaemonSetCondition', 'DaemonSetCondition is one observation about a DaemonSet.', conditionFields('DaemonSet'));

registerKind({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  definition: APPS + 'DaemonSet',
  subresources: ['status'],
  generation: true,
  defaults: (obj) => {
    const spec = ensure(obj, 'spec');
    const us = ensure(spec, 'updateStrategy');
    if (!us.type) us.type = 'RollingUpdate';
    if (us.type === 'RollingUpdate') {
      const ru = ensure(us, 'rollingUpdate');
      if (ru.maxUnavailable === undefined || ru.maxUnavailable === null) ru.maxUnavailable = 1;
      if (ru.maxSurge === undefined || ru.maxSurge === null) ru.maxSurge = 0;
    }
    if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  },
  validate: (obj, old) => {
    const spec = obj?.spec ?? {};
    const errs = [
      ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
      ...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
      ...validateSelectorMatchesTemplate(spec, 'spec', 'daemonset', { requireAlwaysRestart: true }),
      ...(old ? validateSelectorImmutable(obj, old) : []),
    ];
    const us = spec.updateStrategy ?? {};
    if (us.type !== undefined && us.type !== 'RollingUpdate' && us.type !== 'OnDelete') {
      errs.push(notSupported('spec.updateStrategy.type', us.type, ['OnDelete', 'RollingUpdate']));
    }
    const ru = us.rollingUpdate;
    if (us.type === 'RollingUpdate' && ru) {
      errs.push(...validateIntOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable', 100));
      errs.push(...validateIntOrPercent(ru.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge', 100));
      // Exactly one of maxUnavailable and maxSurge must be non-zero.
      const nonZero = (v: unknown) => v !== undefined && v !== null && v !== 0 && v !== '0%';
      const p = 'spec.updateStrategy.rollingUpdate';
      if (nonZero(ru.maxUnavailable) && nonZero(ru.maxSurge)) {
        errs.push(invalid(`${p}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      } else if (!nonZero(ru.maxUnavailable) && !nonZero(ru.maxSurge)) {
        errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      }
    }
    return errs;
  },
  columns: [
    { name: 'Desired', type: 'integer', priority: 0, description: 'The total number of nodes that should be running the daemon pod.', value: (o) => o?.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', priority: 0, description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', value: (o) => o?.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', priority: 0, description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', value: (o) => o?.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', priority: 0, description: 'The total number of nodes that are running updated daemon pod.', value: (o) => o?.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', priority: 0, description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.', value: (o) => o?.status?.numberAvailable ?? 0 },
    { name: 'Node Selector', type: 'string', priority: 0, description: "NodeSelector is a selector which must be true for the pod to fit on a node.", value: (o) => formatLabels(o?.spec?.template?.spec?.nodeSelector) },
    ageColumn,
    ...wideTemplateColumns(templateSpec, (o) => formatLabelSelector(o?.spec?.selector)),
  ],
});

// ---------------------------------------------------------------------------
// StatefulSet

defineObject(APPS + 'StatefulSet', 'StatefulSet runs pods with stable names and stable storage, created and replaced in order.', {
  spec: field(2, fieldType.ref(APPS + 'StatefulSetSpec'), 'The desired identities and behaviour of the StatefulSet pods.'),
  status: field(3, fieldType.ref(APPS + 'StatefulSetStatus'), 'The most recently observed state of the StatefulSet; may lag the spec.'),
});

define(APPS + 'StatefulSetSpec', 'StatefulSetSpec is the desired state of a StatefulSet.', {
  replicas: field(1, fieldType.int32, 'How many ordinal pods the StatefulSet should run. Defaults to 1.', { pointer: true }),
  selector: field(2, fieldType.ref(META + 'LabelSelector'), "Label query over the pods counted towards replicas. It must match the pod template's labels.", { required: true }),
  template: field(3, fieldType.ref(CORE + 'PodTemplateSpec'), 'The pod template; each pod gets a unique, ordinal identity derived from the StatefulSet name.', { required: true }),
  volumeClaimTemplates: field(4, fieldType.array(fieldType.ref(CORE + 'PersistentVolumeClaim')), 'Claims each pod gets one of, named after the template and the pod; a container must mount each by a volume of the same name.', { listType: 'atomic' }),
  serviceName: field(5, fieldType.string, 'The headless Service that gives the pods their network identity (pod-ordinal.serviceName.namespace.svc).'),
  podManagementPolicy: field(6, fieldType.enum('OrderedReady', 'Parallel'), 'OrderedReady creates and deletes pods one at a time in ordinal order; Parallel does all at once. Defaults to OrderedReady.'),
  updateStrategy: field(7, fieldType.ref(APPS + 'StatefulSetUpdateStrategy'), 'How pods are replaced when the template changes.'),
  revisionHistoryLimit: field(8, fieldType.int32, 'How many old ControllerRevisions to keep. Defaults to 10.', { pointer: true }),
  minReadySeconds: field(9, fieldType.int32, 'Minimum seconds a new pod must be ready, with no container crashing, before it counts as available. Defaults to 0.'),
  persistentVolumeClaimRetentionPolicy: field(10, fieldType.ref(APPS + 'StatefulSetPersistentVolumeClaimRetentionPolicy'), 'What happens to claims from volumeClaimTemplates when the StatefulSet is deleted or scaled down. Defaults to Retain for both.'),
  ordinals: field(11, fieldType.ref(APPS + 'StatefulSetOrdinals'), 'The numbering of pod ordinals.'),
});

define(APPS + 'StatefulSetUpdateStrategy', 'StatefulSetUpdateStrategy describes how the StatefulSet controller replaces pods.', {
  type: field(1, fieldType.enum('RollingUpdate', 'OnDelete'), 'RollingUpdate or OnDelete. Defaults to RollingUpdate.'),
  rollingUpdate: field(2, fieldType.ref(APPS + 'RollingUpdateStatefulSetStrategy'), 'Rolling update parameters; present only when type is RollingUpdate.'),
});

define(APPS + 'RollingUpdateStatefulSetStrategy', 'Parameters of a StatefulSet rolling update.', {
  partition: field(1, fieldType.int32, 'Only pods with an ordinal at or above this value are updated; lower ordinals keep the old revision. Defaults to 0.', { pointer: true }),
  maxUnavailable: field(2, fieldType.intOrString, 'How many pods (a number or a percentage) may be unavailable during the update; needs the MaxUnavailableStatefulSet feature. Defaults to 1.'),
});

define(APPS + 'StatefulSetPersistentVolumeClaimRetentionPolicy', 'Whether claims created from volumeClaimTemplates are kept or deleted.', {
  whenDeleted: field(1, fieldType.enum('Retain', 'Delete'), 'What happens to the claims when the StatefulSet is deleted: Retain (default) or Delete.'),
  whenScaled: field(2, fieldType.enum('Retain', 'Delete'), 'What happens to the claims of pods removed by a scale-down: Retain (default) or Delete.'),
});

define(APPS + 'StatefulSetOrdinals', 'The numbering of StatefulSet pod ordinals.', {
  start: field(1, fieldType.int32, 'The first ordinal; pods are numbered start .. start+replicas-1. Defaults to 0.'),
});

define(APPS + 'StatefulSetStatus', 'StatefulSetStatus is the most recently observed state of a StatefulSet.', {
  observedGeneration: field(1, fieldType.int64, 'The generation the StatefulSet controller last acted on.'),
  replicas: field(2, fieldType.int32, 'Pods the StatefulSet controller has created.', { required: true }),
  readyReplicas: field(3, fieldType.int32, 'Pods of this StatefulSet whose Ready condition is true.'),
  currentReplicas: field(4, fieldType.int32, 'Pods running the currentRevision.'),
  updatedReplicas: field(5, fieldType.int32, 'Pods running the updateRevision.'),
  currentRevision: field(6, fieldType.string, 'The revision that produced the pods 0 .. currentReplicas-1, if set.'),
  updateRevision: field(7, fieldType.string, 'The revision that produces the pods replicas-updatedReplicas .. replicas-1, if set.'),
  collisionCount: field(9, fieldType.int32, 'Counts ControllerRevision name collisions; folded into the name of the next revision.', { pointer: true }),
  conditions: field(10, fieldType.array(fieldType.ref(APPS + 'StatefulSetCondition')), 'The latest observations of the StatefulSet.', conditionsList),
  availableReplicas: field(11, fieldType.int32, 'Pods that have been ready for at least minReadySeconds.', { required: true }),
});

define(APPS + 'StatefulSetCondition', 'StatefulSetCondition is one observation about a StatefulSet.', conditionFields('statefulset'));

// PersistentVolumeClaim lives in core/v1 but only StatefulSet templates use it here.
defineObject(CORE + 'PersistentVolumeClaim', "PersistentVolumeClaim is a user's request for, and claim to, a persistent volume.", {
  spec: field(2, fieldType.ref(CORE + 'PersistentVolumeClaimSpec'), 'The characteristics of the requested volume.'),
  status: field(3, fieldType.ref(CORE + 'PersistentVolumeClaimStatus'), 'The current state of the claim; read-only.'),
});

define(CORE + 'PersistentVolumeClaimSpec', 'PersistentVolumeClaimSpec describes the volume a claim asks for.', {
  accessModes: field(1, fieldType.array(fieldType.string), 'The access modes the volume must support (ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod).', { listType: 'atomic' }),
  selector: field(4, fieldType.ref(META + 'LabelSelector'), 'Label query over the volumes that may be bound.'),
  resources: field(2, fieldType.ref(CORE + 'VolumeResourceRequirements'), 'The minimum resources (storage) the volume must have.'),
  volumeName: field(3, fieldType.string, 'The PersistentVolume bound to this claim.'),
  storageClassName: field(5, fieldType.string, 'The StorageClass the claim requires.'),
  volumeMode: field(6, fieldType.enum('Block', 'Filesystem'), 'Filesystem or Block; Filesystem when absent.'),
  dataSource: field(7, fieldType.ref(CORE + 'TypedLocalObjectReference'), 'An existing VolumeSnapshot or PersistentVolumeClaim to populate the volume from.'),
  dataSourceRef: field(8, fieldType.ref(CORE + 'TypedObjectReference'), 'Any populator object (non-core, or a PersistentVolumeClaim) to populate the volume from.'),
  volumeAttributesClassName: field(9, fieldType.string, 'The VolumeAttributesClass applied to the volume by its CSI driver.'),
});

define(CORE + 'PersistentVolumeClaimStatus', 'PersistentVolumeClaimStatus is the observed state of a claim.', {
  phase: field(1, fieldType.enum('Pending', 'Bound', 'Lost'), 'The current phase of the claim.'),
  accessModes: field(2, fieldType.array(fieldType.string), 'The access modes of the volume backing the claim.', { listType: 'atomic' }),
  capacity: field(3, fieldType.map(fieldType.quantity), 'The actual resources of the volume backing the claim.'),
  conditions: field(4, fieldType.array(fieldType.ref(CORE + 'PersistentVolumeClaimCondition')), 'The current conditions of the claim, e.g. Resizing.', conditionsList),
  allocatedResources: field(5, fieldType.map(fieldType.quantity), 'The resources allocated to the claim, which may exceed its capacity while an expansion runs.'),
  allocatedResourceStatuses: field(7, fieldType.map(fieldType.string), 'The state of resize operations per resource name.'),
  currentVolumeAttributesClassName: field(8, fieldType.string, 'The VolumeAttributesClass the volume currently uses.'),
  modifyVolumeStatus: field(9, fieldType.ref(CORE + 'ModifyVolumeStatus'), 'The state of an ongoing ControllerModifyVolume operation, if any.'),
});

define(CORE + 'PersistentVolumeClaimCondition', 'PersistentVolumeClaimCondition is one observation about a claim.', {
  type: field(1, fieldType.string, 'Type of the condition, e.g. Resizing or FileSystemResizePending.', { required: true }),
  status: field(2, fieldType.string, 'Status of the condition: True, False or Unknown.', { required: true }),
  lastProbeTime: field(3, fieldType.time, 'The last time the condition was probed.'),
  lastTransitionTime: field(4, fieldType.time, 'The last time the condition changed from one status to another.'),
  reason: field(5, fieldType.string, "A short, machine-readable reason for the condition's last transition."),
  message: field(6, fieldType.string, 'A human-readable message with details about the transition.'),
});

define(CORE + 'VolumeResourceRequirements', 'The storage resources a claim asks for.', {
  limits: field(1, fieldType.map(fieldType.quantity), 'The most resources the volume may have.'),
  requests: field(2, fieldType.map(fieldType.quantity), 'The least resources the volume must have.'),
});

define(CORE + 'TypedLocalObjectReference', 'A reference to an object, of a given kind and group, in the same namespace.', {
  apiGroup: field(1, fieldType.string, 'The API group of the referent; empty for the core group.'),
  kind: field(2, fieldType.string, 'The kind of the referent.', { required: true }),
  name: field(3, fieldType.string, 'The name of the referent.', { required: true }),
}, { mapType: 'atomic' });

define(CORE + 'TypedObjectReference', 'A reference to an object of a given kind and group, possibly in another namespace.', {
  apiGroup: field(1, fieldType.string, 'The API group of the referent; empty for the core group.'),
  kind: field(2, fieldType.string, 'The kind of the referent.', { required: true }),
  name: field(3, fieldType.string, 'The name of the referent.', { required: true }),
  namespace: field(4, fieldType.string, 'The namespace of the referent; needs the CrossNamespaceVolumeDataSource feature.'),
});

define(CORE + 'ModifyVolumeStatus', 'The state of a ControllerModifyVolume operation.', {
  targetVolumeAttributesClassName: field(1, fieldType.string, 'The VolumeAttributesClass being applied.'),
  status: field(2, fieldType.string, 'Pending, InProgress or Infeasible.', { required: true }),
});

function defaultStatefulSet(obj: any): void {
  const spec = ensure(obj, 'spec');
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  const us = ensure(spec, 'updateStrategy');
  if (!us.type) {
    us.type = 'RollingUpdate';
    ensure(us, 'rollingUpdate');
  }
  if (us.type === 'RollingUpdate' && us.rollingUpdate && (us.rollingUpdate.partition === undefined || us.rollingUpdate.partition === null)) {
    us.rollingUpdate.partition = 0;
  }
  const retention = ensure(spec, 'persistentVolumeClaimRetentionPolicy');
  if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
  if (!retention.whenScaled) retention.whenScaled = 'Retain';
  if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
  if (spec.revisionHistoryLimit === undefined || spec.revisionHistoryLimit === null) spec.revisionHistoryLimit = 10;
  // Upstream defaults each claim template as a PersistentVolumeClaim object.
  for (const pvc of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) {
    if (!pvc || typeof pvc !== 'object') continue;
    pvc.apiVersion ??= 'v1';
    pvc.kind ??= 'PersistentVolumeClaim';
    const pvcSpec = ensure(pvc, 'spec');
    if (!pvcSpec.volumeMode) pvcSpec.volumeMode = 'Filesystem';
    const status = ensure(pvc, 'status');
    if (!status.phase) status.phase = 'Pending';
  }
}

function validateStatefulSet(obj: any, old?: any): FieldError[] {
  const spec = obj?.spec ?? {};
  const errs: FieldError[] = [
    ...validateNonNegative(spec.replicas, 'spec.replicas'),
    ...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
    ...validateNonNegative(spec.ordinals?.start, 'spec.ordinals.start'),
    ...validateSelectorMatchesTemplate(spec, 'spec', 'statefulset', { requireAlwaysRestart: true }),
  ];
  if (spec.podManagementPolicy !== undefined && !['OrderedReady', 'Parallel'].includes(spec.podManagementPolicy)) {
    errs.push(invalid('spec.podManagementPolicy', spec.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));
  }
  const us = spec.updateStrategy ?? {};
  if (us.type !== undefined && us.type !== 'RollingUpdate' && us.type !== 'OnDelete') {
    errs.push(invalid('spec.updateStrategy.type', us.type, 'must be \'RollingUpdate\' or \'OnDelete\''));
  }
  if (us.type === 'OnDelete' && us.rollingUpdate) {
    errs.push(invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, 'only allowed for updateStrategy \'RollingUpdate\''));
  }
  if (us.rollingUpdate) errs.push(...validateNonNegative(us.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
  for (const [key, val] of Object.entries(spec.persistentVolumeClaimRetentionPolicy ?? {})) {
    if (val !== 'Retain' && val !== 'Delete') {
      errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${key}`, val, ['Retain', 'Delete']));
    }
  }
  if (old) errs.push(...validateSelectorImmutable(obj, old));
  return errs;
}

registerKind({
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  definition: APPS + 'StatefulSet',
  subresources: ['status', 'scale'],
  scale,
  generation: true,
  defaults: defaultStatefulSet,
  validate: validateStatefulSet,
  columns: [
    { name: 'Ready', type: 'string', priority: 0, description: 'Number of the pod with ready state', value: (o) => `${o?.status?.readyReplicas ?? 0}/${o?.spec?.replicas ?? 0}` },
    ageColumn,
    ...wideTemplateColumns(templateSpec),
  ],
});

// ---------------------------------------------------------------------------
// ControllerRevision

defineObject(APPS + 'ControllerRevision', 'ControllerRevision is an immutable snapshot of a controller\'s pod template, used by DaemonSets and StatefulSets for updates and rollbacks.', {
  data: field(2, fieldType.any, 'The serialized state captured by this revision.'),
  revision: field(3, fieldType.int64, 'The revision number of this snapshot.', { required: true }),
});

registerKind({
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  definition: APPS + 'ControllerRevision',
  validate: (obj, old) => {
    const errs = validateNonNegative(obj?.revision, 'revision');
    if (old && canonicalJson(obj?.data ?? null) !== canonicalJson(old?.data ?? null)) {
      errs.push(invalid('data', obj?.data ?? null, 'field is immutable'));
    }
    return errs;
  },
  columns: [
    {
      name: 'Controller',
      type: 'string',
      priority: 0,
      description: 'Controller of the object',
      value: (o) => {
        const ref = (o?.metadata?.ownerReferences ?? []).find((r: any) => r?.controller);
        if (!ref) return '<none>';
        const group = String(ref.apiVersion ?? '').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
        return `${String(ref.kind).toLowerCase()}${group ? '.' + group : ''}/${ref.name}`;
      },
    },
    { name: 'Revision', type: 'string', priority: 0, description: 'Revision indicates the revision of the state represented by Data.', value: (o) => o?.revision ?? 0 },
    ageColumn,
  ],
});
