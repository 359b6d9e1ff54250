// Overview: nodes Ready and NotReady, pods by phase, recent warning events; all live.
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { GVR } from './api.js';
import { VirtualTable } from './table.js';
import { OverviewCharts } from './charts.js';

function Stat({ label, value, tone, href }) {
  return html`<a class=${`stat ${tone ?? ''}`} href=${href} aria-label=${`${label}: ${value}`}><span class="value">${value.toLocaleString('en')}</span><span class="label">${label}</span></a>`;
}

export function Overview() {
  const [s, setS] = useState(null);
  useEffect(() => {
    const sub = conn.subscribe({ op: 'summary' }, (m) => m.type === 'summary' && setS(m));
    return () => sub.close();
  }, []);
  return html`
    <h1>Overview</h1>
    <section aria-labelledby="nodes-h">
      <h2 id="nodes-h">Nodes</h2>
      <div class="stats" data-testid="node-stats">
        ${s && html`
          <${Stat} label="Ready" value=${s.nodes.Ready} tone="good" href="#/nodes" />
          <${Stat} label="NotReady" value=${s.nodes.NotReady} tone=${s.nodes.NotReady ? 'bad' : ''} href="#/nodes" />
          <${Stat} label="Cordoned" value=${s.nodes.SchedulingDisabled} tone=${s.nodes.SchedulingDisabled ? 'warn' : ''} href="#/nodes" />`}
      </div>
    </section>
    <section aria-labelledby="pods-h">
      <h2 id="pods-h">Pods by phase</h2>
      <div class="stats" data-testid="pod-stats">
        ${s && Object.entries(s.pods).map(([phase, n]) => html`<${Stat} label=${phase} value=${n} tone=${phase === 'Running' || phase === 'Succeeded' ? 'good' : phase === 'Failed' || phase === 'Unknown' ? (n ? 'bad' : '') : n ? 'warn' : ''} href="#/pods" />`)}
      </div>
    </section>
    <${OverviewCharts} />
    <section aria-labelledby="events-h">
      <h2 id="events-h">Recent warning events</h2>
      <${VirtualTable} gvr=${GVR.events} label="warning events" height=${250} query=${{ where: { Type: 'Warning' }, sort: { column: 'Last seen', desc: true } }} />
    </section>`;
}
