/**
 * The browser's files, all from this checkout: the dashboard's own modules
 * (services/dashboard/web, plain ES modules written with htm, so nothing is compiled) and
 * the few library files it imports, served from node_modules under fixed names. Nothing
 * comes from a CDN; a name not listed here is a 404, so no other file of the machine is
 * reachable.
 */
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: this file runs as dist/services/dashboard/assets.js. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WEB_DIR = path.join(ROOT, 'services', 'dashboard', 'web');
const MODULES = path.join(ROOT, 'node_modules');

/** /vendor/<name> → the package file; the import map in index.html names the same files. */
export const VENDOR: Record<string, string> = {
  'preact.mjs': 'preact/dist/preact.mjs',
  'hooks.mjs': 'preact/hooks/dist/hooks.mjs',
  'htm.mjs': 'htm/dist/htm.mjs',
  'uplot.mjs': 'uplot/dist/uPlot.esm.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
  'xterm.mjs': '@xterm/xterm/lib/xterm.mjs',
  'xterm.css': '@xterm/xterm/css/xterm.css',
  'addon-fit.mjs': '@xterm/addon-fit/lib/addon-fit.mjs',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  body: Buffer;
  type: string;
}

/**
 * The Content-Security-Policy of every page: scripts from this server only, and the one
 * inline script, the import map that names the library files, by its hash.
 */
export function contentSecurityPolicy(): string {
  const html = readFileSync(path.join(WEB_DIR, 'index.html'), 'utf8');
  const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const hash = createHash('sha256').update(map).digest('base64');
  return `default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'sha256-${hash}'`;
}

/** The file a URL path names, or undefined (not one of ours). Read once, then kept. */
export class Assets {
  private readonly cache = new Map<string, Asset>();

  get(urlPath: string): Asset | undefined {
    const hit = this.cache.get(urlPath);
    if (hit) return hit;
    const file = this.resolve(urlPath);
    if (!file || !existsSync(file)) return undefined;
    const asset = { body: readFileSync(file), type: TYPES[path.extname(file)] ?? 'application/octet-stream' };
    this.cache.set(urlPath, asset);
    return asset;
  }

  private resolve(urlPath: string): string | undefined {
    if (urlPath === '/' || urlPath === '/index.html') return path.join(WEB_DIR, 'index.html');
    if (urlPath.startsWith('/vendor/')) {
      const rel = VENDOR[urlPath.slice('/vendor/'.length)];
      return rel ? path.join(MODULES, rel) : undefined;
    }
    if (urlPath.startsWith('/app/')) {
      const rel = urlPath.slice('/app/'.length);
      // names only: no "..", no hidden files, no folders outside web/
      if (!/^[a-z0-9_-]+(\/[a-z0-9_-]+)*\.(js|css|svg)$/.test(rel)) return undefined;
      return path.join(WEB_DIR, rel);
    }
    return undefined;
  }
}
