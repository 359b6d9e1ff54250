/**
 * scheduling.k8s.io/v1: PriorityClass. Protobuf numbers follow k8s.io/api
 * scheduling/v1 generated.proto.
 */
import { defineObject, field, fieldType } from '../dsl.js';
import { registerKind } from '../registry.js';
import type { FieldError } from '../types.js';
import { ageColumn } from './apps-v1.js';
import { forbidden, invalid, notSupported, required } from '../fielderrors.js';

const SCHED = 'io.k8s.api.scheduling.v1.';

/** The largest priority a user-defined class may have; larger values are for system classes. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;

/** The built-in system classes and their fixed values (upstream SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  'system-node-critical': 2_000_001_000,
  'system-cluster-critical': 2_000_000_000,
};

defineObject(SCHED + 'PriorityClass', 'PriorityClass maps a class name to the integer priority that pods naming it receive.', {
  value: field(2, fieldType.int32, 'The priority pods of this class get; higher runs first and may preempt lower. User classes may use at most 1000000000.', { required: true }),
  globalDefault: field(3, fieldType.boolean, 'Whether pods that name no class get this one. At most one class may be the global default.'),
  description: field(4, fieldType.string, 'Free text saying when this class should be used.'),
  preemptionPolicy: field(5, fieldType.enum('Never', 'PreemptLowerPriority'), 'Whether pods of this class may preempt lower-priority pods: PreemptLowerPriority (default) or Never.'),
});

function validatePriorityClass(obj: any, old?: any): FieldError[] {
  const errs: FieldError[] = [];
  const name: string = obj?.metadata?.name ?? '';
  const value = obj?.value;
  if (value === undefined || value === null) {
    errs.push(required('value'));
  } else if (typeof value !== 'number' || !Number.isInteger(value)) {
    errs.push(invalid('value', value, 'must be an integer'));
  } else if (name.startsWith('system-')) {
    const known = SYSTEM_PRIORITY_CLASSES[name];
    if (known === undefined) {
      errs.push(forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${name} is not a known system priority class`));
    } else if (known !== value) {
      errs.push(forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: value of ${name} PriorityClass must be ${known}`));
    }
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  const pp = obj?.preemptionPolicy;
  if (pp !== undefined && pp !== null && pp !== 'Never' && pp !== 'PreemptLowerPriority') {
    errs.push(notSupported('preemptionPolicy', pp, ['Never', 'PreemptLowerPriority']));
  }
  if (old) {
    if (old.value !== value) errs.push(forbidden('value', 'may not be changed in an update.'));
    if ((old.preemptionPolicy ?? null) !== (pp ?? null)) errs.push(invalid('preemptionPolicy', pp ?? null, 'field is immutable'));
  }
  return errs;
}

registerKind({
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  singular: 'priorityclass',
  shortNames: ['pc'],
  namespaced: false,
  definition: SCHED + 'PriorityClass',
  defaults: (obj) => {
    if (!obj.preemptionPolicy) obj.preemptionPolicy = 'PreemptLowerPriority';
  },
  validate: validatePriorityClass,
  columns: [
    { name: 'Value', type: 'integer', priority: 0, description: 'The value of this priority class.', value: (o) => o?.value ?? 0 },
    { name: 'Global-Default', type: 'boolean', priority: 0, description: 'Whether this priority class should be used for pods without a priority class.', value: (o) => o?.globalDefault === true },
    ageColumn,
    { name: 'PreemptionPolicy', type: 'string', priority: 0, description: 'The policy for preempting pods with lower priority.', value: (o) => o?.preemptionPolicy ?? '' },
  ],
});
