// The namespace every list shows: one choice in the header, kept for the tab
// (sessionStorage), which every table honours unless its view names a namespace itself
// (a workload's pods). Cluster-scoped rows pass it (the server's rule, tables.ts).
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { useNamespaces } from './common.js';

const KEY = 'flotilla.namespace';
let current = sessionStorage.getItem(KEY) ?? '';
const listeners = new Set();

export function sharedNamespace() {
  return current;
}

export function setSharedNamespace(ns) {
  current = ns;
  sessionStorage.setItem(KEY, ns);
  for (const l of listeners) l(ns);
}

export function useSharedNamespace() {
  const [ns, setNs] = useState(current);
  useEffect(() => {
    listeners.add(setNs);
    setNs(current);
    return () => listeners.delete(setNs);
  }, []);
  return ns;
}

/** The header's namespace picker. */
export function HeaderNamespace() {
  const ns = useSharedNamespace();
  const names = useNamespaces();
  return html`
    <label class="header-ns">Namespace
      <select aria-label="namespace" value=${ns} onChange=${(e) => setSharedNamespace(e.target.value)}>
        <option value="">all namespaces</option>
        ${names.map((n) => html`<option value=${n}>${n}</option>`)}
        ${ns && !names.includes(ns) && html`<option value=${ns}>${ns}</option>`}
      </select>
    </label>`;
}
