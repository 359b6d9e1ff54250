// The live event stream: every Event, newest first (the server keeps them sorted and
// sends the window shown as new ones arrive), filtered by the header's namespace, by
// type, and by involved object and reason (parts of them, case-insensitive).
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { objectHref } from './kinds.js';

// an Event's involved object as the table prints it ("pod/web-1") → its view
const KIND_RESOURCE = { pod: 'pods', node: 'nodes', service: 'services', namespace: 'namespaces', deployment: 'deployments', replicaset: 'replicasets', statefulset: 'statefulsets', daemonset: 'daemonsets', job: 'jobs', cronjob: 'cronjobs' };
const APPS = new Set(['deployments', 'replicasets', 'statefulsets', 'daemonsets']);

function openInvolved(r) {
  const [kind, name] = String(r.cells[3] ?? '').split('/');
  const resource = KIND_RESOURCE[kind];
  if (!resource || !name) return;
  const group = APPS.has(resource) ? 'apps' : resource === 'jobs' || resource === 'cronjobs' ? 'batch' : '';
  location.hash = objectHref({ group, version: 'v1', resource }, resource === 'nodes' || resource === 'namespaces' ? '' : r.namespace, name);
}

export function EventsView() {
  const [type, setType] = useState('');
  const [object, setObject] = useState('');
  const [reason, setReason] = useState('');
  const [sort, setSort] = useState({ column: 'Last seen', desc: true });
  const query = { sort, where: type ? { Type: type } : {}, contains: { Object: object, Reason: reason } };
  return html`
    <h1>Events</h1>
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label>Type
        <select aria-label="event type" value=${type} onChange=${(e) => setType(e.target.value)}>
          <option value="">all types</option><option value="Normal">Normal</option><option value="Warning">Warning</option>
        </select></label>
      <label>Object <input type="search" aria-label="involved object" placeholder="pod/web" value=${object} onInput=${(e) => setObject(e.target.value)} /></label>
      <label>Reason <input type="search" aria-label="reason" placeholder="FailedScheduling" value=${reason} onInput=${(e) => setReason(e.target.value)} /></label>
    </form>
    <${VirtualTable} gvr=${GVR.events} label="events" query=${query} onSort=${setSort} onOpen=${openInvolved}
      height=${Math.max(280, innerHeight - 220)} />`;
}
