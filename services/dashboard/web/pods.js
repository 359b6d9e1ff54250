// Pods: the list (server-side filter, sort and paging) and one pod's details.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { ActionButton, Conditions, Filters, Labels, useObject, yamlHref } from './common.js';
import { conn } from './socket.js';
import { go } from './router.js';
import { tone } from './format.js';
import { PodCharts } from './charts.js';
import { useSharedNamespace } from './nsfilter.js';

export function PodsView() {
  const [query, setQuery] = useState({ sort: { column: 'Name' } });
  const namespace = useSharedNamespace();
  const selector = query.labelSelector?.trim();
  return html`
    <h1>Pods</h1>
    <${Filters} query=${query} setQuery=${setQuery} />
    ${selector && (namespace
      ? html`<p><a class="button" href=${`#/logs/${encodeURIComponent(namespace)}/${encodeURIComponent(selector)}`}>Logs of these pods</a></p>`
      : html`<p class="muted">Choose a namespace in the header to follow these pods' logs together.</p>`)}
    <${VirtualTable} gvr=${GVR.pods} label="pods" query=${query} onSort=${(sort) => setQuery({ ...query, sort })}
      onOpen=${(r) => go('pods', r.namespace, r.name)} height=${Math.max(280, innerHeight - 220)} />`;
}

function containerState(s) {
  if (!s?.state) return 'Waiting';
  const [k, v] = Object.entries(s.state)[0] ?? ['waiting', {}];
  const name = k[0].toUpperCase() + k.slice(1);
  return v?.reason ? `${name} (${v.reason})` : name;
}

function resources(r) {
  const part = (o) => Object.entries(o ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  return [r?.requests && `requests: ${part(r.requests)}`, r?.limits && `limits: ${part(r.limits)}`].filter(Boolean).join('; ') || '—';
}

export function PodDetails({ namespace, name }) {
  const [pod, error] = useObject({ ...GVR.pods, namespace, name });
  if (error) return html`<p class="bad" role="alert">${error}</p>`;
  if (pod === undefined) return html`<p>Loading pod ${namespace}/${name}…</p>`;
  if (pod === null) return html`<h1>Pod ${name}</h1><p role="alert">Pod ${namespace}/${name} does not exist (any more).</p><a href="#/pods">All pods</a>`;
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/pods">Pods</a> / ${namespace} / ${name}</nav>
    <h1>Pod ${name}</h1>
    <div class="toolbar">
      <a class="button" href=${`#/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/logs`}>Logs</a>
      <a class="button" href=${`#/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/shell`}>Shell</a>
      <a class="button" href=${yamlHref(GVR.pods, namespace, name)}>Edit YAML</a>
      <${ActionButton} label="Delete" danger confirm run=${async () => (await conn.call('delete', { ref: { ...GVR.pods, namespace, name } }), 'deleted')} />
    </div>
    <dl class="facts">
      <dt>Namespace</dt><dd>${namespace}</dd>
      <dt>Phase</dt><dd class=${tone(pod.status?.phase)} data-testid="pod-phase">${pod.status?.phase ?? 'Pending'}</dd>
      <dt>Node</dt><dd>${pod.spec?.nodeName ? html`<a href=${`#/nodes/${encodeURIComponent(pod.spec.nodeName)}`}>${pod.spec.nodeName}</a>` : 'not scheduled'}</dd>
      <dt>Pod IP</dt><dd>${pod.status?.podIP ?? '—'}</dd>
      <dt>QoS class</dt><dd>${pod.status?.qosClass ?? '—'}</dd>
      <dt>Labels</dt><dd><${Labels} labels=${pod.metadata?.labels} /></dd>
    </dl>
    <h2>Containers</h2>
    <table class="plain" aria-label="containers">
      <thead><tr><th>Name</th><th>Image</th><th>State</th><th>Ready</th><th>Restarts</th><th>Resources</th></tr></thead>
      <tbody>${(pod.spec?.containers ?? []).map((c) => {
        const s = statuses.get(c.name);
        return html`<tr><td>${c.name}</td><td>${c.image}</td><td class=${tone(containerState(s).split(' ')[0])}>${containerState(s)}</td><td>${s?.ready ? 'yes' : 'no'}</td><td>${s?.restartCount ?? 0}</td><td>${resources(c.resources)}</td></tr>`;
      })}</tbody>
    </table>
    <${PodCharts} namespace=${namespace} name=${name} containers=${pod.spec?.containers} />
    <h2>Conditions</h2>
    <${Conditions} conditions=${pod.status?.conditions} />
    <h2>Events</h2>
    <${VirtualTable} gvr=${GVR.events} label="events of this pod" height=${200} hide=${['Namespace', 'Object']}
      query=${{ namespace, where: { Object: `pod/${name}` }, sort: { column: 'Last seen', desc: true } }} />`;
}
