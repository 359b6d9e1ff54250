// Live charts (uPlot on canvas): the data comes from the server on this tab's socket as a
// {op: 'metrics'} subscription (services/dashboard/metrics.ts), a message every tick;
// the browser never asks Prometheus or a component itself.
import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';

/** The last message of a metrics subscription ({scope, ...}), or null before the first. */
export function useMetrics(request) {
  const [m, setM] = useState(null);
  const key = JSON.stringify(request);
  useEffect(() => {
    setM(null);
    const s = conn.subscribe({ op: 'metrics', ...request }, (msg) => (msg.type === 'metrics' || msg.type === 'error') && setM(msg));
    return () => s.close();
  }, [key]);
  return m;
}

const COLORS = ['#1f5fbf', '#c2410c', '#13795b', '#7c3aed', '#9a6700', '#be185d'];

export const fmt = {
  rate: (v) => (v == null ? '—' : `${v < 10 ? v.toFixed(2) : v.toFixed(0)}/s`),
  count: (v) => (v == null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(1)),
  seconds: (v) => (v == null ? '—' : v < 1 ? `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)} ms` : `${v.toFixed(2)} s`),
  cores: (v) => (v == null ? '—' : v < 1 ? `${(v * 1000).toFixed(0)}m` : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)),
  bytes: (v) => {
    if (v == null) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) (v /= 1024), i++;
    return `${v.toFixed(v < 10 && i ? 1 : 0)} ${units[i]}`;
  },
};

const color = (s, i) => s.color ?? COLORS[i % COLORS.length];

const last = (values) => {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return values[i];
  return null;
};

/** A uPlot in a div that follows the div's width; `build(width)` gives its options, `data` its columns. */
function Plot({ build, data, shape, height, label }) {
  const box = useRef(null);
  const plot = useRef(null);
  // a new set of series (shape) builds a new chart; new points only set the data
  useEffect(() => {
    const el = box.current;
    const u = new uPlot({ ...build(Math.max(200, el.clientWidth)), height }, data, el);
    el.uplot = u;
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => (ro.disconnect(), u.destroy(), (plot.current = null));
  }, [shape]);
  useEffect(() => {
    if (plot.current && plot.current.data !== data) plot.current.setData(data);
  }, [data]);
  return html`<div class="plot" ref=${box} role="img" aria-label=${label}></div>`;
}

/**
 * A time series chart: `t` in seconds, `series` [{label, values, axis: 0|1}], `units` a
 * formatter per axis. Below it, the latest value of each series in text.
 */
export function TimeChart({ title, t, series, units, testid, height = 180 }) {
  const shape = JSON.stringify([series.map((s) => [s.label, s.axis ?? 0, !!s.dash]), units.length]);
  const build = (width) => ({
    width,
    // the line below the chart is the legend
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] }, y2: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: color(s, i), width: 1.5, dash: s.dash ? [6, 4] : undefined, scale: s.axis ? 'y2' : 'y', points: { show: !s.dash }, spanGaps: false }))],
    axes: [
      {},
      { scale: 'y', values: (u, splits) => splits.map(units[0]), size: 60 },
      ...(units.length > 1 ? [{ scale: 'y2', side: 1, grid: { show: false }, values: (u, splits) => splits.map(units[1]), size: 60 }] : []),
    ],
  });
  const data = [t, ...series.map((s) => s.values)];
  return html`
    <figure class="chart" data-testid=${testid}>
      <figcaption>${title}</figcaption>
      <${Plot} build=${build} data=${data} shape=${shape} height=${height} label=${`${title}: ${t.length} points`} />
      <p class="latest" data-testid=${`${testid}-latest`}>${series.map((s, i) => html`<span><i class=${s.dash ? 'swatch dash' : 'swatch'} style=${{ borderColor: color(s, i) }}></i><b>${s.label}</b> ${units[s.axis ?? 0](last(s.values))}</span>`)}</p>
    </figure>`;
}

