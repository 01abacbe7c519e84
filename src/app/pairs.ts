/**
 * Users and pairs: resolves the config's users to Feishu open ids and calendars, and the spoke
 * accounts, into sync pairs; saves them, retiring pairs the config no longer yields.
 */
import { createHash } from 'node:crypto';
import PQueue from 'p-queue';
import type { Config } from '../config/index.ts';
import type { Attendee, CanonicalEvent } from '../core/index.ts';
import type { CalendarInfo } from '../ports/index.ts';
import type { Pair, Spoke } from '../sync/pair.ts';
import type { App } from './compose.ts';

export interface Resolution {
  pairs: Pair[];
  /** Users or calendars that could not be resolved, with the reason. */
  problems: { user: string; problem: string }[];
  /**
   * How Feishu attendees are known on each pair's spoke: mapped users and rooms; others are left out.
   * A room rides only on its organizer's copy of an event (that copy books it; an attendee's copy
   * would book it a second time).
   */
  attendeeFor: (pair: Pair) => (a: Attendee, event?: CanonicalEvent) => Attendee | undefined;
  /** Rooms met on events that the rooms table does not map to a spoke (filled as events are mapped). */
  unmappedRooms: Map<string, Set<Spoke>>;
  /** Two-way pairs: a spoke attendee as Feishu knows it (mapped user, room), else by e-mail. */
  reverseAttendee: (pair: Pair) => (a: Attendee) => Attendee;
}

export const pairId = (feishuCalendar: string, spoke: Spoke, owner: string, calendar: string) =>
  `p_${createHash('sha256').update(`${feishuCalendar}|${spoke}|${owner}|${calendar}`).digest('hex').slice(0, 16)}`;

type Explicit = Extract<Config['users'][number], { feishu: string }>;

export async function resolvePairs(app: App, only?: string): Promise<Resolution> {
  const { config } = app;
  const problems: Resolution['problems'] = [];
  const users = config.users.filter((u): u is Explicit => 'feishu' in u);
  const known = new Map<string, string>();
  const rules = config.users.flatMap((u) => ('rule' in u ? [u.rule] : []));
  if (rules.length > 0) {
    try {
      users.push(...byRules(rules, users, await app.feishu.listUsers(), known));
    } catch (e) {
      problems.push({ user: 'rules', problem: `cannot list the Feishu directory: ${(e as Error).message}` });
    }
  }
  const chosen = only ? users.filter((u) => [u.feishu, u.google, u.exchange].includes(only)) : users;
  if (only && chosen.length === 0) problems.push({ user: only, problem: 'not a user of the config' });
  const emails = users.map((u) => u.feishu).filter((f) => f.includes('@') && !known.has(f));
  const openIds = emails.length ? await app.feishu.lookupUsersByEmail(emails) : new Map<string, string>();
  for (const [email, id] of known) openIds.set(email, id);
  const moved = await migratedUsers(app);
  // each user's token and calendars are one or two Feishu reads: eight users at a time, in order
  const queue = new PQueue({ concurrency: 8 });
  const perUser = await queue.addAll(chosen.map((u) => () => pairsOfUser(app, u, openIds, moved)));
  const pairs = perUser.flatMap((r) => ('problem' in r ? [] : r.pairs));
  for (const r of perUser) if ('problem' in r) problems.push(r.problem);
  await savePairs(app, pairs, !only);
  const people = new Map<string, Explicit>();
  for (const u of users) {
    const id = u.feishu.startsWith('ou_') ? u.feishu : openIds.get(u.feishu);
    if (id) people.set(id, u);
  }
  const unmappedRooms: Resolution['unmappedRooms'] = new Map();
  return {
    pairs,
    problems,
    attendeeFor: (pair) => attendeeMapper(config, people, pair, unmappedRooms),
    unmappedRooms,
    reverseAttendee: (pair) => reverseMapper(config, people, pair),
  };
}

