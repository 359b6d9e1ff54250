// A shell in a pod's container: xterm.js (shipped from node_modules, assets.ts) on the
// tab's WebSocket; the server runs pods/exec on the apiserver (exec.ts). Keys go as
// {op: 'stdin'}, the terminal's size (the fit addon follows the page) as {op: 'resize'}.
// Shift+Tab leaves the terminal for the controls; every other key goes to the shell.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { html } from './html.js';
import { conn } from './socket.js';
import { GVR } from './api.js';
import { useObject } from './common.js';

const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

function Terminal_({ namespace, pod, container, command, onState }) {
  const box = useRef(null);
  useEffect(() => {
    const term = new Terminal({ cursorBlink: true, fontFamily: 'ui-monospace, monospace', fontSize: 13, scrollback: 2000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    fit.fit();
    onState('connecting…');
    const sub = conn.subscribe({ op: 'exec', exec: { namespace, pod, container, command, cols: term.cols, rows: term.rows } }, (m) => {
      if (m.type === 'stdout') (term.write(bytes(m.data)), onState('connected'));
      else if (m.type === 'exit') (onState(m.message), term.write(`\r\n[${m.message}]\r\n`));
      else if (m.type === 'error') (onState(`failed: ${m.message}`), term.write(`\r\n[${m.message}]\r\n`));
    });
    term.attachCustomKeyEventHandler((e) => {
      if (e.key === 'Tab' && e.shiftKey) {
        // the browser's own Shift+Tab would move on from the control to the one before it
        if (e.type === 'keydown') (e.preventDefault(), box.current?.closest('main')?.querySelector('.shell-controls select, .shell-controls button')?.focus());
        return false;
      }
      return true;
    });
    const keys = term.onData((data) => conn.send({ op: 'stdin', id: sub.id, data }));
    const sized = term.onResize(({ cols, rows }) => {
      box.current?.setAttribute('data-size', `${rows} ${cols}`);
      // kept in the request too: a reconnect starts the shell again at this size
      sub.update('resize', { cols, rows });
    });
    box.current.setAttribute('data-size', `${term.rows} ${term.cols}`);
    const ro = new ResizeObserver(() => fit.fit());
    ro.observe(box.current);
    term.focus();
    return () => (ro.disconnect(), keys.dispose(), sized.dispose(), sub.close(), term.dispose());
  }, [namespace, pod, container, command.join(' ')]);
  return html`<div class="shell-box" ref=${box} role="region" aria-label="terminal"></div>`;
}

export function PodShell({ namespace, name }) {
  const [pod, error] = useObject({ ...GVR.pods, namespace, name });
  const [container, setContainer] = useState('');
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState('');
  const names = (pod?.spec?.containers ?? []).map((c) => c.name);
  const chosen = container || names[0];
  return html`
    <nav aria-label="breadcrumb" class="crumbs"><a href="#/pods">Pods</a> / ${namespace} / <a href=${`#/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`}>${name}</a> / shell</nav>
    <h1>Shell in pod ${name}</h1>
    ${error && html`<p class="bad" role="alert">${error}</p>`}
    ${pod === null && html`<p role="alert">Pod ${namespace}/${name} does not exist (any more).</p>`}
    ${pod && html`
      <div class="toolbar shell-controls">
        ${names.length > 1 && html`<label>Container <select aria-label="container" value=${chosen} onChange=${(e) => setContainer(e.target.value)}>${names.map((c) => html`<option value=${c}>${c}</option>`)}</select></label>`}
        <button aria-label="new shell" onClick=${() => setAttempt((n) => n + 1)}>New shell</button>
        <span role="status" class="muted" data-testid="shell-state">${state}</span>
        <span class="muted">sh in ${chosen}; Shift+Tab leaves the terminal</span>
      </div>
      <${Terminal_} key=${`${chosen}/${attempt}`} namespace=${namespace} pod=${name} container=${chosen} command=${['sh']} onState=${setState} />`}`;
}
