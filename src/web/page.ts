/** Server-rendered HTML: escaping, and the page frame (one stylesheet of our own, no script). */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export interface Frame {
  /** Navigation shown to a signed-in admin. */
  nav?: { href: string; label: string; current?: boolean }[];
  /** Who is signed in, and the CSRF token of the sign-out form. */
  admin?: { name: string; csrf: string };
  /** A one-line notice above the content. */
  notice?: string;
}

/** A whole page; `body` parts are already HTML (escape what they interpolate). */
export function page(title: string, body: string[], frame: Frame = {}): string {
  const nav = frame.nav
    ? `<nav>${frame.nav
        .map((n) => `<a href="${esc(n.href)}"${n.current ? ' aria-current="page"' : ''}>${esc(n.label)}</a>`)
        .join('')}</nav>`
    : '';
  const who = frame.admin
    ? `<form class="who" method="post" action="/signout"><span>${esc(frame.admin.name)}</span>` +
      `<input type="hidden" name="_csrf" value="${esc(frame.admin.csrf)}"><button>Sign out</button></form>`
    : '';
  const notice = frame.notice ? `<p class="notice" role="status">${esc(frame.notice)}</p>` : '';
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)} · Feisync</title><link rel="stylesheet" href="/assets/console.css"></head>`,
    `<body><header><strong>Feisync</strong>${nav}${who}</header><main><h1>${esc(title)}</h1>${notice}`,
    ...body,
    '</main></body></html>',
  ].join('');
}
