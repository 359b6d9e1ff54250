/**
 * coordination.k8s.io/v1: Lease, used for node heartbeats and leader election.
 * Protobuf numbers follow k8s.io/api coordination/v1 generated.proto.
 */
import { define, defineObject, field, fieldType } from '../dsl.js';
import { registerKind } from '../registry.js';
import type { FieldError } from '../types.js';
import { ageColumn } from './apps-v1.js';
import { forbidden, invalid } from '../fielderrors.js';

const COORD = 'io.k8s.api.coordination.v1.';

defineObject(COORD + 'Lease', 'Lease is a time-bounded claim held by one holder, used for leader election and node heartbeats.', {
  spec: field(2, fieldType.ref(COORD + 'LeaseSpec'), 'Who holds the lease and for how long.'),
});

define(COORD + 'LeaseSpec', 'LeaseSpec is the state of a Lease.', {
  holderIdentity: field(1, fieldType.string, 'The identity of the current holder.'),
  leaseDurationSeconds: field(2, fieldType.int32, 'How long, counted from renewTime, other candidates must wait before they may take the lease.', { pointer: true }),
  acquireTime: field(3, fieldType.microTime, 'When the current holder acquired the lease.'),
  renewTime: field(4, fieldType.microTime, 'When the current holder last renewed the lease.'),
  leaseTransitions: field(5, fieldType.int32, 'How many times the lease has changed holders.', { pointer: true }),
  strategy: field(6, fieldType.string, 'The strategy coordinated leader election uses to pick a holder (e.g. OldestEmulationVersion); needs the CoordinatedLeaderElection feature.'),
  preferredHolder: field(7, fieldType.string, 'A holder the coordinated election would like to take over; only meaningful with strategy set.'),
});

function validateLease(obj: any): FieldError[] {
  const spec = obj?.spec ?? {};
  const errs: FieldError[] = [];
  const d = spec.leaseDurationSeconds;
  if (d !== undefined && d !== null && (typeof d !== 'number' || d <= 0)) {
    errs.push(invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
  }
  const t = spec.leaseTransitions;
  if (t !== undefined && t !== null && (typeof t !== 'number' || t < 0)) {
    errs.push(invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
  }
  if (spec.preferredHolder && !spec.strategy) {
    errs.push(forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

registerKind({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  definition: COORD + 'Lease',
  validate: validateLease,
  columns: [
    { name: 'Holder', type: 'string', priority: 0, description: 'holderIdentity contains the identity of the holder of a current lease.', value: (o) => o?.spec?.holderIdentity ?? '' },
    ageColumn,
  ],
});
