// A workload's rollout history (Deployments: ReplicaSets by revision; DaemonSets and
// StatefulSets: ControllerRevisions) and undo, as kubectl rollout history / undo. The
// history is read again whenever the workload's template or revision changes (the
// workload itself is followed live by its page).
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { ActionButton } from './common.js';
import { age } from './format.js';

export const ROLLABLE = new Set(['deployments', 'daemonsets', 'statefulsets']);

export function RolloutHistory({ resource, namespace, name, obj }) {
  const [revisions, setRevisions] = useState(null);
  const [error, setError] = useState('');
  const ref = { group: 'apps', version: 'v1', resource, namespace, name };
  // what changes when a rollout starts or ends: the template (generation), the revision, the StatefulSet's revisions
  const when = [obj.metadata?.generation, obj.metadata?.annotations?.['deployment.kubernetes.io/revision'], obj.status?.observedGeneration, obj.status?.updateRevision, obj.status?.currentRevision].join('/');
  useEffect(() => {
    let live = true;
    conn.call('rolloutHistory', { ref }).then(
      (r) => live && (setRevisions(r.revisions), setError('')),
      (e) => live && setError(e.message),
    );
    return () => (live = false);
  }, [resource, namespace, name, when]);
  const undo = async (revision) => (await conn.call('rolloutUndo', { ref, revision })).message;
  return html`
    <h2>Rollout history</h2>
    ${error && html`<p class="bad" role="alert">${error}</p>`}
    ${revisions && html`
      <div class="toolbar"><${ActionButton} label="Undo" confirm run=${() => undo(0)} /><span class="muted">back to the revision before the current one</span></div>
      <table class="plain" aria-label="rollout history">
        <thead><tr><th>Revision</th><th>Change cause</th><th>Images</th><th>Created</th><th>Held by</th><th></th></tr></thead>
        <tbody>${[...revisions].reverse().map((r) => html`
          <tr data-revision=${r.revision} class=${r.current ? 'current' : ''}>
            <td>${r.revision}${r.current ? html` <strong>(current)</strong>` : ''}</td>
            <td>${r.changeCause || html`<span class="muted">${'<none>'}</span>`}</td>
            <td>${r.images.join(', ')}</td>
            <td>${age(Date.parse(r.created))}</td>
            <td>${r.name}</td>
            <td>${r.current ? '' : html`<${ActionButton} label=${`Roll back to ${r.revision}`} confirm run=${() => undo(r.revision)} />`}</td>
          </tr>`)}</tbody>
      </table>`}`;
}
