/**
 * A minimal browser for tests without one: follows redirects by hand and keeps the cookies the
 * service sets, so the Feishu sign-in can be walked through the emulator's consent page.
 */
import { control } from '../../src/app/emulators.ts';

export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly origin: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** One request; cookies of our origin sent and kept. Does not follow redirects. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const ours = url.startsWith(this.origin);
    const headers = new Headers(init.headers);
    if (ours && this.cookies.size) headers.set('cookie', this.cookieHeader);
    const r = await fetch(url, { ...init, headers, redirect: 'manual' });
    if (ours) {
      for (const c of r.headers.getSetCookie()) {
        const [pair, ...attrs] = c.split(';');
        const [k, v] = [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()];
        const gone = !v || attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a) || /max-age=0\b/i.test(a));
        if (gone) this.cookies.delete(k);
        else this.cookies.set(k, v);
      }
    }
    return r;
  }

  /** Follows redirects (up to 10) and answers the final response. */
  async go(url: string, init: RequestInit = {}): Promise<Response> {
    let r = await this.fetch(url, init);
    for (let i = 0; i < 10 && r.status >= 300 && r.status < 400; i++) {
      url = new URL(r.headers.get('location')!, url).toString();
      r = await this.fetch(url);
    }
    return r;
  }

  /** Signs in to the console as this Feishu user (the emulator's signed-in browser session). */
  async signIn(feishuUrl: string, openId: string): Promise<Response> {
    await control(feishuUrl, 'login', { open_id: openId });
    return this.go(`${this.origin}/auth/feishu/start`);
  }

  /** The CSRF token embedded in a console page. */
  async csrf(path = '/'): Promise<string> {
    const html = await (await this.go(`${this.origin}${path}`)).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error(`no CSRF token on ${path}`);
    return m[1];
  }

  /** Posts a form as a browser on our page would (same Origin). */
  post(path: string, form: Record<string, string>, origin = this.origin): Promise<Response> {
    return this.fetch(`${this.origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams(form).toString(),
    });
  }
}
