import assert from 'node:assert/strict';
import { FieldSet } from './fieldset.js';
import { ManagedFields, managerIdentifier } from './managers.js';

const entry = (manager: string, operation: 'Apply' | 'Update', time: string, extra: Record<string, unknown> = {}) => ({
  manager,
  operation,
  apiVersion: 'v1',
  time,
  fieldsType: 'FieldsV1' as const,
  fieldsV1: { 'f:data': { [`f:${manager}`]: {} } },
  ...extra,
});

describe('managedFields entries', () => {
  it('identifies a manager as upstream: appliers without apiVersion, subresource included', () => {
    assert.equal(managerIdentifier({ manager: 'a', operation: 'Apply', apiVersion: 'v1' }), '{"manager":"a","operation":"Apply"}');
    assert.equal(managerIdentifier({ manager: 'k', operation: 'Update', apiVersion: 'v1', subresource: 'status' }), '{"manager":"k","operation":"Update","apiVersion":"v1","subresource":"status"}');
  });

  it('refuses entries upstream refuses, with its messages', () => {
    assert.throws(() => ManagedFields.decode([{ manager: 'a', operation: 'Patch', apiVersion: 'v1', fieldsType: 'FieldsV1' }]), /operation must be `Apply` or `Update`/);
    assert.throws(() => ManagedFields.decode([{ manager: 'a', operation: 'Apply', fieldsType: 'FieldsV1' }]), /apiVersion must not be empty/);
    assert.throws(() => ManagedFields.decode([{ manager: 'a', operation: 'Apply', apiVersion: 'v1' }]), /missing fieldsType in managed fields entry 0/);
    assert.throws(() => ManagedFields.decode([{ manager: 'a', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV2' }]), /invalid fieldsType "FieldsV2" in managed fields entry 0/);
  });

  it('encodes in upstream order: Apply before Update, then by time, manager, apiVersion, subresource', () => {
    const m = ManagedFields.decode([
      entry('z', 'Update', '2026-01-01T00:00:05Z'),
      entry('b', 'Update', '2026-01-01T00:00:01Z'),
      entry('a', 'Update', '2026-01-01T00:00:05Z'),
      entry('y', 'Apply', '2026-01-01T00:00:09Z'),
    ]);
    assert.deepEqual(m.encode()!.map((e) => e.manager), ['y', 'b', 'a', 'z']);
    const id = managerIdentifier({ manager: 'b', operation: 'Update', apiVersion: 'v1' });
    m.replaceFields(id, new FieldSet());
    assert.deepEqual(m.encode()!.map((e) => e.manager), ['y', 'a', 'z'], 'a manager left with no fields goes');
  });
});