/**
 * Users of a migration wave whose cutover switched them (config user key, lower case -> target spoke):
 * the last `switch` / `switch-back` step recorded decides, so a cutover that failed after the switch
 * keeps the target as the source until it resumes or is rolled back.
 */
async function migratedUsers(app: App): Promise<Map<string, Spoke>> {
  const rows = await app.db.prisma.migrationUser.findMany({
    where: { state: { notIn: ['pending', 'rolled_back'] } },
  });
  const out = new Map<string, Spoke>();
  for (const r of rows) {
    let on = false;
    for (const s of r.steps as { step: string; ok: boolean }[]) {
      if (s.ok && s.step === 'switch') on = true;
      if (s.ok && s.step === 'switch-back') on = false;
    }
    if (on) out.set(r.userKey.toLowerCase(), r.target === 'exchange' ? 'graph' : 'google');
  }
  return out;
}

type Rule = Extract<Config['users'][number], { rule: unknown }>['rule'];

/** Directory users matched by the rules' Feishu domains; explicit entries win. Fills `known` with their open ids. */
function byRules(
  rules: Rule[],
  explicit: Explicit[],
  directory: { openId: string; email: string }[],
  known: Map<string, string>,
): Explicit[] {
  const taken = new Set(explicit.map((u) => u.feishu.toLowerCase()));
  const out: Explicit[] = [];
  for (const rule of rules) {
    for (const d of directory) {
      const at = d.email.lastIndexOf('@');
      const local = d.email.slice(0, at);
      if (d.email.slice(at + 1).toLowerCase() !== rule.feishu_domain.toLowerCase()) continue;
      if (taken.has(d.email.toLowerCase()) || taken.has(d.openId.toLowerCase())) continue;
      taken.add(d.email.toLowerCase());
      known.set(d.email, d.openId);
      out.push({
        feishu: d.email,
        ...(rule.google_domain ? { google: `${local}@${rule.google_domain}` } : {}),
        ...(rule.exchange_domain ? { exchange: `${local}@${rule.exchange_domain}` } : {}),
        calendars: 'primary',
      });
    }
  }
  return out;
}

function attendeeMapper(
  config: Config,
  people: Map<string, Explicit>,
  pair: Pair,
  unmapped: Resolution['unmappedRooms'],
) {
  const rooms = new Map(config.rooms.map((r) => [r.feishu, r]));
  const spoke = pair.spoke;
  return (a: Attendee, event?: CanonicalEvent): Attendee | undefined => {
    if (a.kind === 'room') {
      const organizer = event?.organizer?.id;
      if (organizer && organizer !== pair.feishu.owner) return undefined;
      const room = a.id ? rooms.get(a.id) : undefined;
      const email = spoke === 'google' ? room?.google : room?.exchange;
      if (!email && a.id) unmapped.set(a.id, (unmapped.get(a.id) ?? new Set()).add(spoke));
      return email ? { ...a, email, name: room?.name ?? a.name } : undefined;
    }
    const user = a.id ? people.get(a.id) : undefined;
    const email = user ? (spoke === 'google' ? user.google : user.exchange) : a.email;
    return email ? { ...a, kind: 'person', email } : undefined;
  };
}

function reverseMapper(config: Config, people: Map<string, Explicit>, pair: Pair) {
  const at = (e?: string) => e?.toLowerCase();
  const users = new Map<string, [string, Explicit]>();
  for (const [openId, u] of people) {
    const email = at(pair.spoke === 'google' ? u.google : u.exchange);
    if (email) users.set(email, [openId, u]);
  }
  const rooms = new Map(
    config.rooms.flatMap((r) => {
      const email = at(pair.spoke === 'google' ? r.google : r.exchange);
      return email ? [[email, r] as const] : [];
    }),
  );
  return (a: Attendee): Attendee => {
    const email = at(a.email);
    const room = email ? rooms.get(email) : undefined;
    if (room) return { kind: 'room', id: room.feishu, name: room.name, rsvp: a.rsvp, optional: a.optional };
    const user = email ? users.get(email) : undefined;
    if (user) {
      const feishuEmail = user[1].feishu.includes('@') ? user[1].feishu : undefined;
      return {
        kind: 'person',
        id: user[0],
        ...(feishuEmail ? { email: feishuEmail } : {}),
        rsvp: a.rsvp,
        optional: a.optional,
      };
    }
    return {
      kind: 'external',
      ...(a.email ? { email: a.email } : {}),
      ...(a.name ? { name: a.name } : {}),
      rsvp: a.rsvp,
      optional: a.optional,
    };
  };
}

