// Nodes: the list and one node's details (conditions, taints, capacity, its pods).
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { ActionButton, Conditions, Labels, useObject, yamlHref } from './common.js';
import { conn } from './socket.js';
import { go } from './router.js';
import { NodeBars } from './charts.js';

export function NodesView() {
  const [query, setQuery] = useState({ sort: { column: 'Name' } });
  return html`
    <h1>Nodes</h1>
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label>Name <input type="search" aria-label="filter by name" value=${query.text ?? ''} onInput=${(e) => setQuery({ ...query, text: e.target.value })} /></label>
      <label>Labels <input type="search" aria-label="label selector" value=${query.labelSelector ?? ''} onChange=${(e) => setQuery({ ...query, labelSelector: e.target.value })} /></label>
    </form>
    <${VirtualTable} gvr=${GVR.nodes} label="nodes" query=${query} onSort=${(sort) => setQuery({ ...query, sort })}
      onOpen=${(r) => go('nodes', r.name)} height=${Math.max(280, innerHeight - 220)} />
    <h2>Resources per node</h2>
    <${NodeBars} />`;
}

export function NodeDetails({ name }) {
  const [node, error] = useObject({ ...GVR.nodes, name });
  if (error) return html`<p class="bad" role="alert">${error}</p>`;
  if (node === undefined) return html`<p>Loading node ${name}…</p>`;
  if (node === null) return html`<h1>Node ${name}</h1><p role="alert">Node ${name} does not exist (any more).</p>`;
  const cap = node.status?.capacity ?? {};
  const alloc = node.status?.allocatable ?? {};
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/nodes">Nodes</a> / ${name}</nav>
    <h1>Node ${name}</h1>
    <div class="toolbar">
      ${node.spec?.unschedulable
        ? html`<${ActionButton} key="uncordon" label="Uncordon" run=${async () => (await conn.call('uncordon', { name }), 'uncordoned')} />`
        : html`<${ActionButton} key="cordon" label="Cordon" run=${async () => (await conn.call('cordon', { name }), 'cordoned')} />`}
      <${ActionButton} label="Drain" danger confirm run=${async () => `drained: ${(await conn.call('drain', { name })).evicted.length} pods evicted`} />
      <a class="button" href=${yamlHref(GVR.nodes, '', name)}>Edit YAML</a>
    </div>
    <dl class="facts">
      <dt>Schedulable</dt><dd data-testid="schedulable">${node.spec?.unschedulable ? 'no (cordoned)' : 'yes'}</dd>
      <dt>Pod CIDR</dt><dd>${node.spec?.podCIDR ?? '—'}</dd>
      <dt>Addresses</dt><dd>${(node.status?.addresses ?? []).map((a) => `${a.type} ${a.address}`).join(', ')}</dd>
      <dt>Kubelet</dt><dd>${node.status?.nodeInfo?.kubeletVersion ?? ''}</dd>
      <dt>Labels</dt><dd><${Labels} labels=${node.metadata?.labels} /></dd>
    </dl>
    <h2>Capacity</h2>
    <table class="plain" aria-label="capacity">
      <thead><tr><th>Resource</th><th>Capacity</th><th>Allocatable</th></tr></thead>
      <tbody>${Object.keys(cap).map((k) => html`<tr><td>${k}</td><td>${cap[k]}</td><td>${alloc[k] ?? ''}</td></tr>`)}</tbody>
    </table>
    <${NodeBars} name=${name} />
    <h2>Conditions</h2>
    <${Conditions} conditions=${node.status?.conditions} />
    <h2>Taints</h2>
    ${(node.spec?.taints ?? []).length ? html`<ul aria-label="taints">${node.spec.taints.map((t) => html`<li>${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}</li>`)}</ul>` : html`<p>none</p>`}
    <h2>Pods on this node</h2>
    <${VirtualTable} gvr=${GVR.pods} label="pods on this node" height=${240} hide=${['Node']}
      query=${{ where: { Node: name }, sort: { column: 'Name' } }} onOpen=${(r) => go('pods', r.namespace, r.name)} />`;
}