function SourceNote({ m }) {
  if (!m) return html`<p class="muted">waiting for the first reading…</p>`;
  if (m.type === 'error') return html`<p class="bad" role="alert">${m.message}</p>`;
  if (!m.source) return html`<p class="muted source">reading the use…</p>`;
  const from = m.source === 'prometheus' ? 'Prometheus' : "the components' own metrics and the kubelets' readings";
  return html`<p class="muted source" data-testid="metrics-source" data-source=${m.source}>from ${from}, every 5 s${m.error ? html` <span class="warn">(${m.error})</span>` : ''}</p>`;
}

/** The overview's charts: the scheduler, the apiserver, and CPU and memory against requests. */
export function OverviewCharts() {
  const m = useMetrics({ scope: 'overview' });
  const ok = m?.type === 'metrics';
  const t = ok ? m.t : [];
  const s = (name) => (ok ? m.series[name] ?? t.map(() => null) : []);
  return html`
    <section aria-labelledby="charts-h">
      <h2 id="charts-h">Cluster activity</h2>
      <${SourceNote} m=${m} />
      <div class="charts">
        <${TimeChart} title="Scheduler" testid="chart-scheduler" t=${t} units=${[fmt.rate, fmt.count]}
          series=${[{ label: 'pods scheduled', values: s('scheduled') }, { label: 'pending', values: s('pending'), axis: 1, dash: true }]} />
        <${TimeChart} title="API server" testid="chart-apiserver" t=${t} units=${[fmt.rate, fmt.seconds]}
          series=${[{ label: 'requests', values: s('apiRate') }, { label: 'p99 latency', values: s('apiP99'), axis: 1, dash: true }]} />
        <${TimeChart} title="CPU (cores)" testid="chart-cpu" t=${t} units=${[fmt.cores]}
          series=${[{ label: 'used', values: s('cpuUsage') }, { label: 'requested', values: s('cpuRequests') }, { label: 'allocatable', values: s('cpuAllocatable'), dash: true }]} />
        <${TimeChart} title="Memory" testid="chart-memory" t=${t} units=${[fmt.bytes]}
          series=${[{ label: 'used', values: s('memUsage') }, { label: 'requested', values: s('memRequests') }, { label: 'allocatable', values: s('memAllocatable'), dash: true }]} />
      </div>
    </section>`;
}

