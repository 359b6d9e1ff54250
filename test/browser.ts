/**
 * Debian's Chromium driven by playwright-core, for the dashboard's tests and benchmark,
 * and the start-up its cluster suites share (a `flotilla up`, a manifest, a page).
 * The flags keep it on this machine: without the background-networking, component-update
 * and sync switches Chromium reaches for Google's hosts at start. As root it needs
 * --no-sandbox. playwright gives every launch a fresh temporary profile.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { PROJECT_ROOT } from '../cli/datafolder.js';
import { kubectl, launchUp, stopChild, type Launch } from './cluster.js';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
  '--no-default-browser-check',
  // still 30 packets off the machine in a 12 s page load without these (media-router
  // discovery, hints, translate, ...); the resolver rule answers every other name NOTFOUND
  '--disable-features=MediaRouter,DialMediaRouteProvider,OptimizationHints,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions',
  '--no-pings',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-breakpad',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

/** Where tests save screenshots (gitignored). */
export const ARTIFACTS = path.join(PROJECT_ROOT, 'artifacts', 'dashboard');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (node bin/ensure.js test does it as root: apt-get install -y chromium)`);
  return await chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, args: CHROMIUM_ARGS });
}

/** Saves a full-page screenshot as artifacts/dashboard/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A page on a dashboard, with what went wrong in it collected for the suite's last check. */
export interface DashboardPage {
  page: Page;
  /** uncaught errors and console errors of the page */
  pageErrors: string[];
  /** requests to anywhere but the dashboard */
  foreign: string[];
}

/** A 1280×900 page of browser that records its errors and any request leaving the dashboard at url. */
export async function openDashboardPage(browser: Browser, url: string): Promise<DashboardPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  const foreign: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
  page.on('console', (m) => void (m.type() === 'error' && pageErrors.push(m.text())));
  page.on('request', (r) => {
    if (!r.url().startsWith(url) && !r.url().startsWith(url.replace('http', 'ws'))) foreign.push(r.url());
  });
  return { page, pageErrors, foreign };
}

/**
 * Opens the dashboard at `url` and waits until its app has started (its "Loading…"
 * placeholder replaced). Chromium cancels a page's requests when the machine's network
 * changes (net::ERR_NETWORK_CHANGED), and a real node's suite adds a bridge and veths for
 * its pods while a page may be loading (RealNode.networkSettled waits that out): a load
 * that had requests cancelled so and did not start the app (its module scripts run before
 * the load event) is loaded again, three times at most, and what it logged as errors is
 * dropped from `pageErrors`. An app that does not start is an error naming the last
 * load's failed requests and the page's errors.
 */
export async function openApp(view: Pick<DashboardPage, 'page' | 'pageErrors'>, url: string): Promise<void> {
  const { page, pageErrors } = view;
  const loading = page.locator('#root > .loading');
  let failed: Request[] = [];
  for (let attempt = 1; ; attempt++) {
    const logged = pageErrors.length;
    failed = [];
    const onFailed = (r: Request) => void failed.push(r);
    page.on('requestfailed', onFailed);
    // again: a reload, since the same URL again would only be a same-document navigation
    await (attempt === 1 ? page.goto(url) : page.reload()).finally(() => page.off('requestfailed', onFailed));
    const changed = failed.some((r) => r.failure()?.errorText === 'net::ERR_NETWORK_CHANGED');
    if (!changed || attempt === 3 || (await loading.count()) === 0) break;
    pageErrors.splice(logged);
  }
  await loading.waitFor({ state: 'detached', timeout: 15_000 }).catch((e: Error) => {
    const requests = failed.map((r) => `${r.url()}: ${r.failure()?.errorText}`).join(', ') || 'none';
    throw new Error(`the dashboard at ${url} did not start: ${e.message.split('\n')[0]}; requests that failed in its last load: ${requests}; page errors: ${pageErrors.join(' | ') || 'none'}`);
  });
}

/** What the dashboard's cluster suites share: `flotilla up` on a fresh data folder, a manifest applied, and Chromium. */
export interface DashboardCluster {
  dataDir: string;
  up: Launch;
  kubeconfig: string;
  /** the dashboard's URL as up printed it (empty when up runs no dashboard) */
  url: string;
  /** Chromium and its page on url (absent with `browser: false`) */
  browser?: Browser;
  view?: DashboardPage;
  /** writes yaml into the data folder and `kubectl apply -f`s it */
  apply(yaml: string): Promise<void>;
  /** closes the browser, stops the cluster and removes its data folder */
  stop(): Promise<void>;
}

/**
 * Starts `flotilla up --data <fresh folder> --port 0 ...upArgs` (the dashboard on any port),
 * applies manifest, and opens the dashboard in Chromium unless `browser: false`. On a
 * failure half-way it stops what it started before rethrowing.
 */
export async function startDashboardCluster(opts: { name: string; upArgs: string[]; manifest?: string; browser?: boolean }): Promise<DashboardCluster> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `flotilla-${opts.name}-`));
  let applied = 0;
  const c: DashboardCluster = {
    dataDir,
    up: undefined as unknown as Launch,
    kubeconfig: '',
    url: '',
    async apply(yaml) {
      const file = path.join(dataDir, `manifest-${++applied}.yaml`);
      writeFileSync(file, yaml);
      await kubectl(c.kubeconfig, 'apply', '-f', file);
    },
    async stop() {
      await c.browser?.close();
      await stopChild(c.up);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    c.up = await launchUp(dataDir, [...opts.upArgs, '--dashboard-port', '0']);
    c.kubeconfig = c.up.kubeconfig;
    c.url = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(c.up.output())?.[1] ?? '';
    if (opts.manifest) await c.apply(opts.manifest);
    if (opts.browser !== false) {
      if (!c.url) throw new Error(`flotilla up printed no dashboard URL:\n${c.up.output()}`);
      c.browser = await launchChromium();
      c.view = await openDashboardPage(c.browser, c.url);
    }
    return c;
  } catch (e) {
    await c.stop();
    throw e;
  }
}

/** Roles a user operates or reads as one thing: each needs a name of its own. */
const NAMED_ROLES = new Set(['button', 'link', 'textbox', 'searchbox', 'combobox', 'listbox', 'checkbox', 'radio', 'switch', 'spinbutton', 'slider', 'tab', 'menuitem', 'grid', 'table', 'log', 'img']);

interface AXValueSource {
  type: string;
  attribute?: string;
  value?: { value?: unknown };
  superseded?: boolean;
}
interface AXNode {
  ignored: boolean;
  role?: { value?: string };
  name?: { value?: string; sources?: AXValueSource[] };
  backendDOMNodeId?: number;
}

/**
 * The controls (and grids, tables, logs, images) of the page that Chromium's accessibility
 * tree leaves without a name, or names only from a placeholder (not a label: it is gone
 * once the field has a value). Each as `role: <outer HTML, shortened>`.
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
    const out: string[] = [];
    for (const n of nodes) {
      const role = n.role?.value ?? '';
      if (n.ignored || !NAMED_ROLES.has(role)) continue;
      const name = String(n.name?.value ?? '').trim();
      const from = n.name?.sources?.find((s) => s.value?.value !== undefined && String(s.value.value).trim() !== '' && !s.superseded);
      const placeholderOnly = from?.type === 'placeholder' || from?.attribute === 'placeholder' || from?.attribute === 'aria-placeholder';
      if (name && !placeholderOnly) continue;
      let html = '';
      if (n.backendDOMNodeId !== undefined) {
        html = ((await cdp.send('DOM.getOuterHTML', { backendNodeId: n.backendDOMNodeId })) as { outerHTML: string }).outerHTML;
      }
      out.push(`${role}${placeholderOnly ? ` (named by its placeholder only: "${name}")` : ''}: ${html.slice(0, 160)}`);
    }
    return out;
  } finally {
    await cdp.detach();
  }
}

/**
 * The visible, enabled controls of the page that pressing Tab from the top of the page
 * never focuses (a mouse-only control, a tabindex of -1, a focus trap before it). Each as
 * its outer HTML, shortened. `skip` is a selector of parts left out (a terminal keeps Tab).
 */
export async function controlsTabMisses(page: Page, skip?: string): Promise<string[]> {
  const total = (await page.evaluate(`(() => {
    const skip = ${JSON.stringify(skip ?? '')};
    let i = 0;
    for (const el of document.querySelectorAll('[data-tab-check]')) el.removeAttribute('data-tab-check');
    for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex], [role=button], [role=link], [onclick]')) {
      if (el.disabled || el.closest('[aria-hidden=true], [inert]') || (skip && el.closest(skip))) continue;
      if (!el.checkVisibility() || el.getClientRects().length === 0) continue;
      el.setAttribute('data-tab-check', String(i++));
    }
    // what focus lands on, recorded in the page: one read after all the presses
    if (window.__tabCheck) document.removeEventListener('focusin', window.__tabCheck, true);
    window.__tabSeen = new Set();
    window.__tabCheck = (e) => { const at = e.target.getAttribute && e.target.getAttribute('data-tab-check'); if (at !== null) window.__tabSeen.add(at); };
    document.addEventListener('focusin', window.__tabCheck, true);
    // Tab goes on from where focus last was, even after a blur: a hash navigation keeps the
    // header's link focused by the previous check. Start from the top of the page instead.
    const start = document.createElement('span');
    start.tabIndex = -1;
    start.id = 'tab-check-start';
    document.body.prepend(start);
    start.focus();
    return i;
  })()`)) as number;
  const missed = async () => (await page.evaluate(`Array.from(document.querySelectorAll('[data-tab-check]')).filter((el) => !window.__tabSeen.has(el.getAttribute('data-tab-check'))).map((el) => el.outerHTML.slice(0, 160))`)) as string[];
  // once round the page and a little more (the browser leaves the page after the last
  // control, then starts over); a second round only if a control was missed, so a page that
  // moved focus while it loaded is not taken for one that Tab cannot reach
  let misses: string[] = [];
  for (let round = 0; round < 2; round++) {
    for (let press = 0; press < total + 3; press++) await page.keyboard.press('Tab');
    misses = await missed();
    if (!misses.length) break;
  }
  await page.evaluate(`document.getElementById('tab-check-start')?.remove()`);
  return misses;
}
