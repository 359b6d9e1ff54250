/**
 * policy/v1: PodDisruptionBudget and the Eviction body of pods/eviction. Protobuf
 * numbers follow k8s.io/api policy/v1 generated.proto.
 */
import { define, defineObject, field, META, fieldType } from '../dsl.js';
import { maybeTypeDef, registerKind } from '../registry.js';
import type { FieldError } from '../types.js';
import { ageColumn, validateIntOrPercent, validateSelectorMatchesTemplate } from './apps-v1.js';
import { invalid, notSupported } from '../fielderrors.js';

const POLICY = 'io.k8s.api.policy.v1.';

defineObject(POLICY + 'PodDisruptionBudget', 'PodDisruptionBudget limits how many pods of a collection may be down at once through voluntary disruptions such as evictions.', {
  spec: field(2, fieldType.ref(POLICY + 'PodDisruptionBudgetSpec'), 'The desired budget.'),
  status: field(3, fieldType.ref(POLICY + 'PodDisruptionBudgetStatus'), 'The most recently observed state of the budget.'),
});

define(POLICY + 'PodDisruptionBudgetSpec', 'PodDisruptionBudgetSpec is the desired budget.', {
  minAvailable: field(1, fieldType.intOrString, 'An eviction is allowed only if at least this many selected pods (a number or a percentage) stay available afterwards. Mutually exclusive with maxUnavailable.'),
  selector: field(2, fieldType.ref(META + 'LabelSelector'), 'Label query over the pods the budget covers. A null selector selects nothing; an empty one selects every pod of the namespace.', { strategy: 'replace' }),
  maxUnavailable: field(3, fieldType.intOrString, 'An eviction is allowed only if at most this many selected pods (a number or a percentage) are unavailable afterwards. Mutually exclusive with minAvailable.'),
  unhealthyPodEvictionPolicy: field(4, fieldType.enum('IfHealthyBudget', 'AlwaysAllow'), 'When running but not ready pods may be evicted: IfHealthyBudget (the default behaviour) only while the budget is met, AlwaysAllow always.'),
});

define(POLICY + 'PodDisruptionBudgetStatus', 'PodDisruptionBudgetStatus is the observed state of a budget; it may trail the actual state of the system.', {
  observedGeneration: field(1, fieldType.int64, 'The generation the disruption controller last acted on.'),
  disruptedPods: field(2, fieldType.map(fieldType.time), 'Pods whose eviction the API server has allowed but the controller has not yet seen go, with the time it allowed each. Entries older than about two minutes are dropped.'),
  disruptionsAllowed: field(3, fieldType.int32, 'How many more pod disruptions are allowed right now.', { required: true }),
  currentHealthy: field(4, fieldType.int32, 'How many selected pods are healthy now.', { required: true }),
  desiredHealthy: field(5, fieldType.int32, 'The fewest healthy pods the budget requires.', { required: true }),
  expectedPods: field(6, fieldType.int32, 'How many pods the budget counts (from the controllers that own the selected pods).', { required: true }),
  conditions: field(7, fieldType.array(fieldType.ref(META + 'Condition')), 'The latest observations of the budget; DisruptionAllowed tells whether evictions may proceed.', { mergeKey: 'type', strategy: 'merge', listType: 'map', listMapKeys: ['type'] }),
});

// metav1.DeleteOptions is the body of an Eviction; defined here unless meta-v1 already has it.
if (!maybeTypeDef(META + 'DeleteOptions')) {
  defineObject(META + 'DeleteOptions', 'DeleteOptions may be provided when deleting an API object.', {
    gracePeriodSeconds: field(1, fieldType.int64, 'Seconds the object gets to terminate gracefully before it is deleted; 0 deletes at once, unset uses the default of the kind.', { pointer: true }),
    preconditions: field(2, fieldType.ref(META + 'Preconditions'), 'Conditions that must hold for the deletion to proceed; otherwise 409 Conflict.'),
    orphanDependents: field(3, fieldType.boolean, 'Deprecated: use propagationPolicy. Whether dependents are orphaned rather than garbage collected.', { pointer: true }),
    propagationPolicy: field(4, fieldType.enum('Orphan', 'Background', 'Foreground'), 'How dependents are garbage collected: Orphan, Background or Foreground.'),
    dryRun: field(5, fieldType.array(fieldType.string), 'When present (only "All" is valid), the deletion is checked but not persisted.', { listType: 'atomic' }),
    ignoreStoreReadErrorWithClusterBreakingPotential: field(6, fieldType.boolean, 'Deletes an object that cannot be read from storage, bypassing finalizers and preconditions. Dangerous; defaults to false.', { pointer: true }),
  });
}
if (!maybeTypeDef(META + 'Preconditions')) {
  define(META + 'Preconditions', 'Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.', {
    uid: field(1, fieldType.string, 'The UID the object must have.'),
    resourceVersion: field(2, fieldType.string, 'The resourceVersion the object must have.'),
  });
}

defineObject(POLICY + 'Eviction', 'Eviction asks for a pod to be deleted while respecting the PodDisruptionBudgets that cover it. It is posted to the eviction subresource of the pod.', {
  deleteOptions: field(2, fieldType.ref(META + 'DeleteOptions'), 'The options of the resulting pod deletion.'),
});

function validatePDB(obj: any): FieldError[] {
  const spec = obj?.spec ?? {};
  const errs: FieldError[] = [];
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) {
    errs.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  errs.push(...validateIntOrPercent(spec.minAvailable, 'spec.minAvailable', 100));
  errs.push(...validateIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable', 100));
  if (has(spec.selector)) {
    // Only the selector syntax is checked: a PDB has no template to match.
    errs.push(...validateSelectorMatchesTemplate({ selector: spec.selector, template: {} }, 'spec', 'poddisruptionbudget').filter((e) => e.field.startsWith('spec.selector.')));
  }
  const p = spec.unhealthyPodEvictionPolicy;
  if (has(p) && p !== 'IfHealthyBudget' && p !== 'AlwaysAllow') {
    errs.push(notSupported('spec.unhealthyPodEvictionPolicy', p, ['AlwaysAllow', 'IfHealthyBudget']));
  }
  return errs;
}

const intOrStringCell = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));

registerKind({
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  namespaced: true,
  definition: POLICY + 'PodDisruptionBudget',
  subresources: ['status'],
  generation: true,
  validate: validatePDB,
  columns: [
    { name: 'Min Available', type: 'string', priority: 0, description: 'The minimum number of pods that must be available.', value: (o) => intOrStringCell(o?.spec?.minAvailable) },
    { name: 'Max Unavailable', type: 'string', priority: 0, description: 'The maximum number of pods that may be unavailable.', value: (o) => intOrStringCell(o?.spec?.maxUnavailable) },
    { name: 'Allowed Disruptions', type: 'integer', priority: 0, description: 'Calculated number of pods that may be disrupted at this time.', value: (o) => o?.status?.disruptionsAllowed ?? 0 },
    ageColumn,
  ],
});
