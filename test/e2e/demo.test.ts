/**
 * `feisync demo` runs on `serve`: change events reach serve's webhook and its job workers apply them;
 * with `keep`, the console is up and its sign-in URL signs the demo admin in through the emulator.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/app/demo/run.ts';
import { Browser } from './browserless.ts';

describe('feisync demo on serve', () => {
  it('ends in exact parity through the webhook and serves the console while kept', async () => {
    let overview = '';
    let status = 0;
    const result = await runDemo({
      users: 2,
      events: 40,
      keep: async (r) => {
        const b = new Browser(r.console.url.replace(/\/$/, ''));
        const page = await b.go(r.console.signIn);
        status = page.status;
        overview = await page.text();
      },
    });
    expect(result.ok).toBe(true);
    for (const c of result.changes) {
      expect(c.deliveries, c.change).toBeGreaterThan(0);
      expect(c.applied.pulls, c.change).toBeGreaterThan(0);
    }
    expect(status).toBe(200);
    expect(overview).toContain('<h1>Overview</h1>');
    expect(overview).toContain(result.console.admin);
  }, 120_000);
});
