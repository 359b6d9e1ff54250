/**
 * Test fixtures for the proxy's rule rendering (rules.test.ts, contents.test.ts): one
 * node's config, Services and EndpointSlices as the informers hand them over, and the
 * kernel's check of a transaction (`nft -c`, which commits nothing).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { NFT, nftInstalled } from '../nftables.js';
import type { RulesConfig } from '../rules.js';

export const CFG: RulesConfig = { nodeName: 'node-a', clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', localhostNodePorts: true };

/** a Service `default/<name>` with one port `http` 80/TCP, of type ClusterIP unless spec says otherwise */
export function svc(name: string, spec: Service['spec'], status?: Service['status']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec }, status };
}

export interface TestEndpoint {
  ip: string;
  /** default true */
  ready?: boolean;
  /** default: as ready */
  serving?: boolean;
  terminating?: boolean;
  /** default node-a, CFG's node */
  node?: string;
}

/** the Service's EndpointSlice: port `http` (targetPort), an endpoint per address (a bare IP: ready, on node-a) */
export function slice(service: string, eps: Array<string | TestEndpoint>, port = 8080): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'default', name: `${service}-abc`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: eps
      .map((e) => (typeof e === 'string' ? { ip: e } : e))
      .map((e) => ({ addresses: [e.ip], nodeName: e.node ?? 'node-a', conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false } })),
  };
}

/** nft -c can check transactions here: nft installed and root */
export const canCheck = nftInstalled() && process.getuid?.() === 0;

/** nft -c: the kernel checks the transaction on `table` without committing it (root only), and the table stays absent */
export function nftCheck(table: string, transaction: string): void {
  const r = spawnSync(NFT, ['-c', '-f', '-'], { input: transaction, encoding: 'utf8' });
  assert.equal(r.status, 0, `nft -c refused the transaction:\n${r.stderr.slice(0, 2000)}`);
  assert.equal(spawnSync(NFT, ['list', 'table', 'ip', table], { encoding: 'utf8' }).status, 1, 'nft -c committed nothing');
}
