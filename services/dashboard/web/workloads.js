// Workloads: Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs, with
// scale, restart and delete on each one's page.
import { useState } from 'preact/hooks';
import { html } from './html.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { ActionButton, Conditions, Filters, Labels, useFollowingState, useObject, yamlHref } from './common.js';
import { conn } from './socket.js';
import { go } from './router.js';
import { ROLLABLE, RolloutHistory } from './rollout.js';

export const WORKLOAD_KINDS = [
  ['deployments', 'Deployments'],
  ['statefulsets', 'StatefulSets'],
  ['daemonsets', 'DaemonSets'],
  ['replicasets', 'ReplicaSets'],
  ['jobs', 'Jobs'],
  ['cronjobs', 'CronJobs'],
];

/** The group, version and resource of a workload kind; undefined for any other resource. */
export const workloadGVR = (resource) => (WORKLOAD_KINDS.some(([r]) => r === resource) ? GVR[resource] : undefined);

export function WorkloadsView({ resource = 'deployments' }) {
  const [query, setQuery] = useState({ sort: { column: 'Name' } });
  const label = WORKLOAD_KINDS.find(([r]) => r === resource)?.[1] ?? resource;
  return html`
    <h1>Workloads</h1>
    <nav class="tabs" aria-label="workload kinds">
      ${WORKLOAD_KINDS.map(([r, l]) => html`<a href=${`#/workloads/${r}`} aria-current=${r === resource ? 'page' : undefined}>${l}</a>`)}
    </nav>
    <${Filters} query=${query} setQuery=${setQuery} />
    <${VirtualTable} gvr=${workloadGVR(resource) ?? GVR.deployments} label=${label.toLowerCase()} query=${query} onSort=${(sort) => setQuery({ ...query, sort })}
      onOpen=${(r) => go('workloads', resource, r.namespace, r.name)} height=${Math.max(280, innerHeight - 260)} />`;
}

export function selectorString(sel) {
  return Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).concat((sel?.matchExpressions ?? []).map((e) => e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`)).join(',');
}

function Scale({ gvr, namespace, name, replicas }) {
  // the field follows the object's replicas (kubectl's scale too) while the button's
  // status line stays: a remount on every change would wipe "scaled to N" as it lands
  const [n, setN] = useFollowingState(String(replicas ?? 0));
  return html`
    <form class="inline" onSubmit=${(e) => e.preventDefault()}>
      <label>Replicas <input type="number" min="0" aria-label="replicas" value=${n} onInput=${(e) => setN(e.target.value)} style="width: 5rem" /></label>
      <${ActionButton} label="Scale" run=${async () => (await conn.call('scale', { ref: { ...gvr, namespace, name }, replicas: Number(n) }), `scaled to ${n}`)} />
    </form>`;
}

export function WorkloadDetails({ resource, namespace, name }) {
  const gvr = workloadGVR(resource);
  const [obj, error] = useObject({ ...gvr, namespace, name });
  if (!gvr) return html`<p role="alert">Unknown workload kind ${resource}</p>`;
  if (error) return html`<p class="bad" role="alert">${error}</p>`;
  if (obj === undefined) return html`<p>Loading ${resource} ${namespace}/${name}…</p>`;
  if (obj === null) return html`<h1>${name}</h1><p role="alert">${resource} ${namespace}/${name} does not exist (any more).</p><a href=${`#/workloads/${resource}`}>All ${resource}</a>`;
  const st = obj.status ?? {};
  const selector = resource === 'cronjobs' ? '' : selectorString(obj.spec?.selector);
  const kind = obj.kind ?? resource;
  const ref = { ...gvr, namespace, name };
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href=${`#/workloads/${resource}`}>${kind}s</a> / ${namespace} / ${name}</nav>
    <h1>${kind} ${name}</h1>
    <div class="toolbar">
      ${['deployments', 'statefulsets', 'replicasets'].includes(resource) && html`<${Scale} gvr=${gvr} namespace=${namespace} name=${name} replicas=${obj.spec?.replicas} />`}
      ${['deployments', 'statefulsets', 'daemonsets'].includes(resource) && html`<${ActionButton} label="Restart" run=${async () => (await conn.call('restart', { ref }), 'restart requested: the pods roll')} />`}
      ${selector && html`<a class="button" href=${`#/workloads/${resource}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/logs`}>Logs</a>`}
      <a class="button" href=${yamlHref(gvr, namespace, name)}>Edit YAML</a>
      <${ActionButton} label="Delete" danger confirm run=${async () => (await conn.call('delete', { ref }), 'deleted')} />
    </div>
    <dl class="facts">
      <dt>Namespace</dt><dd>${namespace}</dd>
      ${obj.spec?.replicas !== undefined && html`<dt>Replicas</dt><dd data-testid="replicas">${st.readyReplicas ?? 0} ready / ${obj.spec.replicas} desired, ${st.updatedReplicas ?? 0} up to date, ${st.availableReplicas ?? 0} available</dd>`}
      ${resource === 'daemonsets' && html`<dt>Scheduled</dt><dd>${st.numberReady ?? 0} ready / ${st.desiredNumberScheduled ?? 0} desired</dd>`}
      ${resource === 'jobs' && html`<dt>Pods</dt><dd>${st.succeeded ?? 0} succeeded, ${st.active ?? 0} active, ${st.failed ?? 0} failed</dd>`}
      ${resource === 'cronjobs' && html`<dt>Schedule</dt><dd>${obj.spec?.schedule}</dd>`}
      <dt>Selector</dt><dd>${selector || '—'}</dd>
      <dt>Labels</dt><dd><${Labels} labels=${obj.metadata?.labels} /></dd>
    </dl>
    ${st.conditions && html`<h2>Conditions</h2><${Conditions} conditions=${st.conditions} />`}
    ${ROLLABLE.has(resource) && html`<${RolloutHistory} resource=${resource} namespace=${namespace} name=${name} obj=${obj} />`}
    ${selector && html`
      <h2>Pods</h2>
      <${VirtualTable} gvr=${GVR.pods} label="pods of this workload" height=${240} hide=${['Namespace']}
        query=${{ namespace, labelSelector: selector, sort: { column: 'Name' } }} onOpen=${(r) => go('pods', r.namespace, r.name)} />`}`;
}
