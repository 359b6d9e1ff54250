// A virtualised table over a server-side view: the server filters, sorts and sends only
// the rows in the window this table shows (plus some above and below); scrolling moves
// the window. Keyboard: arrows, Page Up/Down, Home/End move the active row, Enter opens it.
import { html } from './html.js';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import { conn } from './socket.js';
import { cellText, tone } from './format.js';
import { useSharedNamespace } from './nsfilter.js';

const ROW = 28;
const OVERSCAN = 30;

export function VirtualTable({ gvr, query: own, label, height = 520, onOpen, onSort, toneColumns = ['Status', 'Type'], hide = [] }) {
  // the header's namespace, unless the view names one
  const shared = useSharedNamespace();
  const query = own.namespace === undefined ? { ...own, namespace: shared } : own;
  const [columns, setColumns] = useState([]);
  const [page, setPage] = useState({ total: 0, offset: 0, rows: [], synced: false });
  const [error, setError] = useState('');
  const [active, setActive] = useState(0);
  const [, setTick] = useState(0);
  const sub = useRef(null);
  const box = useRef(null);
  const visible = Math.ceil(height / ROW);
  const queryText = JSON.stringify(query);

  useEffect(() => {
    // a new query shows none of the last one's rows while its first page is on the way (a
    // pod's events table, reused for the next pod, showed the previous pod's events)
    setPage({ total: 0, offset: 0, rows: [], synced: false });
    const s = conn.subscribe({ op: 'table', gvr, query, offset: 0, limit: visible + OVERSCAN }, (msg) => {
      if (msg.type === 'columns') setColumns(msg.columns);
      else if (msg.type === 'page') setPage(msg), setError('');
      else if (msg.type === 'error') setError(msg.message);
    });
    sub.current = s;
    if (box.current) box.current.scrollTop = 0;
    setActive(0);
    return () => s.close();
  }, [gvr.group, gvr.version, gvr.resource, queryText]);

  // ages move on without any change from the server
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);

  const onScroll = useCallback(() => {
    // a scroll event can arrive after the table left the page
    if (!box.current) return;
    const first = Math.floor(box.current.scrollTop / ROW);
    const offset = Math.max(0, first - OVERSCAN);
    const s = sub.current;
    if (!s) return;
    const want = { offset, limit: visible + 2 * OVERSCAN };
    if (s.lastWindow && Math.abs(s.lastWindow.offset - offset) < OVERSCAN / 2) return;
    s.lastWindow = want;
    s.update('window', want);
  }, [visible]);

  const sortBy = (name) => {
    const cur = query.sort ?? { column: columns[0]?.name };
    const sort = cur.column === name ? { column: name, desc: !cur.desc } : { column: name, desc: false };
    onSort?.(sort);
  };

  const move = (to) => {
    const n = Math.max(0, Math.min(page.total - 1, to));
    setActive(n);
    const el = box.current;
    if (n * ROW < el.scrollTop) el.scrollTop = n * ROW;
    else if ((n + 1) * ROW > el.scrollTop + height) el.scrollTop = (n + 1) * ROW - height;
  };

  const rowAt = (i) => page.rows[i - page.offset];

  const onKey = (e) => {
    const keys = { ArrowDown: active + 1, ArrowUp: active - 1, PageDown: active + visible, PageUp: active - visible, Home: 0, End: page.total - 1 };
    if (e.key in keys) {
      e.preventDefault();
      move(keys[e.key]);
    } else if (e.key === 'Enter') {
      const r = rowAt(active);
      if (r && onOpen) onOpen(r);
    }
  };

  const shown = columns.map((c, i) => ({ ...c, i })).filter((c) => !hide.includes(c.name));
  const template = shown.map((c) => (c.name === 'Name' || c.name === 'Message' || c.name === 'Object' ? 'minmax(12rem, 3fr)' : 'minmax(5rem, 1fr)')).join(' ');
  const sort = query.sort ?? { column: columns[0]?.name, desc: false };
  const activeRow = rowAt(active);
  return html`
    <div class="vtable">
      <div class="vtable-status" role="status" aria-live="polite">
        ${error ? html`<span class="bad">${error}</span>` : page.synced ? `${page.total.toLocaleString('en')} ${label}` : 'loading…'}
      </div>
      <div class="vtable-head" role="row" style=${{ gridTemplateColumns: template }}>
        ${shown.map((c) => html`
          <span role="columnheader" aria-sort=${sort.column === c.name ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
            <button class="th" aria-label=${`sort by ${c.name}`} disabled=${!onSort} onClick=${() => sortBy(c.name)}>${c.name}${sort.column === c.name ? (sort.desc ? ' ▼' : ' ▲') : ''}</button></span>`)}
      </div>
      <div class="vtable-body" ref=${box} tabindex="0" role="grid" aria-label=${label} aria-rowcount=${page.total}
        aria-activedescendant=${activeRow ? `row-${activeRow.key}` : undefined}
        style=${{ height: `${height}px` }} onScroll=${onScroll} onKeyDown=${onKey}>
        <div style=${{ height: `${page.total * ROW}px`, position: 'relative' }}>
          ${page.rows.map((r, j) => {
            const i = page.offset + j;
            return html`
              <div role="row" id=${`row-${r.key}`} key=${r.key} data-key=${r.key} aria-rowindex=${i + 1}
                class=${`tr${i === active ? ' active' : ''}`}
                style=${{ top: `${i * ROW}px`, gridTemplateColumns: template }}
                onClick=${() => (setActive(i), onOpen && onOpen(r))}>
                ${shown.map((c) => html`<span role="gridcell" class=${toneColumns.includes(c.name) ? `td ${tone(r.cells[c.i])}` : 'td'}>${cellText(c, r.cells[c.i])}</span>`)}
              </div>`;
          })}
        </div>
      </div>
    </div>`;
}
