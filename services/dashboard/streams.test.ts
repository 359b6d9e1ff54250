/**
 * The dashboard's live logs and shell in Debian's Chromium against real pods: a real node
 * (containerd, test/realnode.ts), its apiserver's HTTP front end (pods/log with follow,
 * pods/exec over SPDY) and the dashboard in this process. A hollow node's containers have
 * no logs and refuse exec, so these need root and the node's packages, as every real-node
 * suite. Screenshots go to artifacts/dashboard/ beside the other dashboard tests'.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { controlsTabMisses, launchChromium, openApp, openDashboardPage, screenshot, unlabelledControls } from '../../test/browser.js';
import { startRealNode, type RealNode } from '../../test/realnode.js';
import { waitFor } from '../../test/wait.js';
import { startDashboard, type RunningDashboard } from './server.js';

const TICK = (name: string) => `i=0; while true; do echo "${name} line $i"; [ $((i % 4)) = 0 ] && echo "${name} beat $i"; i=$((i+1)); sleep 0.2; done`;

describe('dashboard: live logs and a shell in real pods (needs root)', function () {
  this.timeout(120_000);
  let rn: RealNode | undefined;
  let dash: RunningDashboard | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  let pageErrors: string[] = [];

  const tickPod = (name: string) =>
    rn!.createPod({ containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', TICK(name)] }] }, { name, labels: { app: 'tick' } });

  /** the dashboard's own count of what it has open for browser views */
  const gauge = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`${url}metrics`)).text())?.[1]);

  before(async () => {
    rn = await startRealNode('dashboard logs and shell', {
      prefix: 'ds',
      // the restarting pod's second attempt comes after 1 s, not upstream's 10
      kubelet: (o) => ({ ...o, pod: { ...o.pod, backOff: { initialMs: 1000, maxMs: 2000 } } as typeof o.pod }),
    });
    [dash, browser] = await Promise.all([
      startDashboard({ natsUrl: rn.api.natsUrl, apiserverUrl: rn.api.httpUrl, port: 0 }),
      launchChromium(),
      // no controller runs here: the test makes the pods its selector picks
      rn.client.create({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' }, {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'tick' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'tick' } }, template: { metadata: { labels: { app: 'tick' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
      }),
      tickPod('tick-a'),
      tickPod('tick-b'),
      rn.createPod({ containers: [{ name: 'sh', image: 'busybox', command: ['sleep', '3600'] }] }, { name: 'shell' }),
      // the first attempt fails; the second (the marker survives in the emptyDir) runs on
      rn.createPod({
        containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'if [ -e /d/ran ]; then echo second attempt; exec sleep 3600; fi; touch /d/ran; echo first attempt; exit 1'], volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
        volumes: [{ name: 'd', emptyDir: {} }],
      }, { name: 'restarts' }),
    ]);
    url = dash.url;
    ({ page, pageErrors } = await openDashboardPage(browser, url));
    await Promise.all(['tick-a', 'tick-b', 'shell', 'restarts'].map((p) => rn!.podIn(p, 'Running')));
    // the page's first load would otherwise meet the pods' veths finishing their set-up
    await rn.networkSettled();
  });

  afterEach(async function () {
    // a failed test's page as it was, beside the others' screenshots
    if (this.currentTest?.state === 'failed' && page) await screenshot(page, `failed-${this.currentTest.title.replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  after(async () => {
    await browser?.close();
    await dash?.stop();
    await rn?.stop();
  });

  it('logs that follow, and search', async () => {
    await openApp({ page, pageErrors }, `${url}#/workloads/deployments/default/tick`);
    await page.getByRole('link', { name: 'Logs', exact: true }).click();
    await page.waitForURL(`${url}#/workloads/deployments/default/tick/logs`);
    const log = page.getByRole('log', { name: 'log lines' });
    // both pods' lines, each prefixed by its pod and container
    await log.getByText(/^tick-a\/app tick-a line \d+$/).first().waitFor({ timeout: 20_000 });
    await log.getByText(/^tick-b\/app tick-b line \d+$/).first().waitFor({ timeout: 10_000 });
    // following: later lines keep arriving
    const newest = async () => Math.max(...(await log.locator('.log-line').allInnerTexts()).map((t) => Number(/tick-a line (\d+)$/.exec(t)?.[1] ?? -1)));
    const before = await newest();
    await waitFor('a later line of tick-a', async () => (await newest()) > before + 3 || undefined, 10_000);
    // a pod that starts matching joins
    await tickPod('tick-c');
    await log.getByText(/^tick-c\/app tick-c line \d+$/).first().waitFor({ timeout: 20_000 });
    await page.getByRole('list', { name: 'log streams' }).locator('[data-key="tick-c/app"]').getByText('streaming').waitFor();

    // search highlights the matches; "only matching lines" shows nothing else
    await page.getByLabel('search logs').fill('BEAT');
    await log.locator('mark').first().waitFor();
    assert.ok((await log.locator('mark').allInnerTexts()).every((t) => t === 'beat'));
    const plain = await log.locator('.log-line:not(.hit)').count();
    assert.ok(plain > 0, 'lines without the text are shown beside the matches');
    await page.getByLabel('only matching lines').check();
    await waitFor('only matching lines', async () => (await log.locator('.log-line:not(.hit)').count()) === 0 || undefined, 5_000);
    const shown = await log.locator('.log-line').allInnerTexts();
    assert.ok(shown.length > 0 && shown.every((t) => / beat \d+$/.test(t)), shown.slice(0, 5).join('\n'));
    assert.match(await page.getByTestId('log-status').innerText(), /\d+ lines, \d+ matching/);
    // Enter moves to a match
    await page.getByLabel('search logs').press('Enter');
    await log.locator('.log-line.current mark').waitFor();
    await screenshot(page, 'logs');
    assert.deepEqual(await unlabelledControls(page), [], 'every control of the logs view has a label');
    assert.deepEqual(await controlsTabMisses(page), [], 'Tab reaches every control of the logs view');

    // one pod from its page: its log, and the previous attempt's with "previous"
    await rn!.podIn('restarts', 'Running');
    await waitFor('restarts restarted', async () => ((await rn!.getPod('restarts')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 || undefined, 20_000);
    await page.goto(`${url}#/pods/default/restarts`);
    await page.getByRole('link', { name: 'Logs', exact: true }).click();
    await log.getByText('second attempt', { exact: true }).waitFor({ timeout: 10_000 });
    assert.equal(await log.getByText('c/').count(), 0, 'one stream: no prefix');
    assert.equal(await gauge('dashboard_log_streams'), 1, 'the followed log of restarts');
    await page.getByLabel('previous container').check();
    await log.getByText('first attempt', { exact: true }).waitFor({ timeout: 10_000 });
    assert.equal(await log.getByText('second attempt').count(), 0);

    // leaving the view closes its subscription, and the server its pods/log requests
    await page.getByLabel('previous container').uncheck();
    await log.getByText('second attempt', { exact: true }).waitFor({ timeout: 10_000 });
    await waitFor('the followed log open again', async () => (await gauge('dashboard_log_streams')) === 1 || undefined, 10_000);
    await page.goto(`${url}#/pods`);
    await waitFor('no pods/log request left open', async () => (await gauge('dashboard_log_streams')) === 0 || undefined, 10_000);

    // any label selector: the Pods list's "Logs of these pods", in the header's namespace
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('default');
    await page.getByLabel('label selector').fill('app=tick');
    await page.getByLabel('label selector').press('Enter');
    await page.getByRole('link', { name: 'Logs of these pods' }).click();
    await page.waitForURL(`${url}#/logs/default/app%3Dtick`);
    for (const p of ['tick-a', 'tick-b', 'tick-c']) await log.getByText(new RegExp(`^${p}/app ${p} line \\d+$`)).first().waitFor({ timeout: 20_000 });
    await screenshot(page, 'logs-selector');
    await page.getByRole('combobox', { name: 'namespace' }).selectOption('');
    assert.deepEqual(pageErrors, []);
  });

  it('the shell runs `echo` in a real pod', async () => {
    await page.goto(`${url}#/pods/default/shell`);
    await page.getByRole('link', { name: 'Shell', exact: true }).click();
    const term = page.getByRole('region', { name: 'terminal' });
    const text = () => term.locator('.xterm-rows').innerText();
    const state = page.getByTestId('shell-state');
    await waitFor('the shell prompt', async () => /\/ #/.test(await text()) || undefined, 20_000).catch(async (e) => {
      throw new Error(`${e.message}; the page says "${await state.innerText()}", the terminal shows ${JSON.stringify(await text())}`);
    });
    await page.keyboard.type('echo hello-$((6*7))\n');
    await waitFor('echo\'s output', async () => /^hello-42$/m.test(await text()) || undefined, 10_000);
    // the pod's terminal has the size the page's terminal fits, and follows a resize
    const size = async () => (await term.getAttribute('data-size'))!;
    const first = await size();
    await page.keyboard.type('stty size\n');
    await waitFor(`stty size ${first}`, async () => new RegExp(`^${first}$`, 'm').test(await text()) || undefined, 10_000);
    await page.setViewportSize({ width: 900, height: 640 });
    const second = await waitFor('a smaller terminal', async () => ((await size()) !== first ? size() : undefined), 10_000);
    await page.keyboard.type('stty size\n');
    await waitFor(`stty size ${second}`, async () => new RegExp(`^${second}$`, 'm').test(await text()) || undefined, 10_000);
    await screenshot(page, 'shell');
    assert.equal(await gauge('dashboard_exec_sessions'), 1);
    await page.keyboard.type('exit 3\n');
    await state.filter({ hasText: 'exited with code 3' }).waitFor({ timeout: 10_000 });
    // labelled controls; Tab reaches them before the terminal, which keeps Tab for the shell and gives focus back on Shift+Tab
    assert.deepEqual(await unlabelledControls(page), [], 'every control of the shell view has a label');
    assert.deepEqual(await controlsTabMisses(page, '.shell-box'), [], 'Tab reaches every control of the shell view');
    await term.click();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate('document.activeElement.getAttribute("aria-label")'), 'new shell');
    await waitFor('the exec connection closed', async () => (await gauge('dashboard_exec_sessions')) === 0 || undefined, 10_000);
    // a shell left open ends when its view closes
    await page.getByRole('button', { name: 'new shell' }).click();
    await waitFor('a second shell', async () => (await gauge('dashboard_exec_sessions')) === 1 || undefined, 10_000);
    await page.goto(`${url}#/pods`);
    await waitFor('the second shell closed with its view', async () => (await gauge('dashboard_exec_sessions')) === 0 || undefined, 10_000);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(pageErrors, []);
  });
});
