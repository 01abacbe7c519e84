/**
 * The world of the two-way tests: a small generated tenant on the three emulators with both spokes
 * two-way, and helpers that read each side through its own API and count the writes the emulators saw.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lark from '@larksuiteoapi/node-sdk';
import type { calendar_v3 } from 'googleapis';
import { TokenCache } from '../../connectors/feishu/cache.ts';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { GraphClient } from '../../connectors/graph/client.ts';
import type { App } from '../../src/app/compose.ts';
import { generateTenant, type Tenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators } from '../../src/app/emulators.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import type { CanonicalEvent } from '../../src/core/index.ts';
import type { RemoteEvent } from '../../src/ports/index.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { openWorld } from '../support/world.ts';

export const NOW = Math.floor(Date.now() / 1000);

export interface TwoWayWorld {
  dir: string;
  tenant: Tenant;
  em: Emulators;
  app: App;
  configFile: string;
}

/** Closes the world's app and emulators and removes its folder (a world never opened is fine). */
export async function closeTwoWay(w: TwoWayWorld | undefined): Promise<void> {
  if (!w) return;
  await w.app.close();
  await w.em.close();
  rmSync(w.dir, { recursive: true, force: true });
}

export async function openTwoWay(
  conflicts: 'feishu-wins' | 'spoke-wins' | 'newest-wins' | 'report' = 'feishu-wins',
  options: { users?: number; events?: number; seed?: number } = {},
): Promise<TwoWayWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'feisync-twoway-'));
  const tenant = generateTenant({
    users: options.users ?? 2,
    events: options.events ?? 30,
    now: NOW,
    seed: options.seed,
  });
  const config = tenant.config as any;
  config.sync.direction = { google: 'two-way', exchange: 'two-way' };
  config.sync.conflicts = conflicts;
  const { em, app, configFile } = await openWorld(tenant, dir);
  return { dir, tenant, em, app, configFile };
}

export async function pairsOf(
  w: TwoWayWorld,
  user = w.tenant.users[0],
): Promise<Record<'google' | 'graph', Pair>> {
  const { pairs } = await resolvePairs(w.app);
  const mine = pairs.filter((p) => p.feishu.owner === user.openId);
  return {
    google: mine.find((p) => p.spoke === 'google')!,
    graph: mine.find((p) => p.spoke === 'graph')!,
  };
}

/** Every event of a pair's spoke calendar, read through the spoke's SDK (full listing). */
export async function spokeEvents(w: TwoWayWorld, pair: Pair): Promise<RemoteEvent[]> {
  const out: RemoteEvent[] = [];
  for await (const page of w.app.spokes[pair.spoke]!.listChanges(pair.target, null))
    out.push(...page.upserts);
  return out;
}

/** The copy a pair holds of a Feishu instance key, found by origin tag. */
export async function copyOf(w: TwoWayWorld, pair: Pair, key: string): Promise<RemoteEvent | undefined> {
  return (await spokeEvents(w, pair)).find((r) => r.tag?.pair === pair.id && r.tag.key === key);
}

/** Feishu's event, read as its owner through the Lark SDK. */
export async function feishuEvent(w: TwoWayWorld, pair: Pair, eventId: string) {
  const got = await w.app.feishu.getEvent(pair.feishu, eventId);
  return got === 'deleted' ? undefined : (got as CanonicalEvent | undefined);
}

/** Request-log positions of the three emulators, to count what happened after. */
export async function marks(w: TwoWayWorld): Promise<Record<'feishu' | 'google' | 'graph', number>> {
  const last = async (url: string) => {
    const log = (await (await fetch(`${url}/_emulator/requests?since=0`)).json()) as { seq: number }[];
    return log.length ? log[log.length - 1].seq : 0;
  };
  return { feishu: await last(w.em.feishu), google: await last(w.em.google), graph: await last(w.em.graph) };
}

