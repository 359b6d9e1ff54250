// Services: the list (the apiserver's printer columns: type, cluster IP, external IP,
// ports) and one Service with its endpoints, from the EndpointSlices that name it
// (label kubernetes.io/service-name), and the pods its selector picks; all live.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { ActionButton, Filters, Labels, useObject, yamlHref } from './common.js';
import { conn } from './socket.js';
import { go } from './router.js';

export function ServicesView() {
  const [query, setQuery] = useState({ sort: { column: 'Name' } });
  return html`
    <h1>Services</h1>
    <${Filters} query=${query} setQuery=${setQuery} />
    <${VirtualTable} gvr=${GVR.services} label="services" query=${query} onSort=${(sort) => setQuery({ ...query, sort })}
      onOpen=${(r) => go('services', r.namespace, r.name)} height=${Math.max(280, innerHeight - 220)} />`;
}

/**
 * The Service's EndpointSlices (a table subscription by the kubernetes.io/service-name
 * label), each endpoint on its own line: "address (ready) pod/name on node".
 */
function Endpoints({ namespace, name }) {
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const query = { namespace, labelSelector: `kubernetes.io/service-name=${name}`, sort: { column: 'Name' } };
    const s = conn.subscribe({ op: 'table', gvr: GVR.endpointslices, query, offset: 0, limit: 100 }, (m) => {
      if (m.type === 'page') setPage(m), setError('');
      else if (m.type === 'error') setError(m.message);
    });
    return () => s.close();
  }, [namespace, name]);
  if (error) return html`<p class="bad" role="alert">${error}</p>`;
  if (!page) return html`<p>Loading…</p>`;
  // cells: Name, Namespace, Service, Ports, Ready, Endpoints, Age (printercolumns.ts ENDPOINT_SLICES)
  return html`
    <p role="status" class="muted">${page.rows.reduce((n, r) => n + r.cells[4], 0)} ready endpoints in ${page.total} EndpointSlices</p>
    <table class="plain" aria-label="endpoints of this service">
      <thead><tr><th>EndpointSlice</th><th>Ports</th><th>Endpoints</th></tr></thead>
      <tbody>${page.rows.map((r) => html`
        <tr data-key=${r.key}><td>${r.name}</td><td>${r.cells[3]}</td><td>${String(r.cells[5]).split('; ').filter(Boolean).map((e) => html`<div class=${e.includes('(not ready)') ? 'warn' : ''}>${e}</div>`)}</td></tr>`)}</tbody>
    </table>`;
}

const ports = (s) => (s.spec?.ports ?? []).map((p) => `${p.name ? `${p.name}: ` : ''}${p.port}${p.targetPort !== undefined ? `→${p.targetPort}` : ''}/${p.protocol ?? 'TCP'}${p.nodePort ? ` (node ${p.nodePort})` : ''}`).join(', ');

export function ServiceDetails({ namespace, name }) {
  const gvr = GVR.services;
  const [svc, error] = useObject({ ...gvr, namespace, name });
  if (error) return html`<p class="bad" role="alert">${error}</p>`;
  if (svc === undefined) return html`<p>Loading service ${namespace}/${name}…</p>`;
  if (svc === null) return html`<h1>Service ${name}</h1><p role="alert">Service ${namespace}/${name} does not exist (any more).</p><a href="#/services">All services</a>`;
  const selector = Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).join(', ');
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/services">Services</a> / ${namespace} / ${name}</nav>
    <h1>Service ${name}</h1>
    <div class="toolbar">
      <a class="button" href=${yamlHref(gvr, namespace, name)}>Edit YAML</a>
      <${ActionButton} label="Delete" danger confirm run=${async () => (await conn.call('delete', { ref: { ...gvr, namespace, name } }), 'deleted')} />
    </div>
    <dl class="facts">
      <dt>Namespace</dt><dd>${namespace}</dd>
      <dt>Type</dt><dd>${svc.spec?.type ?? 'ClusterIP'}</dd>
      <dt>Cluster IP</dt><dd data-testid="cluster-ip">${(svc.spec?.clusterIPs ?? [svc.spec?.clusterIP]).filter(Boolean).join(', ') || '—'}</dd>
      ${ingress && html`<dt>Load balancer</dt><dd>${ingress}</dd>`}
      ${svc.spec?.externalName && html`<dt>External name</dt><dd>${svc.spec.externalName}</dd>`}
      <dt>Ports</dt><dd>${ports(svc) || '—'}</dd>
      <dt>Selector</dt><dd>${selector || '— (endpoints are managed by hand)'}</dd>
      <dt>Labels</dt><dd><${Labels} labels=${svc.metadata?.labels} /></dd>
    </dl>
    <h2>Endpoints</h2>
    <${Endpoints} namespace=${namespace} name=${name} />
    ${selector && html`
      <h2>Pods</h2>
      <${VirtualTable} gvr=${GVR.pods} label="pods of this service" height=${200} hide=${['Namespace']}
        query=${{ namespace, labelSelector: selector, sort: { column: 'Name' } }} onOpen=${(r) => go('pods', r.namespace, r.name)} />`}`;
}
