// Global search: the header's box, and the results page (#/search/QUERY). The server
// looks through every listable kind (search.ts): a query with a selector operator
// (app=web, tier!=db) matches labels, anything else a part of the name; bounded, and
// narrowed to the header's namespace.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { go } from './router.js';
import { Labels, useFollowingState } from './common.js';
import { objectHref } from './kinds.js';
import { useSharedNamespace } from './nsfilter.js';

export function HeaderSearch({ current = '' }) {
  const [q, setQ] = useFollowingState(current);
  return html`
    <form class="header-search" role="search" aria-label="everything" onSubmit=${(e) => (e.preventDefault(), q.trim() && go('search', q.trim()))}>
      <input type="search" aria-label="search every kind" placeholder="Search: name or app=web" value=${q} onInput=${(e) => setQ(e.target.value)} />
    </form>`;
}

export function SearchView({ query }) {
  const namespace = useSharedNamespace();
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    setResult(null);
    setError('');
    conn.call('search', { query, namespace }).then(
      (r) => live && setResult(r),
      (e) => live && setError(e.message),
    );
    return () => (live = false);
  }, [query, namespace]);
  return html`
    <h1>Search: ${query}</h1>
    <p class="muted">${/[=!]|\s(not)?in\s*\(/.test(query) ? 'Objects whose labels match the selector' : 'Objects whose name contains the text'} in ${namespace ? `namespace ${namespace} (and cluster-scoped kinds)` : 'every namespace'}.</p>
    ${error && html`<p class="bad" role="alert">${error}</p>`}
    ${!result && !error && html`<p role="status">Searching…</p>`}
    ${result && html`
      <p role="status" class="muted">${result.hits.length} found in ${result.searched} kinds${result.truncated ? ' (more matched: narrow the query)' : ''}${result.partial.length ? `; only the first objects of ${result.partial.join(', ')} were looked at` : ''}</p>
      ${result.errors.length ? html`<ul class="bad">${result.errors.map((e) => html`<li>${e.resource}: ${e.message}</li>`)}</ul>` : ''}
      <table class="plain" aria-label="search results">
        <thead><tr><th>Kind</th><th>Namespace</th><th>Name</th><th>Labels</th></tr></thead>
        <tbody>${result.hits.map((h) => html`
          <tr data-key=${`${h.kind}/${h.namespace}/${h.name}`}>
            <td>${h.kind}${h.group ? html` <span class="muted">${h.group}</span>` : ''}</td><td>${h.namespace}</td>
            <td><a href=${objectHref(h, h.namespace, h.name)}>${h.name}</a></td><td><${Labels} labels=${h.labels} /></td>
          </tr>`)}</tbody>
      </table>`}`;
}
