// The dashboard in a real browser: Debian's chromium driven by playwright-core, against the built
// controller (auth on: tokens from the TokenRequest API with RBAC of their own) and the in-process
// API server. It checks what a person sees: the plans listed, the weight rising on the chart, a
// rollback from the page reaching every target, a token without patch rights refused with the
// API's reason, and a page that loads nothing from anywhere but the controller. It saves
// screenshots to .tmp/artefacts/ and prints page sizes and first paint.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { planRules, serviceAccountToken } from '../support/accounts';
import { REPO_ROOT, waitFor } from '../support/cluster';
import { SETTLE_MS } from '../support/deadlines';
import { useE2eRun } from '../support/e2e';
import { createPlan, liveWeight, waitForPhase } from '../support/plans';
import type { Target } from '../../src/plan/schema';

const CHROMIUM = process.env['TRAFFICSHIFT_CHROMIUM'] ?? '/usr/bin/chromium';
const ARTEFACTS = path.join(REPO_ROOT, '.tmp/artefacts');
const haveChromium = fs.existsSync(CHROMIUM);

if (!haveChromium) {
  process.stderr.write(`\n!!! SKIPPED: ${CHROMIUM} not found (apt-get install chromium, or \`make tools\`): the dashboard's browser tests did not run\n\n`);
}
const describeBrowser = haveChromium ? describe : describe.skip;

/** Waits, polling from here, until `read` of the page satisfies `ok`. (page.waitForFunction
 * would evaluate a string in the page, which the dashboard's CSP rightly refuses; this project's
 * TypeScript has no DOM types for a function.) */
async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => ok((value = await read())), SETTLE_MS, what, 50);
  return value as T;
}
const text = (page: Page, selector: string): Promise<string> => page.textContent(selector, { timeout: SETTLE_MS }).then((t) => t ?? '');

interface Measured {
  files: Array<{ path: string; bytes: number }>;
  firstContentfulPaintMs?: number;
}
/** The page's HTML, JS and CSS as transferred (encoded body bytes), and its first contentful paint. */
const MEASURE = `(() => {
  const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
  const files = entries.filter((e) => e.entryType === 'navigation' || /\\.(js|css)$/.test(new URL(e.name).pathname));
  return {
    files: files.map((e) => ({ path: new URL(e.name).pathname, bytes: e.encodedBodySize })),
    firstContentfulPaintMs: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
  };
})()`;

