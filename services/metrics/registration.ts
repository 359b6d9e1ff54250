/**
 * How the metrics service makes itself the server of metrics.k8s.io/v1beta1: a Service
 * kube-system/metrics-server without a selector, an EndpointSlice of its own pointing at
 * the address and port it listens on, and the APIService v1beta1.metrics.k8s.io naming
 * that Service, as metrics-server's manifests register it. Server-side apply, so a
 * restart on another port just moves the EndpointSlice.
 */
import { APISERVICES, type ApiClient, applyHostService } from '../../lib/client/mod.js';
import { GROUP, VERSION } from './api.js';

export const SERVICE_NAMESPACE = 'kube-system';
export const SERVICE_NAME = 'metrics-server';
const FIELD_MANAGER = 'flotilla-metrics';
const LABELS = { 'k8s-app': 'metrics-server' };

export async function registerApiService(client: ApiClient, address: string, port: number): Promise<void> {
  await applyHostService(client, {
    namespace: SERVICE_NAMESPACE,
    name: SERVICE_NAME,
    fieldManager: FIELD_MANAGER,
    labels: LABELS,
    address,
    ports: [{ name: 'https', port: 443, targetPort: port }],
  });
  await client.patch(
    { ...APISERVICES, name: `${VERSION}.${GROUP}` },
    'apply',
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: `${VERSION}.${GROUP}`, labels: LABELS },
      spec: { group: GROUP, version: VERSION, service: { namespace: SERVICE_NAMESPACE, name: SERVICE_NAME, port: 443 }, groupPriorityMinimum: 100, versionPriority: 100, insecureSkipTLSVerify: true },
    },
    { fieldManager: FIELD_MANAGER, force: true },
  );
}
