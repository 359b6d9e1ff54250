// Any object as YAML, editable. Saving is a PUT with strict field validation; the
// apiserver's refusal comes back with each cause placed at its line, marked in the
// gutter, written beside that line, and listed above the editor with a link that moves there.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { conn } from './socket.js';
import { groupOf } from './common.js';

export function YamlView({ group, version, resource, namespace, name }) {
  const ref = { group: groupOf(group), version, resource, namespace: namespace === '_' ? '' : namespace, name };
  const [text, setText] = useState(null);
  const [errors, setErrors] = useState({ message: '', causes: [] });
  const [said, setSaid] = useState('');
  const area = useRef(null);
  const gutter = useRef(null);
  const notes = useRef(null);
  const load = async () => {
    try {
      const { yaml } = await conn.call('yaml', { ref });
      setText(yaml);
      setErrors({ message: '', causes: [] });
    } catch (e) {
      setErrors({ message: e.message, causes: [] });
    }
  };
  useEffect(() => void load(), [group, version, resource, namespace, name]);

  const save = async () => {
    setSaid('saving…');
    try {
      await conn.call('replace', { ref, yaml: text });
      setErrors({ message: '', causes: [] });
      setSaid('saved');
      await load();
    } catch (e) {
      setErrors({ message: e.message, causes: e.causes ?? [] });
      setSaid('');
    }
  };

  const goLine = (line) => {
    const el = area.current;
    const lines = el.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(start, start + (lines[line - 1] ?? '').length);
    el.scrollTop = (line - 3) * 20;
  };

  if (text === null) return errors.message ? html`<p class="bad" role="alert">${errors.message}</p>` : html`<p>Loading…</p>`;
  const bad = new Map();
  for (const c of errors.causes) if (c.line) bad.set(c.line, [...(bad.get(c.line) ?? []), c]);
  const lines = text.split('\n');
  // the gutter, the text and the notes scroll together at one height
  const box = { height: `${Math.min(40, lines.length + 1) * 20}px` };
  return html`
    <nav aria-label="breadcrumb" class="crumbs">${resource} / ${namespace === '_' ? '' : `${namespace} / `}${name}</nav>
    <h1>Edit ${resource} ${name}</h1>
    <div class="toolbar">
      <button onClick=${save}>Save</button>
      <button onClick=${load}>Reload</button>
      <span role="status" class="muted">${said}</span>
    </div>
    ${errors.message && html`
      <div class="errors" role="alert" aria-label="errors">
        <p class="bad">${errors.message}</p>
        <ul>${errors.causes.map((c) => html`<li class="bad">${c.line ? html`<a href="#" onClick=${(e) => (e.preventDefault(), goLine(c.line))}>line ${c.line}</a>: ` : ''}${c.field ? html`<code>${c.field}</code>: ` : ''}${c.message}</li>`)}</ul>
      </div>`}
    <div class="editor">
      <div class="gutter" ref=${gutter} aria-hidden="true" style=${box}>
        ${lines.map((_, i) => {
          const here = bad.get(i + 1);
          return html`<div class=${here ? 'ln bad-line' : 'ln'} data-line=${i + 1} title=${here ? here.map((c) => c.message).join('\n') : undefined}>${here ? '● ' : ''}${i + 1}</div>`;
        })}
      </div>
      <textarea ref=${area} aria-label="YAML" spellcheck="false" value=${text} style=${box}
        aria-invalid=${errors.causes.length ? 'true' : undefined}
        onInput=${(e) => setText(e.target.value)} onScroll=${(e) => (gutter.current.scrollTop = notes.current.scrollTop = e.target.scrollTop)}></textarea>
      <div class="notes" ref=${notes} aria-label="errors at their lines" style=${box}>
        ${lines.map((_, i) => {
          const here = bad.get(i + 1);
          return html`<div class="ln" data-line=${i + 1}>${here ? html`<span class="bad">← ${here.map((c) => c.message).join('; ')}</span>` : ''}</div>`;
        })}
      </div>
    </div>
`;
}
