// Every resource the API serves (discovery), and a list of any of them: the server's
// table over an informer, with the apiserver's printer columns (printercolumns.ts). Kinds
// and API groups added later appear here without new code.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { VirtualTable } from './table.js';
import { Filters, groupOf, groupSegment } from './common.js';
import { listHref, objectHref } from './kinds.js';

export function ResourcesView() {
  const [resources, setResources] = useState(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  const load = async () => {
    try {
      setResources((await conn.call('resources', {})).resources);
      setError('');
    } catch (e) {
      setError(e.message);
    }
  };
  useEffect(() => void load(), []);
  const f = filter.trim().toLowerCase();
  const shown = (resources ?? []).filter((r) => !f || [r.resource, r.kind, r.group, ...r.shortNames].some((x) => x.toLowerCase().includes(f)));
  return html`
    <h1>Resources</h1>
    <p class="muted">Every resource the API serves that can be listed and watched, from discovery, by group; each opens as a live list.</p>
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label>Filter <input type="search" aria-label="filter resources" placeholder="kind, resource or group" value=${filter} onInput=${(e) => setFilter(e.target.value)} /></label>
      <button type="button" onClick=${load}>Reload discovery</button>
    </form>
    ${error && html`<p class="bad" role="alert">${error}</p>`}
    ${resources === null ? html`<p>Loading…</p>` : html`
      <p role="status" class="muted">${shown.length} resources</p>
      <table class="plain" aria-label="resources">
        <thead><tr><th>Resource</th><th>Kind</th><th>Group</th><th>Version</th><th>Scope</th><th>Short names</th></tr></thead>
        <tbody>${shown.map((r) => html`
          <tr data-resource=${`${r.resource}.${r.group || 'core'}/${r.version}`}>
            <td><a href=${r.preferred ? listHref(r) : `#/r/${[groupSegment(r.group), r.version, r.resource].map(encodeURIComponent).join('/')}`}>${r.resource}</a></td>
            <td>${r.kind}</td><td>${r.group || 'core'}</td><td>${r.version}${r.preferred ? '' : html` <span class="muted">(not preferred)</span>`}</td>
            <td>${r.namespaced ? 'Namespaced' : 'Cluster'}</td><td>${r.shortNames.join(', ')}</td>
          </tr>`)}</tbody>
      </table>`}`;
}

/** Any resource as a live table: #/r/GROUP/VERSION/RESOURCE ("core" for the core group). */
export function ResourceList({ group, version, resource }) {
  const gvr = { group: groupOf(group), version, resource };
  const [query, setQuery] = useState({});
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/resources">Resources</a> / ${group} / ${version}</nav>
    <h1>${resource}</h1>
    <${Filters} query=${query} setQuery=${setQuery} />
    <${VirtualTable} key=${`${group}/${version}/${resource}`} gvr=${gvr} label=${resource} query=${query} onSort=${(sort) => setQuery({ ...query, sort })}
      onOpen=${(r) => (location.hash = objectHref(gvr, r.namespace, r.name))} height=${Math.max(280, innerHeight - 240)} />`;
}
