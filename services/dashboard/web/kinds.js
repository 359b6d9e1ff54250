// The views of issue 14 in one place for the shell (app.js): their navigation entries,
// their routes, and where an object of any kind opens (its own view, else its YAML).
import { html } from './html.js';
import { groupSegment, yamlHref } from './common.js';
import { ResourcesView, ResourceList } from './resources.js';
import { ServicesView, ServiceDetails } from './services.js';
import { ConfigView, ConfigMapDetails, SecretDetails } from './config.js';
import { NamespacesView, NamespaceDetails } from './namespaces.js';
import { EventsView } from './events.js';
import { SearchView } from './search.js';

export const KIND_NAV = [
  { path: 'services', label: 'Services', key: '5' },
  { path: 'config', label: 'Config', key: '6' },
  { path: 'events', label: 'Events', key: '7' },
  { path: 'namespaces', label: 'Namespaces', key: '8' },
  { path: 'resources', label: 'Resources', key: '9' },
];

const WORKLOADS = { apps: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], batch: ['jobs', 'cronjobs'] };
const enc = (...parts) => parts.map(encodeURIComponent).join('/');

/** Where an object opens: the view made for its kind, else its YAML. */
export function objectHref(gvr, namespace, name) {
  const { group, resource } = gvr;
  if (group === '' && resource === 'pods') return `#/pods/${enc(namespace, name)}`;
  if (group === '' && resource === 'nodes') return `#/nodes/${enc(name)}`;
  if (group === '' && resource === 'namespaces') return `#/namespaces/${enc(name)}`;
  if (group === '' && ['services', 'configmaps', 'secrets'].includes(resource)) return `#/${resource === 'services' ? 'services' : `config/${resource}`}/${enc(namespace, name)}`;
  if (WORKLOADS[group]?.includes(resource)) return `#/workloads/${enc(resource, namespace, name)}`;
  return yamlHref(gvr, namespace, name);
}

/** The list of a resource: the view made for it, else the generic one. */
export function listHref(gvr) {
  const { group, resource } = gvr;
  if (group === '' && ['pods', 'nodes', 'services', 'namespaces', 'events'].includes(resource)) return `#/${resource}`;
  if (group === '' && ['configmaps', 'secrets'].includes(resource)) return `#/config/${resource}`;
  if (WORKLOADS[group]?.includes(resource)) return `#/workloads/${resource}`;
  return `#/r/${enc(groupSegment(group), gvr.version, resource)}`;
}

/** The body for a route of these views, or undefined (not one of theirs). */
export function kindRoute(view, rest) {
  if (view === 'resources') return html`<${ResourcesView} />`;
  if (view === 'r' && rest.length === 3) return html`<${ResourceList} group=${rest[0]} version=${rest[1]} resource=${rest[2]} />`;
  if (view === 'services' && rest.length === 2) return html`<${ServiceDetails} namespace=${rest[0]} name=${rest[1]} />`;
  if (view === 'services') return html`<${ServicesView} />`;
  if (view === 'config' && rest.length === 3) return rest[0] === 'secrets' ? html`<${SecretDetails} namespace=${rest[1]} name=${rest[2]} />` : html`<${ConfigMapDetails} namespace=${rest[1]} name=${rest[2]} />`;
  if (view === 'config') return html`<${ConfigView} resource=${rest[0] ?? 'configmaps'} />`;
  if (view === 'namespaces' && rest.length === 1) return html`<${NamespaceDetails} name=${rest[0]} />`;
  if (view === 'namespaces') return html`<${NamespacesView} />`;
  if (view === 'events') return html`<${EventsView} />`;
  if (view === 'search') return html`<${SearchView} query=${rest.join('/')} />`;
  return undefined;
}
