// Live logs of one pod, or of every pod of a workload together (its label selector): the
// server follows the pods and their logs (logs.ts) and sends lines in batches. The page
// keeps the last MAX_LINES lines only (older ones are dropped and counted), draws only the
// lines in sight, and searches, highlights and filters what it keeps.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { GVR } from './api.js';
import { useObject } from './common.js';
import { selectorString, workloadGVR } from './workloads.js';

export const MAX_LINES = 5000;
const LINE = 18;
const OVERSCAN = 20;

/** The positions of `needle` (already lower case) in text, case-insensitively. */
function matches(text, needle) {
  const out = [];
  if (!needle) return out;
  const low = text.toLowerCase();
  for (let i = low.indexOf(needle); i >= 0; i = low.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

function Highlighted({ text, needle }) {
  const at = matches(text, needle);
  if (!at.length) return text;
  const parts = [];
  let from = 0;
  for (const i of at) {
    parts.push(text.slice(from, i), html`<mark>${text.slice(i, i + needle.length)}</mark>`);
    from = i + needle.length;
  }
  parts.push(text.slice(from));
  return parts;
}

// one colour per pod/container, so interleaved lines are told apart at a glance
const hue = (key) => [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);

const STATE_TEXT = { open: 'streaming', ended: 'ended', waiting: 'waiting', error: 'error', skipped: 'not shown' };

export function LogView({ namespace, pod, selector, containers = [] }) {
  const [container, setContainer] = useState(containers.length === 1 ? containers[0] : '');
  const [follow, setFollow] = useState(true);
  const [previous, setPrevious] = useState(false);
  const [search, setSearch] = useState('');
  const [only, setOnly] = useState(false);
  const [streams, setStreams] = useState([]);
  const [error, setError] = useState('');
  const [, setVersion] = useState(0);
  const buf = useRef({ lines: [], dropped: 0, seq: 0 });
  const box = useRef(null);
  const atBottom = useRef(true);
  const [scrollTop, setScrollTop] = useState(0);
  const [current, setCurrent] = useState(-1);
  const height = Math.max(260, innerHeight - 330);

  useEffect(() => {
    const clear = () => {
      buf.current = { lines: [], dropped: 0, seq: 0 };
      setStreams([]);
      setError('');
      setVersion((v) => v + 1);
    };
    clear();
    let frame = 0;
    const s = conn.subscribe({ op: 'logs', logs: { namespace, pod, selector, container, follow, previous } }, (m) => {
      if (m.type === 'lines') {
        const b = buf.current;
        for (const [k, t] of m.lines) b.lines.push({ n: b.seq++, k, t });
        // dropped in chunks so the array is not shifted once per line
        if (b.lines.length > MAX_LINES * 1.1) {
          const drop = b.lines.length - MAX_LINES;
          b.lines.splice(0, drop);
          b.dropped += drop;
        }
        frame ||= requestAnimationFrame(() => ((frame = 0), setVersion((v) => v + 1)));
      } else if (m.type === 'streams') setStreams(m.streams);
      else if (m.type === 'error') setError(m.message);
    });
    // after a reconnect the server sends every log again from its tail
    const off = conn.onState((st) => st === 'open' && clear());
    return () => (off(), s.close(), cancelAnimationFrame(frame));
  }, [namespace, pod, selector, container, follow, previous]);

  const b = buf.current;
  const kept = b.lines.length > MAX_LINES ? b.lines.slice(-MAX_LINES) : b.lines;
  const needle = search.toLowerCase();
  const hits = needle ? kept.filter((l) => l.t.toLowerCase().includes(needle)) : [];
  const shown = only && needle ? hits : kept;
  const several = new Set(streams.map((s) => s.key)).size > 1;

  // keep the newest line in sight while the reader is at the end
  useEffect(() => {
    const el = box.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  });

  const onScroll = () => {
    const el = box.current;
    // a scroll event can arrive after the view left the page (the newest line scrolled into sight just before)
    if (!el) return;
    atBottom.current = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE;
    setScrollTop(el.scrollTop);
  };

  /** Enter: the next match; Shift+Enter: the one before. */
  const jump = (dir) => {
    if (!hits.length) return;
    const rows = shown;
    const pos = rows.findIndex((l) => l.n === current);
    let next;
    if (only) next = pos < 0 ? (dir > 0 ? 0 : rows.length - 1) : (pos + dir + rows.length) % rows.length;
    else {
      const hitPos = hits.findIndex((l) => l.n === current);
      const h = hits[hitPos < 0 ? (dir > 0 ? 0 : hits.length - 1) : (hitPos + dir + hits.length) % hits.length];
      next = rows.indexOf(h);
    }
    setCurrent(rows[next].n);
    atBottom.current = false;
    box.current.scrollTop = Math.max(0, next * LINE - height / 2);
  };

  const first = Math.max(0, Math.floor(scrollTop / LINE) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((scrollTop + height) / LINE) + OVERSCAN);
  const kinds = [...new Set(containers)];
  return html`
    <form class="filters log-controls" role="search" onSubmit=${(e) => e.preventDefault()}>
      ${kinds.length > 1 && html`
        <label>Container
          <select aria-label="container" value=${container} onChange=${(e) => setContainer(e.target.value)}>
            <option value="">all containers</option>
            ${kinds.map((c) => html`<option value=${c}>${c}</option>`)}
          </select>
        </label>`}
      <label><input type="checkbox" aria-label="follow" checked=${follow && !previous} disabled=${previous} onChange=${(e) => setFollow(e.target.checked)} /> Follow</label>
      <label><input type="checkbox" aria-label="previous container" checked=${previous} onChange=${(e) => setPrevious(e.target.checked)} /> Previous</label>
      <label>Search <input type="search" aria-label="search logs" placeholder="text in a line" value=${search}
        onInput=${(e) => (setSearch(e.target.value), setCurrent(-1))}
        onKeyDown=${(e) => e.key === 'Enter' && (e.preventDefault(), jump(e.shiftKey ? -1 : 1))} /></label>
      <label><input type="checkbox" aria-label="only matching lines" checked=${only} onChange=${(e) => setOnly(e.target.checked)} /> Only matching lines</label>
    </form>
    <div class="log-status" role="status" aria-live="polite" data-testid="log-status">
      ${error ? html`<span class="bad">${error}</span>` : html`
        ${kept.length.toLocaleString('en')} lines${b.dropped ? ` (the last ${MAX_LINES.toLocaleString('en')} kept, ${b.dropped.toLocaleString('en')} older dropped)` : ''}${needle ? `, ${hits.length.toLocaleString('en')} matching` : ''}`}
    </div>
    <ul class="log-streams" aria-label="log streams">
      ${streams.map((s) => html`<li key=${s.key} data-key=${s.key}><span class="log-src" style=${{ color: `hsl(${hue(s.key)} 60% 35%)` }}>${s.key}</span> <span class=${s.state === 'error' ? 'bad' : 'muted'}>${STATE_TEXT[s.state] ?? s.state}${s.message ? `: ${s.message}` : ''}</span></li>`)}
    </ul>
    <div class="log-body" ref=${box} tabindex="0" role="log" aria-label="log lines" style=${{ height: `${height}px` }} onScroll=${onScroll}>
      <div style=${{ height: `${shown.length * LINE}px`, position: 'relative' }}>
        ${shown.slice(first, last).map((l, j) => html`
          <div key=${l.n} class=${`log-line${l.n === current ? ' current' : ''}${needle && l.t.toLowerCase().includes(needle) ? ' hit' : ''}`} style=${{ top: `${(first + j) * LINE}px` }}>
            ${several && html`<span class="log-src" style=${{ color: `hsl(${hue(l.k)} 60% 35%)` }}>${l.k} </span>`}<${Highlighted} text=${l.t} needle=${needle} />
          </div>`)}
      </div>
    </div>`;
}

export function PodLogs({ namespace, name }) {
  const [pod, error] = useObject({ ...GVR.pods, namespace, name });
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/pods">Pods</a> / ${namespace} / <a href=${`#/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`}>${name}</a> / logs</nav>
    <h1>Logs of pod ${name}</h1>
    ${error && html`<p class="bad" role="alert">${error}</p>`}
    ${pod === null && html`<p role="alert">Pod ${namespace}/${name} does not exist (any more).</p>`}
    ${pod && html`<${LogView} key=${pod.metadata.uid} namespace=${namespace} pod=${name} containers=${(pod.spec?.containers ?? []).map((c) => c.name)} />`}`;
}

/** The pod template of a workload (a CronJob's is inside its job template). */
const templateOf = (resource, obj) => (resource === 'cronjobs' ? obj.spec?.jobTemplate?.spec?.template : obj.spec?.template);

export function WorkloadLogs({ resource, namespace, name }) {
  const gvr = workloadGVR(resource);
  const [obj, error] = useObject({ ...gvr, namespace, name });
  const selector = obj && resource !== 'cronjobs' ? selectorString(obj.spec?.selector) : '';
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href=${`#/workloads/${resource}`}>${resource}</a> / ${namespace} / <a href=${`#/workloads/${resource}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`}>${name}</a> / logs</nav>
    <h1>Logs of ${obj?.kind ?? resource} ${name}</h1>
    ${error && html`<p class="bad" role="alert">${error}</p>`}
    ${obj === null && html`<p role="alert">${resource} ${namespace}/${name} does not exist (any more).</p>`}
    ${obj && !selector && html`<p role="alert">${name} has no pod selector: open its pods' logs one by one.</p>`}
    ${obj && selector && html`
      <p class="muted">The pods matching <code>${selector}</code>, each line prefixed by its pod and container; pods that start matching join while following.</p>
      <${LogView} key=${selector} namespace=${namespace} selector=${selector} containers=${(templateOf(resource, obj)?.spec?.containers ?? []).map((c) => c.name)} />`}`;
}

/** The logs of the pods a label selector picks in a namespace (the Pods list's "Logs of these pods"). */
export function SelectorLogs({ namespace, selector }) {
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/pods">Pods</a> / ${namespace} / logs</nav>
    <h1>Logs of pods ${selector}</h1>
    <p class="muted">The pods of ${namespace} matching <code>${selector}</code>, each line prefixed by its pod and container; pods that start matching join while following.</p>
    <${LogView} key=${`${namespace}/${selector}`} namespace=${namespace} selector=${selector} />`;
}
