// Namespaces: the list (status, age) and one namespace, with a button that makes it the
// header's namespace, so every list shows that namespace only.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { ActionButton, Labels, useObject, yamlHref } from './common.js';
import { conn } from './socket.js';
import { go } from './router.js';
import { setSharedNamespace, useSharedNamespace } from './nsfilter.js';

export function NamespacesView() {
  const [query, setQuery] = useState({ sort: { column: 'Name' } });
  return html`
    <h1>Namespaces</h1>
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label>Name <input type="search" aria-label="filter by name" value=${query.text ?? ''} onInput=${(e) => setQuery({ ...query, text: e.target.value })} /></label>
      <label>Labels <input type="search" aria-label="label selector" value=${query.labelSelector ?? ''} onChange=${(e) => setQuery({ ...query, labelSelector: e.target.value })} /></label>
    </form>
    <${VirtualTable} gvr=${GVR.namespaces} label="namespaces" query=${{ ...query, namespace: '' }} onSort=${(sort) => setQuery({ ...query, sort })}
      onOpen=${(r) => go('namespaces', r.name)} height=${Math.max(280, innerHeight - 220)} />`;
}

export function NamespaceDetails({ name }) {
  const gvr = GVR.namespaces;
  const [ns, error] = useObject({ ...gvr, name });
  const shared = useSharedNamespace();
  if (error) return html`<p class="bad" role="alert">${error}</p>`;
  if (ns === undefined) return html`<p>Loading namespace ${name}…</p>`;
  if (ns === null) return html`<h1>Namespace ${name}</h1><p role="alert">Namespace ${name} does not exist (any more).</p><a href="#/namespaces">All namespaces</a>`;
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/namespaces">Namespaces</a> / ${name}</nav>
    <h1>Namespace ${name}</h1>
    <div class="toolbar">
      ${shared === name
        ? html`<button onClick=${() => setSharedNamespace('')}>Show all namespaces</button>`
        : html`<button onClick=${() => setSharedNamespace(name)}>Show only this namespace</button>`}
      <a class="button" href=${yamlHref(gvr, '', name)}>Edit YAML</a>
      <${ActionButton} label="Delete" danger confirm run=${async () => (await conn.call('delete', { ref: { ...gvr, name } }), 'deletion started')} />
    </div>
    <dl class="facts">
      <dt>Status</dt><dd data-testid="ns-phase">${ns.status?.phase ?? 'Active'}</dd>
      <dt>Labels</dt><dd><${Labels} labels=${ns.metadata?.labels} /></dd>
      <dt>Finalizers</dt><dd>${(ns.spec?.finalizers ?? []).join(', ') || '—'}</dd>
    </dl>
    ${ns.status?.conditions?.length ? html`<h2>Conditions</h2><ul>${ns.status.conditions.map((c) => html`<li>${c.type}: ${c.status} ${c.message ?? ''}</li>`)}</ul>` : ''}`;
}
