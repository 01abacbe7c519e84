// Checks that span sections of the configuration (run after each section validated on its own).
import type { z } from 'zod';

type Root = {
  google?: unknown;
  exchange?: unknown;
  users: Array<Record<string, any>>;
  rooms: Array<Record<string, any>>;
  feishu: { events: { mode: string } };
  server: { public_url?: string };
  migration?: { waves: Array<{ name: string; users?: string[]; rule?: unknown; target: string }> };
};

/** Checks that span sections: at least one spoke, mappings only to enabled spokes, webhook needs a URL. */
export function crossChecks(cfg: Root, ctx: z.RefinementCtx): void {
  const add = (path: Array<string | number>, message: string, found?: string) =>
    ctx.addIssue({ code: 'custom', path, message, input: undefined, params: found ? { found } : undefined });
  if (!cfg.google && !cfg.exchange) {
    add([], 'at least one spoke: a google or exchange section', 'neither');
  }
  const spokes = { google: cfg.google, exchange: cfg.exchange };
  cfg.users.forEach((u, i) => {
    const target = 'rule' in u ? u.rule : u;
    const suffix = 'rule' in u ? '_domain' : '';
    for (const spoke of ['google', 'exchange'] as const) {
      if (target[spoke + suffix] !== undefined && !spokes[spoke]) {
        const path = 'rule' in u ? ['users', i, 'rule', spoke + suffix] : ['users', i, spoke];
        add(path, `a ${spoke} section to map users to ${spoke}`, `no ${spoke} section`);
      }
    }
    if (target[`google${suffix}`] === undefined && target[`exchange${suffix}`] === undefined) {
      add(
        'rule' in u ? ['users', i, 'rule'] : ['users', i],
        'a google or exchange mapping for this user',
        'neither',
      );
    }
  });
  cfg.rooms.forEach((r, i) => {
    for (const spoke of ['google', 'exchange'] as const) {
      if (r[spoke] !== undefined && !spokes[spoke]) {
        add(['rooms', i, spoke], `a ${spoke} section to map rooms to ${spoke}`, `no ${spoke} section`);
      }
    }
    if (r.google === undefined && r.exchange === undefined) {
      add(['rooms', i], 'a google or exchange room', 'neither');
    }
  });
  const names = new Set<string>();
  const inWave = new Map<string, string>();
  cfg.migration?.waves.forEach((w, i) => {
    if (names.has(w.name)) add(['migration', 'waves', i, 'name'], 'a wave name not used before', w.name);
    names.add(w.name);
    if ((w.users === undefined) === (w.rule === undefined))
      add(['migration', 'waves', i], 'either users or rule', w.users ? 'both' : 'neither');
    if (!spokes[w.target as 'google' | 'exchange'])
      add(
        ['migration', 'waves', i, 'target'],
        `a ${w.target} section to move users to`,
        `no ${w.target} section`,
      );
    w.users?.forEach((u, j) => {
      const other = inWave.get(u.toLowerCase());
      if (other) add(['migration', 'waves', i, 'users', j], 'a user in one wave only', `also in ${other}`);
      inWave.set(u.toLowerCase(), w.name);
    });
  });
  if (cfg.feishu.events.mode === 'webhook' && !cfg.server.public_url) {
    add(['server', 'public_url'], 'a public URL (required when feishu.events.mode is webhook)');
  }
}
