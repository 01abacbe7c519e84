/**
 * Issue 13: the operator console on a running `serve`. Security first (every admin route without a
 * session, forged and expired cookies, CSRF and origin checks, a non-admin refused, /metrics behind
 * its token), then a real browser (Debian's Chromium driven by playwright-core): sign in through the
 * Feishu emulator, the overview, retry a dead letter, a dry-run reconciliation; screenshots kept in
 * test/artifacts/console.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStatus } from '../../src/app/status.ts';
import { parseKey } from '../../src/core/index.ts';
import { parseSecretKey } from '../../src/store/credentials.ts';
import { createSealer, newSession, SESSION_COOKIE } from '../../src/web/session.ts';
import { Browser } from './browserless.ts';
import { type ConsoleWorld, METRICS_TOKEN, makeConflict, startConsoleWorld, until } from './console-world.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts', 'console');
let w: ConsoleWorld;

beforeAll(async () => {
  w = await startConsoleWorld();
}, 120_000);
afterAll(async () => {
  await w?.close();
});

const PAGES = ['/', '/rooms', '/reconcile', '/dead-letters', '/conflicts', '/waves'];
const JSON_ROUTES = ['/status', '/reports/latest'];
const ACTIONS = ['/actions/retry', '/actions/reconcile', '/actions/conflicts/resolve', '/signout'];

describe('console security', () => {
  it('refuses every admin route without a session', async () => {
    const url = w.service.url;
    for (const p of PAGES) {
      const r = await fetch(`${url}${p}`, { redirect: 'manual' });
      expect(r.status, p).toBe(302);
      expect(r.headers.get('location'), p).toBe('/signin');
    }
    for (const p of JSON_ROUTES) expect((await fetch(`${url}${p}`)).status, p).toBe(401);
    for (const p of ACTIONS) {
      const r = await fetch(`${url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'mode=dry-run',
      });
      expect(r.status, p).toBe(401);
    }
  });

  it('wants the bearer token on /metrics when one is configured', async () => {
    const url = `${w.service.url}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/feisync_/);
  });

  it('signs an admin in through Feishu, with security headers and no secret on the pages', async () => {
    const b = new Browser(w.service.url);
    const r = await b.signIn(w.em.feishu, w.admin.openId);
    expect(r.status).toBe(200);
    expect(b.cookies.has(SESSION_COOKIE)).toBe(true);
    for (const p of PAGES) {
      const page = await b.fetch(`${w.service.url}${p}`);
      expect(page.status, p).toBe(200);
      expect(page.headers.get('content-security-policy'), p).toMatch(/default-src 'self'/);
      expect(page.headers.get('x-frame-options'), p).toBe('DENY');
      const html = await page.text();
      for (const secret of [
        w.config.feishu.app_secret,
        w.config.feishu.events.encrypt_key,
        w.config.secret_key,
      ]) {
        expect(html.includes(String(secret)), p).toBe(false);
      }
    }
    expect((await b.fetch(`${w.service.url}/status`)).status).toBe(200);
  });

  it('refuses forged, tampered and expired session cookies', async () => {
    const url = w.service.url;
    const b = new Browser(url);
    await b.signIn(w.em.feishu, w.admin.openId);
    const real = b.cookies.get(SESSION_COOKIE)!;
    const [body, mac] = real.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    const key = parseSecretKey(w.config.secret_key);
    const forged = [
      `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`,
      `${Buffer.from(JSON.stringify({ ...payload, name: 'someone else' })).toString('base64url')}.${mac}`,
      createSealer(Buffer.alloc(32, 7)).seal(newSession(w.admin.openId, w.admin.email)),
      createSealer(key).seal(newSession(w.admin.openId, w.admin.email, Date.now() - 9 * 3600_000)),
      'garbage',
    ];
    for (const c of forged) {
      const page = await fetch(`${url}/`, {
        headers: { cookie: `${SESSION_COOKIE}=${c}` },
        redirect: 'manual',
      });
      expect(page.status, c).toBe(302);
      const api = await fetch(`${url}/status`, { headers: { cookie: `${SESSION_COOKIE}=${c}` } });
      expect(api.status, c).toBe(401);
    }
  });

  it('refuses an action without its CSRF token, with another session token, or from another origin', async () => {
    const b = new Browser(w.service.url);
    await b.signIn(w.em.feishu, w.admin.openId);
    const csrf = await b.csrf('/reconcile');
    const other = new Browser(w.service.url);
    await other.signIn(w.em.feishu, w.admin.openId);
    const otherCsrf = await other.csrf('/reconcile');
    expect(otherCsrf).not.toBe(csrf);

    expect((await b.post('/actions/reconcile', { mode: 'dry-run' })).status).toBe(403);
    expect((await b.post('/actions/reconcile', { mode: 'dry-run', _csrf: otherCsrf })).status).toBe(403);
    const cross = await b.post(
      '/actions/reconcile',
      { mode: 'dry-run', _csrf: csrf },
      'https://evil.example',
    );
    expect(cross.status).toBe(403);
    const byReferer = await b.fetch(`${w.service.url}/actions/reconcile`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: 'https://evil.example/page' },
      body: new URLSearchParams({ mode: 'dry-run', _csrf: csrf }).toString(),
    });
    expect(byReferer.status).toBe(403);
    // nothing above started a run
    await expect(w.service.app.db.prisma.syncRun.count({ where: { kind: 'reconcile' } })).resolves.toBe(0);
    // signing out needs the token too, and then the session is gone from the browser
    expect((await b.post('/signout', { _csrf: csrf })).status).toBe(303);
    expect((await b.fetch(`${w.service.url}/`)).status).toBe(302);
  });

  it('refuses a Feishu user who is not an admin, and a sign-in not started in this browser', async () => {
    const b = new Browser(w.service.url);
    const r = await b.signIn(w.em.feishu, w.other.openId);
    expect(r.status).toBe(403);
    expect(await r.text()).toMatch(/not an admin/);
    expect(b.cookies.has(SESSION_COOKIE)).toBe(false);

    // a callback carrying someone else's state (login CSRF) is refused
    const victim = new Browser(w.service.url);
    await new Browser(w.service.url).fetch(`${w.service.url}/auth/feishu/start`);
    const start = await new Browser(w.service.url).fetch(`${w.service.url}/auth/feishu/start`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const cb = await victim.fetch(
      `${w.service.url}/auth/feishu/callback?code=c-x&state=${encodeURIComponent(state)}`,
    );
    expect(cb.status).toBe(400);
    expect(victim.cookies.has(SESSION_COOKIE)).toBe(false);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('console in a browser', () => {
  let chrome: BrowserContext;
  let profile: string;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'feisync-chromium-'));
    // a fresh profile (--user-data-dir) per run; playwright passes it as the persistent context's folder
    chrome = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('signs in as an admin, shows the overview, retries a dead letter and runs a dry-run reconcile', async () => {
    await chrome.clearCookies();
    const page = await chrome.newPage();
    const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    await fetch(`${w.em.feishu}/_emulator/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ open_id: w.admin.openId }),
    });
    await page.goto(`${w.service.url}/`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await shot('signin');
    await page.getByRole('link', { name: 'Sign in with Feishu' }).click();
    await page.waitForURL(`${w.service.url}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    const overview = await page.locator('main').textContent();
    expect(overview).toContain(w.admin.email);
    expect(overview).toMatch(/has not consented yet/);
    expect(await page.locator('svg.chart rect.bar').count()).toBe(24);
    expect(await page.locator('header').textContent()).toContain(w.admin.email);
    await shot('overview');

    await page.getByRole('link', { name: 'Rooms' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Rooms');
    await shot('rooms');
    await page.getByRole('link', { name: 'Conflicts' }).click();
    expect(await page.locator('main').textContent()).toMatch(/No conflicts held for review/);
    // the same title edited in Feishu and on Google: the two-way sync holds it for review
    const { key, google } = await makeConflict(w);
    await page.goto(`${w.service.url}/conflicts`);
    const held = (await page.locator('main').textContent()) ?? '';
    expect(held).toContain('Title typed in Feishu');
    expect(held).toContain('Title typed in Google');
    await shot('conflicts');
    await page.getByRole('button', { name: 'Keep google' }).click();
    await page.waitForURL(/\/conflicts\?done=/);
    expect(await page.locator('.notice').textContent()).toMatch(/kept google/);
    expect(await page.locator('main').textContent()).toMatch(/No conflicts held for review/);
    // settled everywhere: Feishu took Google's title, and Google's copy kept it
    const feishu = await w.service.app.feishu.listChanges(google.feishu, null)[Symbol.asyncIterator]().next();
    expect(feishu.value?.upserts.find((u: any) => u.event.key.uid === parseKey(key).uid)?.event.summary).toBe(
      'Title typed in Google',
    );
    await shot('conflicts-resolved');

    await page.getByRole('link', { name: 'Waves' }).click();
    const waves = (await page.locator('main').textContent()) ?? '';
    expect(waves).toContain('wave-1');
    expect(waves).toMatch(/to google · cutover by hand/);
    expect(waves).toMatch(/0 done, 0 in cutover/);
    await shot('waves');

    await page.getByRole('link', { name: 'Dead letters' }).click();
    expect(await page.locator('main').textContent()).toContain(w.deadLetter);
    await shot('dead-letters');
    await page.locator('form[action="/actions/retry"] button').first().click();
    await page.waitForURL(/\/dead-letters\?done=/);
    expect(await page.locator('.notice').textContent()).toMatch(/back on the pull queue/);
    await until('the retried pull done', async () => {
      const s = await readStatus(w.service.app.db.prisma, { bossSchema: w.service.app.db.bossSchema });
      return !s.deadLetters.some((d) => d.id === w.deadLetter);
    });
    await page.goto(`${w.service.url}/dead-letters`);
    expect(await page.locator('main').textContent()).not.toContain(w.deadLetter);
    expect(await page.locator('main').textContent()).toMatch(/no dead letters/);
    // the retried pull did its work: the event reached Exchange
    await until('the event on Exchange', async () => {
      const state = (await (await fetch(`${w.em.graph}/_emulator/state`)).json()) as any;
      return (state.events ?? []).some((e: any) => e.subject === 'Dead letter for the console');
    });
    await shot('dead-letters-retried');

    await page.getByRole('link', { name: 'Reconciliation' }).click();
    expect(await page.locator('main').textContent()).toMatch(/No reconciliation has finished yet/);
    await page.getByRole('button', { name: 'Run a dry run now' }).click();
    await page.waitForURL(/\/reconcile\?done=/);
    await until('the dry-run report', async () => {
      await page.goto(`${w.service.url}/reconcile`);
      return /Latest report: run \d+, .*dry run/.test((await page.locator('main').textContent()) ?? '');
    });
    expect(await page.locator('main table').first().locator('tbody tr').count()).toBe(4);
    await shot('reconcile');
    await page.close();
  }, 90_000);

  it('refuses a Feishu user who is not an admin', async () => {
    await chrome.clearCookies();
    const page = await chrome.newPage();
    await fetch(`${w.em.feishu}/_emulator/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ open_id: w.other.openId }),
    });
    await page.goto(`${w.service.url}/signin`);
    await page.getByRole('link', { name: 'Sign in with Feishu' }).click();
    await page.waitForURL(/\/auth\/feishu\/callback/);
    expect(await page.locator('main').textContent()).toMatch(/not an admin/);
    await shot(page, 'not-admin');
    await page.goto(`${w.service.url}/`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await page.close();
  }, 60_000);
});

function shot(page: import('playwright-core').Page, name: string) {
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