/** Writes (anything but GET and token/batch-read calls) each emulator logged since `since`. */
export async function writesSince(w: TwoWayWorld, since: Record<'feishu' | 'google' | 'graph', number>) {
  const out: Record<string, string[]> = {};
  for (const side of ['feishu', 'google', 'graph'] as const) {
    const url = w.em[side];
    const log = (await (await fetch(`${url}/_emulator/requests?since=${since[side]}`)).json()) as {
      method: string;
      path: string;
    }[];
    // Graph reads series masters through $batch: its writes are checked on the stored versions instead
    out[side] = log
      .filter((r) => r.method !== 'GET' && !/token|\$batch|batch_get_id|freebusy|\/_emulator\//.test(r.path))
      .map((r) => `${r.method} ${r.path}`);
  }
  return out;
}

/** Graph events' change keys (a write changes one). */
export async function graphVersions(w: TwoWayWorld): Promise<string[]> {
  const state = (await (await fetch(`${w.em.graph}/_emulator/state`)).json()) as any;
  return state.events.map((e: any) => `${e.id}|${e.changeKey}`).sort();
}

/** An edit made in Feishu by the event's owner (their user token, through the Lark SDK). */
export async function feishuEdit(w: TwoWayWorld, pair: Pair, key: string, change: Partial<CanonicalEvent>) {
  const now = await feishuEvent(w, pair, key);
  if (!now) throw new Error(`no Feishu event ${key}`);
  const [r] = await w.app.feishu.write(pair.feishu, [
    { op: 'update', ref: { id: key }, event: { ...now, ...change }, tag: { pair: 'test', key } },
  ]);
  if (!r.ok) throw r.error;
}

/** A single, non-private, timed future event copy of the pair (the n-th). */
export async function someSingle(w: TwoWayWorld, pair: Pair, n = 0): Promise<RemoteEvent | undefined> {
  const all = await spokeEvents(w, pair);
  return all.filter(
    (r) =>
      r.tag?.pair === pair.id &&
      !r.tag.key.startsWith('inv') && // not a seeded invitation (seedInvitation)
      r.event.key.originalTime === 0 &&
      r.event.recurrence.length === 0 &&
      r.event.status !== 'cancelled' &&
      r.event.visibility !== 'private' &&
      'timestamp' in r.event.start &&
      r.event.start.timestamp > NOW,
  )[n];
}

/**
 * An invitation: an event `organizer` organizes with `invitee` as attendee, seeded into both Feishu
 * calendars (as Feishu shows it to each). Returns its event id.
 */
export async function seedInvitation(w: TwoWayWorld, summary: string, start: number): Promise<string> {
  const [invitee, organizer] = w.tenant.users;
  const event_id = `inv${start}-0000-4000-8000-000000000001_0`;
  const person = (u: typeof invitee, isOrganizer: boolean, rsvp: string) => ({
    type: 'user',
    attendee_id: `user_${u.openId.slice(3, 19)}`,
    rsvp_status: rsvp,
    is_optional: false,
    is_organizer: isOrganizer,
    is_external: false,
    display_name: u.name,
    user_id: u.openId,
  });
  const event = {
    event_id,
    organizer_calendar_id: organizer.calendarId,
    summary,
    description: '',
    visibility: 'default',
    attendee_ability: 'none',
    free_busy_status: 'busy',
    reminders: [],
    status: 'confirmed',
    start_time: { timestamp: String(start), timezone: 'UTC' },
    end_time: { timestamp: String(start + 3600), timezone: 'UTC' },
    is_exception: false,
    create_time: String(NOW - 86_400),
    event_organizer: { user_id: organizer.openId, display_name: organizer.name },
    attendees: [person(organizer, true, 'accept'), person(invitee, false, 'needs_action')],
  };
  const res = await fetch(`${w.em.feishu}/_emulator/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      events: [organizer, invitee].map((u) => ({ ...event, calendar_id: u.calendarId })),
    }),
  });
  if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
  return event_id;
}

/** A sync that writes nothing anywhere (Feishu, Google, and Graph by change keys). */
export async function expectQuiet(w: TwoWayWorld) {
  const { expect } = await import('vitest');
  const { runSync } = await import('../../src/app/sync-run.ts');
  const before = await marks(w);
  const versions = await graphVersions(w);
  const r = await runSync(w.app);
  expect(r.ok).toBe(true);
  expect(await writesSince(w, before)).toEqual({ feishu: [], google: [], graph: [] });
  expect(await graphVersions(w)).toEqual(versions);
  return r;
}

/** The Graph SDK client as a user or another tool would use it (not Feisync's connector). */
export function graphApiOf(w: TwoWayWorld) {
  const t = w.tenant.seeds.graph.tenants[0];
  return new GraphClient({
    tenantId: t.tenant_id,
    clientId: t.client_id,
    clientSecret: t.client_secret,
    baseUrl: w.em.graph,
    authorityUrl: w.em.graph,
  }).api;
}

/** A series' instances in Feishu as the first user sees them (Lark SDK, the user's own token). */
export async function feishuInstances(w: TwoWayWorld, eventId: string, from: number, to: number) {
  const user = w.tenant.users[0];
  const app = w.tenant.seeds.feishu.apps[0];
  const client = new lark.Client({
    appId: app.app_id,
    appSecret: app.app_secret,
    domain: w.em.feishu,
    cache: new TokenCache(),
    logger: { error() {}, warn() {}, info() {}, debug() {}, trace() {} },
  });
  const grant = await control(w.em.feishu, 'user-token', { app_id: app.app_id, open_id: user.openId });
  const out: { id: string; start: string; summary: string }[] = [];
  let page_token: string | undefined;
  do {
    const r = await client.calendar.v4.calendarEvent.instances(
      {
        path: { calendar_id: user.calendarId, event_id: eventId },
        params: { start_time: String(from), end_time: String(to), page_size: 500, page_token },
      },
      lark.withUserAccessToken(grant.access_token),
    );
    for (const i of r.data?.items ?? [])
      out.push({ id: i.event_id!, start: i.start_time!.timestamp!, summary: i.summary ?? '' });
    page_token = r.data?.has_more ? r.data.page_token : undefined;
  } while (page_token);
  return out;
}

/**
 * The first user answers an invitation's Google copy as they would in Google Calendar: their own
 * attendee entry patched. Returns the copy as it was before the answer.
 */
export async function answerOnGoogle(w: TwoWayWorld, pair: Pair, key: string, answer: string) {
  const copy = (await copyOf(w, pair, key))!;
  const me = w.tenant.users[0].googleEmail;
  const api = calendarFor(w.em.google, me);
  const g: calendar_v3.Schema$Event = (await api.events.get({ calendarId: me, eventId: copy.ref.id })).data;
  await api.events.patch({
    calendarId: me,
    eventId: copy.ref.id,
    requestBody: {
      attendees: g.attendees!.map((a) => (a.email === me ? { ...a, responseStatus: answer } : a)),
    },
  });
  return g;
}
