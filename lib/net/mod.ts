/** Network address arithmetic shared by the controller-manager's node IPAM and the kubelet. */
export * from './ipv4.js';
