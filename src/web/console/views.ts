/** The console's pages as HTML parts (every interpolated value escaped; nothing secret shown). */
import type { Resolution } from '../../app/pairs.ts';
import type { ReconcileReport } from '../../app/reconcile-run.ts';
import type { Section } from '../../app/rooms-report.ts';
import type { Status } from '../../app/status.ts';
import { esc } from '../page.ts';
import type { ConflictView } from './types.ts';

export function table(headers: string[], rows: unknown[][], empty: string, raw = false): string {
  if (rows.length === 0) return `<p class="muted">${esc(empty)}</p>`;
  const cell = (v: unknown) =>
    typeof v === 'number' ? `<td class="num">${v}</td>` : `<td>${raw ? String(v ?? '') : esc(v)}</td>`;
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const when = (d: Date | string | null | undefined) =>
  d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) : '-';
const ago = (d: Date | null | undefined, now: number) => {
  if (!d) return 'never';
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  return s < 120
    ? `${s} s ago`
    : s < 7200
      ? `${Math.round(s / 60)} min ago`
      : `${Math.round(s / 3600)} h ago`;
};
const spokeName = (s: string) => (s === 'graph' ? 'exchange' : s);

/** A one-button form posting to an action with the session's CSRF token. */
export function actionForm(
  action: string,
  csrf: string,
  label: string,
  fields: Record<string, string> = {},
  cls = '',
) {
  const hidden = Object.entries({ ...fields, _csrf: csrf })
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  return `<form class="inline" method="post" action="${esc(action)}">${hidden}<button${cls ? ` class="${cls}"` : ''}>${esc(label)}</button></form>`;
}

export interface OverviewData {
  status: Status;
  resolution: Resolution | undefined;
  chart: string;
  consentBase: string;
  /** Last finished pull per Feishu calendar. */
  lastPull: Map<string, Date>;
  now: number;
}

