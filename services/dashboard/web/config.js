// ConfigMaps and Secrets: the lists, a ConfigMap's data, and a Secret's keys with each
// value masked until the user asks for it. The server sends a followed Secret without
// its values (secrets.ts); "Show" fetches one key's value with one call.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { ActionButton, Filters, Labels, useObject, yamlHref } from './common.js';
import { conn } from './socket.js';
import { go } from './router.js';

const TABS = [
  ['configmaps', 'ConfigMaps'],
  ['secrets', 'Secrets'],
];

export function ConfigView({ resource = 'configmaps' }) {
  const [query, setQuery] = useState({ sort: { column: 'Name' } });
  const label = TABS.find(([r]) => r === resource)?.[1] ?? resource;
  return html`
    <h1>Config</h1>
    <nav class="tabs" aria-label="config kinds">
      ${TABS.map(([r, l]) => html`<a href=${`#/config/${r}`} aria-current=${r === resource ? 'page' : undefined}>${l}</a>`)}
    </nav>
    <${Filters} query=${query} setQuery=${setQuery} />
    <${VirtualTable} key=${resource} gvr=${resource === 'secrets' ? GVR.secrets : GVR.configmaps} label=${label.toLowerCase()} query=${query} onSort=${(sort) => setQuery({ ...query, sort })}
      onOpen=${(r) => go('config', resource, r.namespace, r.name)} height=${Math.max(280, innerHeight - 260)} />`;
}

function Header({ gvr, kind, namespace, name }) {
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href=${`#/config/${gvr.resource}`}>${kind}s</a> / ${namespace} / ${name}</nav>
    <h1>${kind} ${name}</h1>
    <div class="toolbar">
      <a class="button" href=${yamlHref(gvr, namespace, name)}>Edit YAML</a>
      <${ActionButton} label="Delete" danger confirm run=${async () => (await conn.call('delete', { ref: { ...gvr, namespace, name } }), 'deleted')} />
    </div>`;
}

function useFollowed(gvr, kind, namespace, name) {
  const [obj, error] = useObject({ ...gvr, namespace, name });
  if (error) return [null, html`<p class="bad" role="alert">${error}</p>`];
  if (obj === undefined) return [null, html`<p>Loading ${kind} ${namespace}/${name}…</p>`];
  if (obj === null) return [null, html`<h1>${kind} ${name}</h1><p role="alert">${kind} ${namespace}/${name} does not exist (any more).</p><a href=${`#/config/${gvr.resource}`}>All ${kind}s</a>`];
  return [obj, null];
}

export function ConfigMapDetails({ namespace, name }) {
  const gvr = GVR.configmaps;
  const [cm, other] = useFollowed(gvr, 'ConfigMap', namespace, name);
  if (!cm) return other;
  const data = Object.entries(cm.data ?? {});
  const binary = Object.entries(cm.binaryData ?? {});
  return html`
    <${Header} gvr=${gvr} kind="ConfigMap" namespace=${namespace} name=${name} />
    <dl class="facts"><dt>Namespace</dt><dd>${namespace}</dd><dt>Labels</dt><dd><${Labels} labels=${cm.metadata?.labels} /></dd></dl>
    <h2>Data</h2>
    <table class="plain" aria-label="data">
      <thead><tr><th>Key</th><th>Value</th></tr></thead>
      <tbody>
        ${data.map(([k, v]) => html`<tr><td>${k}</td><td><pre class="value">${v}</pre></td></tr>`)}
        ${binary.map(([k, v]) => html`<tr><td>${k}</td><td class="muted">binary, ${Math.floor((v.length * 3) / 4)} bytes</td></tr>`)}
      </tbody>
    </table>`;
}

function SecretValue({ namespace, name, k, size }) {
  const [shown, setShown] = useState(null);
  const [error, setError] = useState('');
  const show = async () => {
    try {
      setShown(await conn.call('secretValue', { ref: { namespace, name }, key: k }));
      setError('');
    } catch (e) {
      setError(e.message);
    }
  };
  return html`
    <tr data-key=${k}>
      <td>${k}</td>
      <td>${size} bytes</td>
      <td data-testid=${`value-${k}`}>${shown ? html`<pre class="value">${shown.value}</pre>${shown.encoding === 'base64' ? html`<span class="muted"> (base64: not UTF-8)</span>` : ''}` : html`<span class="masked" aria-label="masked">••••••••</span>`}
        ${error && html`<span class="bad" role="alert">${error}</span>`}</td>
      <td>${shown
        ? html`<button aria-label=${`hide value of ${k}`} onClick=${() => setShown(null)}>Hide</button>`
        : html`<button aria-label=${`show value of ${k}`} onClick=${show}>Show</button>`}</td>
    </tr>`;
}

export function SecretDetails({ namespace, name }) {
  const gvr = GVR.secrets;
  const [secret, other] = useFollowed(gvr, 'Secret', namespace, name);
  if (!secret) return other;
  const keys = Object.entries(secret.dataSizes ?? {});
  return html`
    <${Header} gvr=${gvr} kind="Secret" namespace=${namespace} name=${name} />
    <dl class="facts">
      <dt>Namespace</dt><dd>${namespace}</dd>
      <dt>Type</dt><dd>${secret.type ?? 'Opaque'}</dd>
      <dt>Labels</dt><dd><${Labels} labels=${secret.metadata?.labels} /></dd>
    </dl>
    <h2>Data</h2>
    <p class="muted">Values stay on the server until you show one. (Edit YAML shows them all, base64-encoded.)</p>
    <table class="plain" aria-label="secret data">
      <thead><tr><th>Key</th><th>Size</th><th>Value</th><th></th></tr></thead>
      <tbody>${keys.map(([k, size]) => html`<${SecretValue} key=${`${k}@${secret.metadata?.resourceVersion}`} k=${k} namespace=${namespace} name=${name} size=${size} />`)}</tbody>
    </table>`;
}
