/**
 * How a component that runs as a host process, not a pod (cluster DNS, the metrics
 * server), becomes a Service: a Service without a selector, plus an EndpointSlice of its
 * own pointing at the address and ports the process really listens on, both written with
 * server-side apply so a restart on other ports just moves the slice.
 */
import type { ApiClient } from './client.js';
import { ENDPOINT_SLICES, SERVICES } from './resources.js';

export interface HostServicePort {
  name: string;
  /** the Service's port */
  port: number;
  /** where the process listens: the Service's targetPort and the slice's port */
  targetPort: number;
  protocol?: 'TCP' | 'UDP';
}

export interface HostService {
  namespace: string;
  name: string;
  /** the field manager of both applies; also the slice's managed-by label */
  fieldManager: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** a well-known clusterIP (kube-dns's); else the apiserver allocates one */
  clusterIP?: string;
  ports: HostServicePort[];
  /** where pods and the apiserver reach the process */
  address: string;
  /** the endpoint's conditions (default: ready) */
  conditions?: { ready: boolean; serving?: boolean; terminating?: boolean };
}

export async function applyHostService(client: ApiClient, s: HostService): Promise<void> {
  const opts = { fieldManager: s.fieldManager, force: true };
  const protocol = (p: HostServicePort) => p.protocol ?? 'TCP';
  await client.patch(
    { ...SERVICES, namespace: s.namespace, name: s.name },
    'apply',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace, labels: s.labels, ...(s.annotations ? { annotations: s.annotations } : {}) },
      spec: {
        ...(s.clusterIP ? { clusterIP: s.clusterIP } : {}),
        ports: s.ports.map((p) => ({ name: p.name, port: p.port, protocol: protocol(p), targetPort: p.targetPort })),
      },
    },
    opts,
  );
  await client.patch(
    { ...ENDPOINT_SLICES, namespace: s.namespace, name: s.name },
    'apply',
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: s.name, namespace: s.namespace, labels: { ...s.labels, 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': s.fieldManager } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [s.address], conditions: s.conditions ?? { ready: true } }],
      ports: s.ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: protocol(p) })),
    },
    opts,
  );
}