export function overview(d: OverviewData): string[] {
  const { status: s, resolution: r, now } = d;
  const users = new Map<string, { state: string; pairs: number }>();
  for (const p of r?.pairs ?? []) {
    const u = users.get(p.userKey) ?? { state: 'consented, syncing', pairs: 0 };
    u.pairs++;
    users.set(p.userKey, u);
  }
  for (const p of r?.problems ?? [])
    if (!users.has(p.user)) users.set(p.user, { state: p.problem, pairs: 0 });
  const consentLink = (u: string) => `${d.consentBase}/oauth/feishu/start?user=${encodeURIComponent(u)}`;
  const perSpoke = new Map<string, number>();
  for (const p of s.pairs) perSpoke.set(p.spoke, (perSpoke.get(p.spoke) ?? 0) + 1);
  const calendars = new Map<string, { user: string; cursor: Date | null }>();
  for (const p of s.pairs) {
    const c = calendars.get(p.feishuCalendar);
    const cur = p.cursors.feishu;
    if (!c || (cur && (!c.cursor || cur > c.cursor)))
      calendars.set(p.feishuCalendar, { user: p.userKey, cursor: cur });
  }
  const failedRuns = s.runs.filter((x) => x.status === 'failed' || x.status === 'partial').length;
  const cards = [
    ['users syncing', [...users.values()].filter((u) => u.pairs > 0).length],
    ...[...perSpoke].map(([spoke, n]) => [`pairs on ${spokeName(spoke)}`, n]),
    ['link failures', s.failures.length],
    ['dead letters', s.deadLetters.length],
    ['failed runs (last 10)', failedRuns],
  ];
  return [
    `<div class="cards">${cards.map(([k, v]) => `<div class="card"><strong>${esc(v)}</strong>${esc(k)}</div>`).join('')}</div>`,
    '<h2>Last 24 hours</h2>',
    d.chart,
    '<h2>Users</h2>',
    table(
      ['USER', 'STATE', 'PAIRS', 'CONSENT LINK (send it to the user)'],
      [...users].map(([u, x]) => [
        esc(u),
        `<span class="${x.pairs ? 'ok' : 'bad'}">${esc(x.state)}</span>`,
        x.pairs,
        `<a href="${esc(consentLink(u))}">${esc(consentLink(u))}</a>`,
      ]),
      'no users resolved yet',
      true,
    ),
    s.users.lapsed.length ? `<p class="bad">Consent lapsed: ${esc(s.users.lapsed.join(', '))}</p>` : '',
    '<h2>Pairs per spoke</h2>',
    table(
      [
        'USER',
        'FEISHU CALENDAR',
        'SPOKE',
        'SPOKE ACCOUNT',
        'DIRECTION',
        'LIVE',
        'FAILED',
        'NO ATTENDEES YET',
      ],
      s.pairs.map((p) => [
        p.userKey,
        p.feishuCalendar,
        spokeName(p.spoke),
        p.spokeOwner,
        p.direction,
        p.links.live,
        p.links.failed,
        p.links.attendeesPending,
      ]),
      'no pairs yet: users must consent first',
    ),
    '<h2>Lag per calendar</h2>',
    table(
      ['FEISHU CALENDAR', 'USER', 'LAST PULL', 'CURSOR WRITTEN'],
      [...calendars].map(([id, c]) => [id, c.user, ago(d.lastPull.get(id) ?? null, now), ago(c.cursor, now)]),
      'no calendars yet',
    ),
    '<h2>Last runs</h2>',
    table(
      ['ID', 'KIND', 'STARTED', 'SECONDS', 'STATUS', 'COUNTS', 'ERROR'],
      s.runs.map((x) => [
        x.id,
        x.kind,
        when(x.startedAt),
        x.finishedAt ? Number(((x.finishedAt.getTime() - x.startedAt.getTime()) / 1000).toFixed(1)) : '-',
        x.status,
        Object.entries(x.counts ?? {})
          .filter(([, v]) => v)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
        x.error ?? '',
      ]),
      'no runs yet',
    ),
    '<h2>Failures</h2>',
    table(
      ['PAIR', 'EVENT', 'ERROR', 'AT'],
      s.failures.map((f) => [f.pair, f.key, f.error, when(f.at)]),
      'no link failures',
    ),
  ];
}

export function rooms(s: Status, sections: Section[]): string[] {
  return [
    ...sections.flatMap((x) => [`<h2>${esc(x.title)}</h2>`, table(x.headers, x.rows, x.empty)]),
    '<h2>Bookings needing attention (pending, conflict, unmapped, failed)</h2>',
    table(
      ['ROOM', 'EVENT', 'SPOKE', 'SPOKE ROOM', 'STATUS', 'START', 'ERROR'],
      s.rooms.map((r) => [
        r.roomId,
        r.key,
        spokeName(r.spoke),
        r.spokeRoom ?? '-',
        r.status,
        when(r.startAt),
        r.error ?? '',
      ]),
      'none',
    ),
  ];
}

