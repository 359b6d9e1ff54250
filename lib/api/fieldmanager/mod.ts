/**
 * Field management (server-side apply and metadata.managedFields), driven by the one
 * schema per kind. fieldmanager.ts describes the behaviour; README.md and docs/nats-api.md show it to users.
 */
export { applyConfiguration, fieldManagerTarget, managerFromUserAgent, trackUpdate, type FieldManagerTarget } from './fieldmanager.js';
export { validateWriteOptions, type RawWriteOptions } from './options.js';
