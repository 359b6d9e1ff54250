/** Network address arithmetic and the host's address, shared by node IPAM, the kubelet and the cluster DNS. */
export * from './ipv4.js';
export { hostInternalIP } from './hostaddress.js';
