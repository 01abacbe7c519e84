// A secret-free overview of a validated configuration, for `feisync config check`.
import type { Config } from './schema.ts';

export interface SpokeSummary {
  enabled: boolean;
  direction: 'one-way' | 'two-way';
  calendar?: 'primary' | 'dedicated';
  endpoint?: string;
}

export interface PairSummary {
  feishu: string;
  calendars: string;
  google?: string;
  exchange?: string;
}

export interface ConfigSummary {
  feishu: { app_id: string; domain: string; events: string; poll_interval_ms: number };
  spokes: { google: SpokeSummary; exchange: SpokeSummary };
  users: { explicit: number; rules: string[] };
  pairs: PairSummary[];
  rooms: { count: number; google: number; exchange: number };
  sync: {
    window: string;
    fields: string[];
    private_events: string;
    invitations: string;
    conflicts: string;
    max_deletes_per_run: number;
  };
  reconcile: { schedule: string; repair: boolean };
  server: { listen: string; public_url?: string };
  database: { kind: 'embedded'; data_dir: string } | { kind: 'postgres'; url: string };
  migration: { waves: { name: string; users: string; target: string; cutover?: string }[] };
}

/** Replaces the password of a URL (if any) with `***`. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function calendarsText(c: Config['users'][number]): string {
  if ('rule' in c) return 'primary';
  return Array.isArray(c.calendars) ? c.calendars.join(', ') : c.calendars;
}

export function summarize(config: Config): ConfigSummary {
  const explicit = config.users.flatMap((u) => ('rule' in u ? [] : [u]));
  const rules = config.users.flatMap((u) => {
    if (!('rule' in u)) return [];
    const r = u.rule;
    const targets = [
      r.google_domain ? `google @${r.google_domain}` : '',
      r.exchange_domain ? `exchange @${r.exchange_domain}` : '',
    ].filter(Boolean);
    return [`@${r.feishu_domain} -> ${targets.join(', ')}`];
  });
  const spoke = (name: 'google' | 'exchange'): SpokeSummary => {
    const section = config[name];
    if (!section) return { enabled: false, direction: config.sync.direction[name] };
    const endpoint = 'root_url' in section ? section.root_url : section.base_url;
    return { enabled: true, direction: config.sync.direction[name], calendar: section.calendar, endpoint };
  };
  const { window: win, ...sync } = config.sync;
  return {
    feishu: {
      app_id: config.feishu.app_id,
      domain: config.feishu.domain,
      events: config.feishu.events.mode,
      poll_interval_ms: config.feishu.events.poll_interval,
    },
    spokes: { google: spoke('google'), exchange: spoke('exchange') },
    users: { explicit: explicit.length, rules },
    pairs: explicit.map((u) => ({
      feishu: u.feishu,
      calendars: calendarsText(u),
      ...(u.google && config.google ? { google: u.google } : {}),
      ...(u.exchange && config.exchange ? { exchange: u.exchange } : {}),
    })),
    rooms: {
      count: config.rooms.length,
      google: config.rooms.filter((r) => r.google).length,
      exchange: config.rooms.filter((r) => r.exchange).length,
    },
    sync: {
      window: `${win.past_days} days back, ${win.future_days} days ahead`,
      fields: sync.fields,
      private_events: sync.private_events,
      invitations: sync.invitations,
      conflicts: sync.conflicts,
      max_deletes_per_run: sync.max_deletes_per_run,
    },
    reconcile: { ...config.reconcile },
    server: {
      listen: `${config.server.host}:${config.server.port}`,
      ...(config.server.public_url ? { public_url: config.server.public_url } : {}),
    },
    database: config.database.url
      ? { kind: 'postgres', url: maskUrl(config.database.url) }
      : { kind: 'embedded', data_dir: config.database.data_dir },
    migration: {
      waves: config.migration.waves.map((w) => ({
        name: w.name,
        users: w.users ? `${w.users.length} user(s)` : `@${w.rule?.feishu_domain}`,
        target: w.target,
        ...(w.cutover ? { cutover: w.cutover } : {}),
      })),
    },
  };
}

function ms(n: number): string {
  if (n % 3_600_000 === 0) return `${n / 3_600_000}h`;
  if (n % 60_000 === 0) return `${n / 60_000}m`;
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

export function formatSummary(s: ConfigSummary): string {
  const spokeLine = (name: string, sp: SpokeSummary) =>
    sp.enabled
      ? `  ${name}: ${sp.direction}, ${sp.calendar} calendar, ${sp.endpoint}`
      : `  ${name}: disabled`;
  const lines = [
    `Feishu: app ${s.feishu.app_id} at ${s.feishu.domain}, events by ${s.feishu.events}` +
      (s.feishu.events === 'poll' ? ` every ${ms(s.feishu.poll_interval_ms)}` : ''),
    'Spokes:',
    spokeLine('google', s.spokes.google),
    spokeLine('exchange', s.spokes.exchange),
    `Users: ${s.users.explicit} explicit, ${s.users.rules.length} rule(s)`,
    ...s.users.rules.map((r) => `  rule ${r}`),
    `Pairs (explicit users): ${s.pairs.length}`,
    ...s.pairs.map((p) => {
      const to = [p.google ? `google ${p.google}` : '', p.exchange ? `exchange ${p.exchange}` : ''];
      return `  ${p.feishu} [${p.calendars}] -> ${to.filter(Boolean).join(', ') || '(nothing)'}`;
    }),
    `Rooms: ${s.rooms.count} (${s.rooms.google} on google, ${s.rooms.exchange} on exchange)`,
    `Sync: ${s.sync.window}; fields ${s.sync.fields.join(', ')}`,
    `  private events ${s.sync.private_events}, invitations ${s.sync.invitations}, conflicts ${s.sync.conflicts}, ` +
      `max ${s.sync.max_deletes_per_run} deletes per run`,
    `Reconcile: "${s.reconcile.schedule}", ${s.reconcile.repair ? 'repair' : 'report only'}`,
    `Server: ${s.server.listen}${s.server.public_url ? `, public ${s.server.public_url}` : ''}`,
    s.database.kind === 'embedded'
      ? `Database: embedded (PGlite) in ${s.database.data_dir}`
      : `Database: ${s.database.url}`,
    `Migration: ${s.migration.waves.length} wave(s)`,
    ...s.migration.waves.map(
      (w) =>
        `  ${w.name}: ${w.users} -> ${w.target}${w.cutover ? `, cutover ${w.cutover}` : ', cutover by hand'}`,
    ),
  ];
  return lines.join('\n');
}
