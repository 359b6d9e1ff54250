// The dashboard's shell: navigation, the route in the URL's hash, and the views.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { go, route } from './router.js';
import { Overview } from './overview.js';
import { PodsView, PodDetails } from './pods.js';
import { NodesView, NodeDetails } from './nodes.js';
import { WorkloadsView, WorkloadDetails } from './workloads.js';
import { YamlView } from './yaml.js';
import { KIND_NAV, kindRoute } from './kinds.js';
import { HeaderNamespace } from './nsfilter.js';
import { HeaderSearch } from './search.js';
import { PodLogs, SelectorLogs, WorkloadLogs } from './logs.js';
import { PodShell } from './shell.js';

const NAV = [
  { path: 'overview', label: 'Overview', key: '1' },
  { path: 'nodes', label: 'Nodes', key: '2' },
  { path: 'workloads', label: 'Workloads', key: '3' },
  { path: 'pods', label: 'Pods', key: '4' },
  ...KIND_NAV,
];

function Connection() {
  const [state, setState] = useState(conn.state);
  useEffect(() => {
    // the socket may have opened between the render and this effect: that change had no listener yet
    setState(conn.state);
    return conn.onState(setState);
  }, []);
  return html`<span class=${`conn ${state}`} role="status" aria-label="connection">${state === 'open' ? 'live' : state}</span>`;
}

function App() {
  const [r, setR] = useState(route());
  useEffect(() => {
    const on = () => setR(route());
    addEventListener('hashchange', on);
    // Alt+1..9 reach the views from anywhere
    const keys = (e) => {
      const n = NAV.find((v) => e.altKey && e.key === v.key);
      if (n) (e.preventDefault(), go(n.path));
    };
    addEventListener('keydown', keys);
    return () => (removeEventListener('hashchange', on), removeEventListener('keydown', keys));
  }, []);
  const [view, ...rest] = r;
  let body;
  if (view === 'pods' && rest[2] === 'logs') body = html`<${PodLogs} namespace=${rest[0]} name=${rest[1]} />`;
  else if (view === 'pods' && rest[2] === 'shell') body = html`<${PodShell} namespace=${rest[0]} name=${rest[1]} />`;
  else if (view === 'logs' && rest.length === 2) body = html`<${SelectorLogs} namespace=${rest[0]} selector=${rest[1]} />`;
  else if (view === 'workloads' && rest[3] === 'logs') body = html`<${WorkloadLogs} resource=${rest[0]} namespace=${rest[1]} name=${rest[2]} />`;
  else if (view === 'pods' && rest.length === 2) body = html`<${PodDetails} namespace=${rest[0]} name=${rest[1]} />`;
  else if (view === 'pods') body = html`<${PodsView} />`;
  else if (view === 'nodes' && rest.length === 1) body = html`<${NodeDetails} name=${rest[0]} />`;
  else if (view === 'nodes') body = html`<${NodesView} />`;
  else if (view === 'workloads' && rest.length === 3) body = html`<${WorkloadDetails} resource=${rest[0]} namespace=${rest[1]} name=${rest[2]} />`;
  else if (view === 'workloads') body = html`<${WorkloadsView} resource=${rest[0]} />`;
  else if (view === 'yaml' && rest.length === 5) body = html`<${YamlView} group=${rest[0]} version=${rest[1]} resource=${rest[2]} namespace=${rest[3]} name=${rest[4]} />`;
  else body = kindRoute(view, rest) ?? html`<${Overview} />`;
  return html`
    <header>
      <a class="brand" href="#/overview">Flotilla</a>
      <nav aria-label="views">
        ${NAV.map((n) => html`<a href=${`#/${n.path}`} aria-current=${view === n.path ? 'page' : undefined} title=${`Alt+${n.key}`}>${n.label}</a>`)}
      </nav>
      <${HeaderNamespace} />
      <${HeaderSearch} current=${view === 'search' ? rest.join('/') : ''} />
      <${Connection} />
    </header>
    <main id="main">${body}</main>`;
}

const root = document.getElementById('root');
root.textContent = '';
render(html`<${App} />`, root);