describeBrowser('the dashboard in chromium', () => {
  const e2e = useE2eRun('dashboard', { cluster: { secured: true } });
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const requested: string[] = [];
  /** Uncaught errors in the page, and anything the CSP refused (a CSP the page breaks shows here). */
  const pageProblems: string[] = [];
  const tokens = { steerer: '', viewer: '' };
  const targets: Record<string, Target[]> = {};

  /** A fresh browser context (its own sessionStorage) that records every request it makes. */
  async function openPage(): Promise<Page> {
    const context = await (browser as Browser).newContext({ viewport: { width: 1200, height: 900 } });
    contexts.push(context);
    context.on('request', (r) => requested.push(r.url()));
    const page = await context.newPage();
    page.on('pageerror', (error) => pageProblems.push(`${page.url()}: ${error.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageProblems.push(`${page.url()}: ${m.text()}`);
    });
    return page;
  }

  const planUrl = (name: string): string => `${e2e.controller.url}/plans/${e2e.cluster.namespace}/${name}`;

  beforeAll(async () => {
    fs.mkdirSync(ARTEFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    tokens.steerer = await serviceAccountToken(e2e.cluster, 'dash-steerer', planRules('steer'));
    tokens.viewer = await serviceAccountToken(e2e.cluster, 'dash-viewer', planRules('read'));
    // The check's value wanders under its threshold (max 0.05), so its panel has a line to draw.
    let round = 0;
    e2e.checks.valueFor = () => 0.01 + 0.03 * Math.abs(Math.sin(round++ / 3));
    const analysis = { interval: '1s', checks: [{ name: 'error-ratio', webhook: { url: e2e.checkUrl, timeout: '2s' }, max: 0.05 }] };
    const checkout = [(await e2e.target('gatewayAPI', 'checkout')).target, (await e2e.target('nginx', 'checkout-web')).target];
    const search = [(await e2e.target('gatewayAPI', 'search')).target];
    targets['checkout'] = checkout;
    targets['search'] = search;
    await createPlan(e2e.cluster, 'checkout', { targets: checkout, steps: [{ weight: 10, pause: '2s' }, { weight: 30, pause: '2s' }, { weight: 60, pause: {} }, { weight: 100 }], analysis, rollback: { rto: '30s' } });
    await createPlan(e2e.cluster, 'search', { targets: search, steps: [{ weight: 20, pause: {} }, { weight: 100 }], analysis });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
  });

  it('lists both plans on the overview, takes the #token= fragment out of the address bar, and reports its size and first paint', async () => {
    const page = await openPage();
    await page.goto(`${e2e.controller.url}/#token=${tokens.steerer}`);
    await page.waitForSelector('tr[data-plan]');
    await waitFor(async () => (await page.locator('tr[data-plan]').count()) === 2, SETTLE_MS, 'two plans on the overview');
    expect(await page.locator('tr[data-plan] a').allTextContents()).toEqual(['checkout', 'search']);
    expect(page.url()).toBe(`${e2e.controller.url}/`);
    await page.waitForSelector('#live.live.live');

    const measured = (await page.evaluate(MEASURE)) as Measured;
    const total = measured.files.reduce((sum, f) => sum + f.bytes, 0);
    console.log(`dashboard overview: ${total} bytes of HTML+JS+CSS in ${measured.files.length} files (${measured.files.map((f) => `${f.path} ${f.bytes}`).join(', ')}); first contentful paint ${measured.firstContentfulPaintMs?.toFixed(0)} ms`);
    expect(total).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTEFACTS, 'dashboard-overview.png'), fullPage: true });
  });

  it('draws the weight rising step by step on the plan page', async () => {
    const page = await openPage();
    await page.goto(`${planUrl('checkout')}#token=${tokens.steerer}`);
    await waitForPhase(e2e.cluster, 'checkout', 'WaitingForPromotion');
    await until('the page to say WaitingForPromotion', () => text(page, '#phase'), (t) => t === 'WaitingForPromotion');
    const weights = await until('the chart to reach 60', async () => ((await page.getAttribute('.weight-line', 'data-weights')) ?? '').split(',').map(Number), (w) => w.includes(60));
    expect(weights).toEqual(expect.arrayContaining([10, 30, 60]));
    // In SVG y grows downwards: each step's level sits higher on the chart than the one before.
    const points = ((await page.getAttribute('.weight-line', 'points')) ?? '').split(' ').map((p) => Number(p.split(',')[1]));
    const levels = points.filter((y, i) => i === 0 || y !== points[i - 1]);
    expect(levels.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < levels.length; i++) expect(levels[i]).toBeLessThan(levels[i - 1] as number);
    expect(await page.locator('.panel.check[data-check="error-ratio"] .threshold.max').count()).toBe(1);
    expect(await page.locator('#actions button').evaluateAll((b) => b.map((x) => x.getAttribute('data-action')))).toEqual(['pause', 'promote', 'rollback']);
    await until('the spec', () => text(page, '#spec'), (t) => t.includes('steps:'));
    const measured = (await page.evaluate(MEASURE)) as Measured;
    console.log(`dashboard plan page: ${measured.files.reduce((sum, f) => sum + f.bytes, 0)} bytes of HTML+JS+CSS; first contentful paint ${measured.firstContentfulPaintMs?.toFixed(0)} ms`);
    await page.screenshot({ path: path.join(ARTEFACTS, 'dashboard-plan.png'), fullPage: true });
  });

  it('refuses a token without patch rights with the API\'s reason', async () => {
    const page = await openPage();
    await page.goto(`${planUrl('search')}#token=${tokens.viewer}`);
    await page.waitForSelector('#actions button[data-action="pause"]', { timeout: SETTLE_MS });
    await page.click('#actions button[data-action="pause"]');
    await page.waitForSelector('#action-message.error');
    expect(await page.textContent('#action-message')).toMatch(/^You may not pause this plan: .+/);
    await page.click('#actions button[data-action="rollback"]');
    await page.fill('#rollback-reason', 'a viewer tries');
    await page.click('#rollback-confirm');
    await until('the rollback refused', () => text(page, '#action-message'), (t) => t.startsWith('You may not roll back this plan: '));
    // Nothing moved: the plan still waits for promotion with its weight.
    expect(await liveWeight(e2e.cluster, targets['search']![0]!)).toBe(20);
  });

  it('rolls every target back to 0 from the page, and shows RolledBack', async () => {
    const page = await openPage();
    await page.goto(`${planUrl('checkout')}#token=${tokens.steerer}`);
    await page.waitForSelector('#actions button[data-action="rollback"]', { timeout: SETTLE_MS });
    await page.click('#actions button[data-action="rollback"]');
    await page.fill('#rollback-reason', 'error budget burning (browser test)');
    const pressed = Date.now();
    await page.click('#rollback-confirm');
    const checkout = targets['checkout']!;
    await waitFor(async () => (await Promise.all(checkout.map((t) => liveWeight(e2e.cluster, t)))).every((w) => w === 0), 10_000, 'every checkout target at 0', 10);
    const tookMs = Date.now() - pressed;
    console.log(`dashboard rollback: every target at 0 ${tookMs} ms after the confirm click`);
    await until('the page to say RolledBack', () => text(page, '#phase'), (t) => t === 'RolledBack');
    expect(tookMs).toBeLessThan(10_000);
    // The stream can bring RolledBack before the rollback request's own answer says so.
    expect(await until('the rollback request\'s answer', () => text(page, '#action-message'), (t) => /^Rolled back/.test(t))).toMatch(/^Rolled back/);
    expect(await page.locator('#actions button').evaluateAll((b) => b.map((x) => x.getAttribute('data-action')))).toEqual(['retry']);
    await page.waitForSelector('.rollback-label');
    await page.screenshot({ path: path.join(ARTEFACTS, 'dashboard-plan-rolled-back.png'), fullPage: true });
  });

  it('asks for a token, and lists the plans once one is pasted', async () => {
    const page = await openPage();
    await page.goto(`${e2e.controller.url}/`);
    await until('the 401 notice', () => text(page, '#notice'), (t) => t.startsWith('The controller needs your bearer token'));
    await page.fill('#token-input', tokens.viewer);
    await page.click('#token-form button[type=submit]');
    await until('two plans on the overview', () => page.locator('tr[data-plan]').count(), (n) => n === 2);
    expect(await text(page, '#notice')).toBe('');
    expect(await page.evaluate('sessionStorage.getItem("trafficshift.token") !== null')).toBe(true);
    // The filters: checkout was rolled back above, search still waits for promotion.
    await until('checkout RolledBack on the overview', () => page.getAttribute('tr[data-plan$="/checkout"]', 'data-phase'), (p) => p === 'RolledBack');
    await page.selectOption('#filter-phase', 'RolledBack');
    expect(await page.locator('tr[data-plan] a').allTextContents()).toEqual(['checkout']);
    await page.selectOption('#filter-phase', '');
    await page.selectOption('#filter-namespace', e2e.cluster.namespace);
    expect(await page.locator('tr[data-plan] a').allTextContents()).toEqual(['checkout', 'search']);
    await page.selectOption('#filter-namespace', '');
    await page.screenshot({ path: path.join(ARTEFACTS, 'dashboard-overview-later.png'), fullPage: true });
  });

  it('shows the auth=none banner when the controller says so', async () => {
    const page = await openPage();
    // This controller checks tokens; the page's side of --auth=none is what /info answers.
    await page.route('**/api/v1/info', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ version: '0.1.0', authMode: 'none' }) }));
    await page.goto(`${e2e.controller.url}/`);
    await page.waitForSelector('.banner-none');
    expect(await page.textContent('.banner-none')).toBe('Authentication is off (--auth=none): anyone who reaches this port can steer every plan');
    expect(await page.locator('#token-form').count()).toBe(0);
  });

  it('loaded nothing from outside the controller, and broke neither its CSP nor itself', () => {
    const origin = new URL(e2e.controller.url).origin;
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin)).toEqual([]);
    expect(pageProblems).toEqual([]);
  });
});
