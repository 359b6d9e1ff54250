// Pieces the views share: the namespaces, filters, a followed object.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { GVR } from './api.js';

/** The namespaces, live (a table subscription of up to 500 names). */
export function useNamespaces() {
  const [names, setNames] = useState([]);
  useEffect(() => {
    const s = conn.subscribe({ op: 'table', gvr: GVR.namespaces, query: {}, offset: 0, limit: 500 }, (m) => {
      if (m.type === 'page') setNames(m.rows.map((r) => r.name));
    });
    return () => s.close();
  }, []);
  return names;
}

/**
 * A field's own value that follows `source` when source changes. Not on mount: an effect
 * runs after the paint, and would undo what was typed in between (a Scale field set to 4
 * was put back to 3 just before the click).
 */
export function useFollowingState(source) {
  const [value, setValue] = useState(source);
  const last = useRef(source);
  useEffect(() => {
    if (last.current === source) return;
    last.current = source;
    setValue(source);
  }, [source]);
  return [value, setValue];
}

/** Name and label-selector filters over a table (the namespace is the header's, nsfilter.js); the server does the filtering. */
export function Filters({ query, setQuery, labels = true }) {
  return html`
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label>Name <input type="search" aria-label="filter by name" placeholder="part of the name" value=${query.text ?? ''}
        onInput=${(e) => setQuery({ ...query, text: e.target.value })} /></label>
      ${labels && html`<label>Labels <input type="search" aria-label="label selector" placeholder="app=web,tier!=db" value=${query.labelSelector ?? ''}
        onChange=${(e) => setQuery({ ...query, labelSelector: e.target.value })} /></label>`}
    </form>`;
}

/**
 * One object, live: undefined while loading, null once it does not exist. What arrived for
 * another ref is not returned, not even in the render before the effect subscribes (a pod's
 * page, opened from another's, showed the other's phase and events under the new name).
 */
export function useObject(ref) {
  const key = JSON.stringify(ref);
  const [got, setGot] = useState({ key: undefined, obj: undefined, error: '' });
  useEffect(() => {
    const s = conn.subscribe({ op: 'object', ref }, (m) => {
      if (m.type === 'object') setGot({ key, obj: m.object, error: '' });
      else if (m.type === 'error') setGot((g) => ({ key, obj: g.key === key ? g.obj : undefined, error: m.message }));
    });
    return () => s.close();
  }, [key]);
  return got.key === key ? [got.obj, got.error] : [undefined, ''];
}

// conditions that are bad news when True; for every other type True is the good state
const BAD_WHEN_TRUE = new Set(['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable', 'ReplicaFailure', 'Failed', 'FailureTarget', 'Suspended']);
const conditionTone = (c) => (c.status === 'Unknown' ? 'warn' : (c.status === 'True') !== BAD_WHEN_TRUE.has(c.type) ? 'good' : 'bad');

export function Conditions({ conditions = [] }) {
  return html`
    <table class="plain" aria-label="conditions">
      <thead><tr><th>Type</th><th>Status</th><th>Reason</th><th>Message</th></tr></thead>
      <tbody>${conditions.map((c) => html`<tr><td>${c.type}</td><td class=${conditionTone(c)}>${c.status}</td><td>${c.reason ?? ''}</td><td>${c.message ?? ''}</td></tr>`)}</tbody>
    </table>`;
}

export function Labels({ labels }) {
  return html`<span class="labels">${Object.entries(labels ?? {}).map(([k, v]) => html`<span class="chip">${k}=${v}</span>`)}</span>`;
}

/**
 * A button that runs a change and says how it went (role=status). With `confirm`, the
 * first press asks ("Confirm delete") and only a second press within 5 s acts.
 */
export function ActionButton({ label, run, confirm = false, danger = false }) {
  const [state, setState] = useState({ asking: false, busy: false, said: '', bad: false });
  const press = async () => {
    if (confirm && !state.asking) {
      setState({ ...state, asking: true, said: '' });
      setTimeout(() => setState((s) => ({ ...s, asking: false })), 5000);
      return;
    }
    setState({ asking: false, busy: true, said: '', bad: false });
    try {
      const said = await run();
      setState({ asking: false, busy: false, said: typeof said === 'string' ? said : `${label}: done`, bad: false });
    } catch (e) {
      setState({ asking: false, busy: false, said: `${label} failed: ${e.message}`, bad: true });
    }
  };
  return html`
    <span class="action">
      <button class=${danger ? 'danger' : ''} disabled=${state.busy} onClick=${press}>${state.asking ? `Confirm ${label.toLowerCase()}` : label}</button>
      <span role="status" class=${state.bad ? 'bad' : 'muted'}>${state.said}</span>
    </span>`;
}

/** The route segment of an API group: the core group is "core". */
export const groupSegment = (g) => g || 'core';
export const groupOf = (seg) => (seg === 'core' ? '' : seg);

/** The link to an object's YAML view. */
export function yamlHref(gvr, namespace, name) {
  return `#/yaml/${[groupSegment(gvr.group), gvr.version, gvr.resource, namespace || '_', name].map(encodeURIComponent).join('/')}`;
}