/** Bars per node: capacity (widest, light), requests, and use (narrowest), one chart per resource. */
function BarChart({ title, nodes, resource, unit, testid }) {
  const names = nodes.map((n) => n.name);
  const shape = JSON.stringify(names);
  const bars = (size, fill) => ({ paths: uPlot.paths.bars({ size: [size, Infinity], align: 0 }), fill, stroke: fill, width: 0, points: { show: false } });
  const build = (width) => ({
    width,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: { x: { time: false, range: () => [-0.5, names.length - 0.5] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    series: [
      { label: 'node', value: (u, i) => names[i] ?? '' },
      { label: 'capacity', ...bars(0.8, '#d9dde5'), value: (u, v) => unit(v) },
      { label: 'allocatable', ...bars(0.8, 'rgba(0,0,0,0)'), stroke: '#5b6475', width: 1, value: (u, v) => unit(v) },
      { label: 'requested', ...bars(0.5, '#1f5fbf'), value: (u, v) => unit(v) },
      { label: 'used', ...bars(0.22, '#c2410c'), value: (u, v) => unit(v) },
    ],
    axes: [
      { splits: () => names.map((_, i) => i), values: (u, splits) => splits.map((i) => names[i] ?? ''), rotate: names.length > 8 ? -30 : 0, grid: { show: false } },
      { values: (u, splits) => splits.map(unit), size: 60 },
    ],
  });
  const col = (f) => nodes.map((n) => f(n) ?? null);
  const data = [names.map((_, i) => i), col((n) => n.capacity[resource]), col((n) => n.allocatable[resource]), col((n) => n.requests[resource]), col((n) => n.usage?.[resource])];
  const sum = (f) => nodes.reduce((a, n) => a + (f(n) ?? 0), 0);
  return html`
    <figure class="chart" data-testid=${testid}>
      <figcaption>${title}</figcaption>
      <${Plot} build=${build} data=${data} shape=${shape} height=${names.length > 8 ? 220 : 180} label=${`${title} of ${names.length} nodes`} />
      <p class="latest" data-testid=${`${testid}-latest`}>
        <span><i class="swatch" style=${{ background: '#d9dde5', borderColor: '#5b6475' }}></i><b>capacity</b> ${unit(sum((n) => n.capacity[resource]))}</span>
        <span><i class="swatch" style=${{ background: '#fff', borderColor: '#5b6475' }}></i><b>allocatable</b> ${unit(sum((n) => n.allocatable[resource]))}</span>
        <span><i class="swatch" style=${{ background: '#1f5fbf', borderColor: '#1f5fbf' }}></i><b>requested</b> ${unit(sum((n) => n.requests[resource]))}</span>
        <span><i class="swatch" style=${{ background: '#c2410c', borderColor: '#c2410c' }}></i><b>used</b> ${nodes.some((n) => n.usage) ? unit(sum((n) => n.usage?.[resource])) : '—'}</span>
      </p>
    </figure>`;
}

/** Every node's (or one node's) capacity, requests and use of CPU and memory. */
export function NodeBars({ name }) {
  const m = useMetrics(name ? { scope: 'nodes', name } : { scope: 'nodes' });
  const ok = m?.type === 'metrics';
  const nodes = ok ? m.nodes : [];
  // the server sends a page of bars: the most requested nodes when there are many
  const more = ok && m.total > nodes.length;
  return html`
    <section aria-label="resources per node" class="node-bars">
      <${SourceNote} m=${m} />
      ${more ? html`<p class="muted">the ${nodes.length} nodes with the most CPU requested (of ${m.total.toLocaleString('en')})</p>` : ''}
      <div class="charts">
        <${BarChart} title="CPU (cores)" testid="bars-cpu" nodes=${nodes} resource="cpu" unit=${fmt.cores} />
        <${BarChart} title="Memory" testid="bars-memory" nodes=${nodes} resource="memory" unit=${fmt.bytes} />
      </div>
    </section>`;
}

/** One pod's containers: CPU and memory over the last minutes, with the requests and limits the spec sets. */
export function PodCharts({ namespace, name, containers = [] }) {
  const m = useMetrics({ scope: 'pod', namespace, name });
  const ok = m?.type === 'metrics';
  const t = ok ? m.t : [];
  const got = ok ? m.containers : [];
  const flat = (v) => t.map(() => v ?? null);
  const amount = (q, scale) => (q === undefined ? undefined : parseQuantity(q) * scale);
  const lines = (resource, key) =>
    got.flatMap((c, i) => {
      const spec = containers.find((x) => x.name === c.name);
      const req = amount(spec?.resources?.requests?.[resource], 1);
      const lim = amount(spec?.resources?.limits?.[resource], 1);
      return [
        { label: c.name, values: c[key], color: COLORS[i % COLORS.length] },
        ...(req !== undefined ? [{ label: `${c.name} request`, values: flat(req), dash: true, color: COLORS[i % COLORS.length] }] : []),
        ...(lim !== undefined ? [{ label: `${c.name} limit`, values: flat(lim), dash: true, color: '#b3261e' }] : []),
      ];
    });
  return html`
    <section aria-labelledby="usage-h">
      <h2 id="usage-h">Resource use</h2>
      <${SourceNote} m=${m} />
      <div class="charts">
        <${TimeChart} title="CPU (cores)" testid="pod-cpu" t=${t} units=${[fmt.cores]} series=${lines('cpu', 'cpu')} />
        <${TimeChart} title="Memory" testid="pod-memory" t=${t} units=${[fmt.bytes]} series=${lines('memory', 'memory')} />
      </div>
    </section>`;
}

const SUFFIX = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A Kubernetes quantity ("250m", "64Mi", "1e3") as a number. */
export function parseQuantity(q) {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(String(q).trim());
  if (!m || !(m[2] in SUFFIX)) return undefined;
  return Number(m[1]) * SUFFIX[m[2]];
}