export function reconcile(report: ReconcileReport | null, csrf: string, running: boolean): string[] {
  const head = [
    '<p>',
    actionForm('/actions/reconcile', csrf, 'Run a dry run now', { mode: 'dry-run' }),
    ' ',
    actionForm('/actions/reconcile', csrf, 'Reconcile and repair now', { mode: 'repair' }, 'secondary'),
    '</p>',
    running
      ? '<p class="notice">A reconciliation started here is running: reload this page to see its report.</p>'
      : '',
  ];
  if (!report) return [...head, '<p class="muted">No reconciliation has finished yet.</p>'];
  return [
    ...head,
    `<h2>Latest report: run ${esc(report.runId)}, ${esc(when(report.startedAt))}, ${report.repair ? 'repair' : 'dry run'}</h2>`,
    `<p class="${report.inParity ? 'ok' : 'bad'}">${report.inParity ? 'In parity' : 'Not in parity'}; ${report.ok ? 'no failures' : 'with failures or held pairs'}; ${esc(report.events)} Feishu events read in ${esc(report.seconds.toFixed(1))} s.</p>`,
    table(
      [
        'USER',
        'CALENDAR',
        'SPOKE',
        'EXPECTED',
        'FOUND',
        'MISSING',
        'EXTRA',
        'DIFFERING',
        report.repair ? 'REPAIRED' : 'WOULD REPAIR',
      ],
      report.rows.map((r) => [
        r.user,
        r.calendar,
        spokeName(r.spoke),
        r.expected,
        r.found,
        r.missing,
        r.extra,
        r.differing,
        r.writes.created + r.writes.updated + r.writes.deleted,
      ]),
      'no pairs',
    ),
    report.problems.length
      ? table(
          ['USER', 'PROBLEM'],
          report.problems.map((p) => [p.user, p.problem]),
          '',
        )
      : '',
  ];
}

export function deadLetters(s: Status, csrf: string): string[] {
  return [
    '<p>Jobs that failed after their retries. Retrying puts the job back on its queue.</p>',
    table(
      ['QUEUE', 'JOB', 'RETRIES', 'FAILED AT', 'ERROR', ''],
      s.deadLetters.map((d) => [
        esc(d.queue),
        `<code>${esc(d.id)}</code>`,
        d.retries,
        esc(when(d.at)),
        esc(d.error ?? ''),
        actionForm('/actions/retry', csrf, 'Retry', { queue: d.queue, id: d.id }),
      ]),
      'no dead letters',
      true,
    ),
  ];
}

export function conflicts(list: ConflictView[] | undefined, csrf: string): string[] {
  if (!list) {
    return [
      '<p class="notice">Two-way conflicts are not tracked by this build: no conflicts store is connected to the console.</p>',
    ];
  }
  if (list.length === 0) return ['<p class="muted">No conflicts held for review.</p>'];
  return list.map((c) => {
    const fields = [...new Set(c.versions.flatMap((v) => Object.keys(v.fields)))];
    const side = (v: ConflictView['versions'][number]) =>
      `<div><h3>${esc(v.side)}</h3>${table(
        ['FIELD', 'VALUE'],
        fields.map((f) => [f, v.fields[f] ?? '']),
        '',
      )}${actionForm('/actions/conflicts/resolve', csrf, `Keep ${v.side}`, { id: c.id, keep: v.side })}</div>`;
    return `<section><h2>${esc(c.summary ?? c.key)} <span class="muted">${esc(c.user)} · ${esc(c.key)} · ${esc(when(c.detectedAt))}</span></h2><div class="versions">${c.versions.map(side).join('')}</div></section>`;
  });
}

/** Migration waves: per wave its target, cutover time and counts; per user the state and last step. */
export function waves(list: Status['migration']): string[] {
  if (list.length === 0) return ['<p class="muted">No migration waves are configured (migration.waves).</p>'];
  return list.map((w) => {
    const c = w.counts;
    const users = table(
      ['USER', 'STATE', 'LAST STEP', 'AT', 'ERROR'],
      w.users.map((u) => {
        const last = u.steps[u.steps.length - 1];
        return [
          u.user,
          u.state,
          last ? `${last.step}${last.ok ? '' : ' (failed)'}` : '-',
          when(last?.at),
          u.error ?? '',
        ];
      }),
      'No user of this wave has started (feisync migrate cutover, or its cutover time in serve).',
    );
    return `<section><h2>${esc(w.wave)} <span class="muted">to ${esc(w.target)} · cutover ${esc(w.cutover ?? 'by hand')}</span></h2><p>${c.done} done, ${c.cutover} in cutover, ${c.pending} pending, ${c.failed} failed, ${c.rolled_back} rolled back</p>${users}</section>`;
  });
}