/** One user's pairs (their calendars to each spoke they have), or why they have none yet. */
async function pairsOfUser(
  app: App,
  u: Explicit,
  openIds: Map<string, string>,
  moved: Map<string, Spoke>,
): Promise<{ pairs: Pair[] } | { problem: Resolution['problems'][number] }> {
  const { config } = app;
  const openId = u.feishu.startsWith('ou_') ? u.feishu : openIds.get(u.feishu);
  if (!openId) return { problem: { user: u.feishu, problem: 'no Feishu user with this e-mail or open_id' } };
  if (!(await app.userTokens.get(openId)))
    return {
      problem: {
        user: u.feishu,
        problem: 'has not consented yet (no Feishu user token): their calendars cannot be read',
      },
    };
  let calendars: string[];
  try {
    calendars = await calendarsOf(app, openId, u.calendars);
  } catch (e) {
    return { problem: { user: u.feishu, problem: `cannot read the calendars: ${(e as Error).message}` } };
  }
  const targets: [Spoke, string | undefined][] = [
    ['google', app.spokes.google ? u.google : undefined],
    ['graph', app.spokes.graph ? u.exchange : undefined],
  ];
  const target = moved.get(u.feishu.toLowerCase());
  const pairs: Pair[] = [];
  for (const calendar of calendars) {
    for (const [spoke, owner] of targets) {
      if (!owner) continue;
      // a migrated user's pair to their target: two-way with the spoke as the source of truth
      const override =
        target === spoke ? { direction: 'two-way' as const, conflicts: 'spoke-wins' as const } : {};
      pairs.push({
        id: pairId(calendar, spoke, owner, 'primary'),
        userKey: u.feishu,
        feishu: { owner: openId, id: calendar },
        spoke,
        target: { owner, id: 'primary' },
        direction: (spoke === 'google'
          ? config.sync.direction.google
          : config.sync.direction.exchange) as Pair['direction'],
        ...override,
      });
    }
  }
  return { pairs };
}

async function calendarsOf(app: App, openId: string, wanted: Explicit['calendars']): Promise<string[]> {
  if (wanted === 'primary' || wanted === undefined) return [await app.feishu.primaryCalendar(openId)];
  const all: CalendarInfo[] = (await app.feishu.listCalendars(openId)).filter((c) => !c.deleted);
  if (wanted === 'all') return all.filter((c) => c.writable).map((c) => c.id);
  return (wanted as string[]).map((w) => {
    const c = all.find((x) => x.id === w || x.summary === w);
    if (!c) throw new Error(`no calendar "${w}"`);
    return c.id;
  });
}

async function savePairs(app: App, pairs: Pair[], retireOthers: boolean) {
  const prisma = app.db.prisma;
  await prisma.$transaction(async (tx) => {
    for (const p of pairs) {
      const data = {
        userKey: p.userKey,
        feishuOwner: p.feishu.owner,
        feishuCalendar: p.feishu.id,
        spoke: p.spoke,
        spokeOwner: p.target.owner,
        spokeCalendar: p.target.id,
        direction: p.direction,
        active: true,
        retiredAt: null,
      };
      await tx.syncPair.upsert({ where: { id: p.id }, create: { id: p.id, ...data }, update: data });
    }
    if (retireOthers) {
      await tx.syncPair.updateMany({
        where: { id: { notIn: pairs.map((p) => p.id) }, active: true },
        data: { active: false, retiredAt: new Date() },
      });
    }
  });
}
