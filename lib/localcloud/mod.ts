/**
 * The `local` cloud's shared vocabulary: how kubelet processes tell the
 * cloud-controller-manager's `local` provider which machines (instances) exist.
 */
export { ANNOUNCE_INTERVAL_MS, EXPIRY_INTERVALS, INSTANCES_SUBJECT, InstanceDirectory, SYNC_SUBJECT, announceInstances, instanceType, type LocalInstance } from './instances.js';
