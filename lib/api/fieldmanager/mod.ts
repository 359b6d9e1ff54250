/**
 * Field management (server-side apply and metadata.managedFields), driven by the one
 * schema per kind. fieldmanager.ts describes the behaviour; README.md and docs/nats-api.md show it to users.
 */
export type { FieldConflict, FieldScope, FieldsV1, ManagedFieldsEntry, ShapeNode } from './types.js';
export { FieldSet } from './fieldset.js';
export { rootShape, structShape } from './shape.js';
export { createdFieldsV1 } from './created.js';
export { appliedFields } from './applied.js';
export { compareObjects } from './compare.js';
export { mergeValue, removeFields } from './merge.js';
export { ManagedFields, managerIdentifier } from './managers.js';
export {
  applyConfiguration,
  conflictError,
  fieldManagerTarget,
  LAST_APPLIED_ANNOTATION,
  managerFromUserAgent,
  printManager,
  trackUpdate,
  type ApplyResult,
  type FieldManagerTarget,
} from './fieldmanager.js';
export { validateWriteOptions, FIELD_MANAGER_MAX_LENGTH, type RawWriteOptions } from './options.js';
