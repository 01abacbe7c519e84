/**
 * One Feishu room event (`third_party_meeting_room_event_*`) carried out on every spoke: what
 * `feisync serve` runs from its room-booking queue. See src/sync/rooms.ts for the two ways a room is
 * booked; this file gathers what the plan needs (the organizer, the Feishu event, the bookings so far),
 * brings the organizer's mirrored meeting up to date when a room rides on it, runs the steps and
 * records one RoomBooking row per room, occurrence and spoke.
 */
import type { FeishuHint } from '../../connectors/feishu/delivery.ts';
import type { Config } from '../config/index.ts';
import { type CanonicalEvent, formatKey } from '../core/index.ts';
import type { CalendarRef } from '../ports/index.ts';
import {
  bookingsIn,
  bookingsOf,
  roomLedger,
  type StatusCounts,
  saveBooking,
  zeroStatusCounts,
} from '../store/bookings.ts';
import { fillAttendees } from '../sync/attendees.ts';
import type { Pair, Spoke, SyncPolicy } from '../sync/pair.ts';
import { project } from '../sync/project.ts';
import { pullCalendar } from '../sync/pull.ts';
import {
  type BookingMode,
  type BookingStatus,
  isLive,
  planRoomEvent,
  type RoomAction,
  type RoomEvent,
} from '../sync/rooms.ts';
import { type App, policyOf } from './compose.ts';
import { type Resolution, resolvePairs } from './pairs.ts';
import { runStep, type StepContext } from './rooms-steps.ts';

export type RoomHint = Extract<FeishuHint, { type: 'room' }>;

export interface RoomBookingResult {
  roomId: string;
  name?: string;
  spoke: Spoke;
  /** The room's address on the spoke (none when unmapped). */
  room: string | null;
  mode: BookingMode | null;
  status: BookingStatus;
  /** Why it is not booked: the room's holder, a failure, the missing mapping. */
  detail?: string;
}

export interface RoomEventResult {
  /** The Feishu instance key `uid_originalTime`. */
  key: string;
  action: RoomAction;
  organizer: string;
  bookings: RoomBookingResult[];
  /** Rows written by status, for metrics. */
  counts: StatusCounts;
}

type Explicit = Extract<Config['users'][number], { feishu: string }>;

interface Organizer {
  openId?: string;
  user?: Explicit;
  pairs: Pair[];
  resolution?: Resolution;
}

/**
 * Carries out one room event on every spoke. A room or spoke that fails is recorded (`failed`, with
 * the reason) and the others go on; it throws only when Feishu or the database cannot be reached,
 * for the job to be retried. Run the events of one uid one at a time (a queue's singleton key per
 * uid): two at once would race on the same bookings.
 */
export async function handleRoomEvent(
  app: App,
  hint: RoomHint,
  options: { now?: number; spokes?: Spoke[] } = {},
): Promise<RoomEventResult> {
  const policy = policyOf(app.config, options.now);
  // a recheck looks again only where it recorded something (it never books a room on a new spoke)
  const spokes = (['google', 'graph'] as const).filter(
    (s) => app.spokes[s] && (!options.spokes || options.spokes.includes(s)),
  );
  const organizer = await findOrganizer(app, hint.organizer.openId);
  const read = await readFeishu(app, organizer.openId, hint);
  const ev: RoomEvent = {
    action: read.gone ? 'deleted' : hint.action,
    key: { uid: hint.uid, originalTime: hint.originalTime },
    // what Feishu holds now wins over the delivery, which may be older
    start: read.event && 'timestamp' in read.event.start ? read.event.start.timestamp : hint.start,
    end: read.event && 'timestamp' in read.event.end ? read.event.end.timestamp : hint.end,
    roomIds: hint.roomIds,
    organizer: hint.organizer,
  };
  const bookings = (await bookingsOf(app.db.prisma, ev.key.uid)).filter((b) => spokes.includes(b.spoke));
  const attend: Partial<Record<Spoke, boolean>> = {};
  for (const spoke of spokes) {
    attend[spoke] = organizer.pairs.some((p) => p.spoke === spoke) && roomsRideOnMirror(policy, read.event);
  }
  const steps = planRoomEvent(ev, { rooms: app.config.rooms, spokes, attend, bookings });
  const mirrored =
    steps.some((s) => s.kind === 'attend') ||
    (ev.action === 'deleted' && bookings.some((b) => b.mode === 'attend' && isLive(b)));
  if (mirrored && organizer.pairs.length) await pullOrganizer(app, organizer, policy, ev.key.uid);
  const label = organizerLabel(organizer, read.event);
  const ctx: StepContext = {
    ev,
    spokes: app.spokes,
    organizer: label,
    feishu: read.event,
    window: policy.window,
    mirror: (spoke) => mirrorOf(app, organizer, spoke, ev),
  };
  const result: RoomEventResult = {
    key: formatKey(ev.key),
    action: ev.action,
    organizer: label,
    bookings: [],
    counts: zeroStatusCounts(),
  };
  for (const step of steps) {
    const { row } = await runStep(ctx, step);
    await saveBooking(app.db.prisma, row);
    result.counts[row.status] += 1;
    const name = app.config.rooms.find((r) => r.feishu === row.roomId)?.name;
    result.bookings.push({
      roomId: row.roomId,
      ...(name ? { name } : {}),
      spoke: row.spoke,
      room: row.spokeRoom,
      mode: row.mode,
      status: row.status,
      ...(row.lastError ? { detail: row.lastError } : {}),
    });
  }
  return result;
}

/**
 * Runs again the room events of bookings still waiting for the room's answer (pending), refused
 * (conflict) or failed, from what was recorded: a pending room may have answered since, a busy room
 * may be free now. What is booked stays as it is. For `feisync serve` to schedule.
 */
export async function recheckRoomBookings(
  app: App,
  options: {
    statuses?: BookingStatus[];
    now?: number;
    /**
     * Leave bookings recorded this recently (ms) for a later check: their answer came with a write
     * or a check just now (an initial sync records thousands), and asking again would only repeat it.
     */
    freshMs?: number;
  } = {},
): Promise<RoomEventResult[]> {
  const before = options.freshMs ? new Date(Date.now() - options.freshMs) : undefined;
  const due = await bookingsIn(
    app.db.prisma,
    options.statuses ?? ['pending', 'conflict', 'failed'],
    500,
    before,
  );
  const keys = [...new Map(due.map((b) => [formatKey(b.key), b])).values()];
  const results: RoomEventResult[] = [];
  for (const b of keys) {
    const same = (await bookingsOf(app.db.prisma, b.key.uid)).filter(
      (x) => x.key.originalTime === b.key.originalTime && isLive(x),
    );
    if (!b.startAt || !b.endAt) continue;
    const hint: RoomHint = {
      type: 'room',
      action: 'updated',
      uid: b.key.uid,
      originalTime: b.key.originalTime,
      eventId: formatKey(b.key),
      roomIds: [...new Set([...same.map((x) => x.roomId), b.roomId])],
      start: b.startAt.getTime() / 1000,
      end: b.endAt.getTime() / 1000,
      organizer: b.organizerId ? { openId: b.organizerId } : {},
    };
    const where = [...new Set([...same.map((x) => x.spoke), b.spoke])];
    results.push(await handleRoomEvent(app, hint, { now: options.now, spokes: where }));
  }
  return results;
}

/** A room rides on the mirrored meeting only when the pair copies attendees of this event. */
function roomsRideOnMirror(policy: SyncPolicy, event: CanonicalEvent | undefined): boolean {
  if (!policy.fields.includes('attendees')) return false;
  if (!event) return true;
  const p = project(event, policy);
  return 'event' in p && (event.visibility !== 'private' || policy.privateEvents === 'copy');
}

/** The config user behind an open_id, with their pairs (users without consent have none). */
async function findOrganizer(app: App, openId: string | undefined): Promise<Organizer> {
  if (!openId) return { pairs: [] };
  const users = app.config.users.filter((u): u is Explicit => 'feishu' in u);
  let user = users.find((u) => u.feishu === openId);
  if (!user) {
    const emails = users.map((u) => u.feishu).filter((f) => f.includes('@'));
    const ids = emails.length ? await app.feishu.lookupUsersByEmail(emails) : new Map<string, string>();
    user = users.find((u) => ids.get(u.feishu) === openId);
  }
  if (!user) return { openId, pairs: [] };
  const resolution = await resolvePairs(app, user.feishu);
  return { openId, user, pairs: resolution.pairs.filter((p) => p.feishu.owner === openId), resolution };
}

/** The event as Feishu holds it now, read with the organizer's token; `gone` when Feishu cancelled it. */
async function readFeishu(
  app: App,
  openId: string | undefined,
  hint: RoomHint,
): Promise<{ event?: CanonicalEvent; gone?: true }> {
  if (!openId || !(await app.userTokens.get(openId).catch(() => undefined))) return {};
  try {
    const event = await app.feishu.getEvent(
      { owner: openId, id: 'primary' },
      formatKey({ uid: hint.uid, originalTime: hint.originalTime }),
    );
    // not found on the primary calendar may mean another calendar: only a deleted event is gone
    if (event === 'deleted' || event?.status === 'cancelled') return { gone: true };
    return event ? { event } : {};
  } catch {
    // unreadable (another calendar, a lapsed token): go by the delivery alone
    return {};
  }
}

/**
 * The organizer's calendars pulled, and this meeting's attendees (its rooms) read now if a full pull
 * left them for the attendees stage: the room's answer is read from the copy.
 */
async function pullOrganizer(app: App, organizer: Organizer, policy: SyncPolicy, uid: string) {
  const byCalendar = new Map<string, Pair[]>();
  for (const p of organizer.pairs) byCalendar.set(p.feishu.id, [...(byCalendar.get(p.feishu.id) ?? []), p]);
  for (const group of byCalendar.values()) {
    const deps = {
      feishu: app.feishu,
      spokes: app.spokes,
      store: app.links,
      policy,
      attendeeFor: organizer.resolution?.attendeeFor,
      rooms: roomLedger(app.db.prisma),
    };
    await pullCalendar(group, deps);
    await fillAttendees(group, deps, { uids: [uid] });
  }
}

async function mirrorOf(
  app: App,
  organizer: Organizer,
  spoke: Spoke,
  ev: RoomEvent,
): Promise<{ calendar: CalendarRef; id: string } | { missing: string }> {
  let why: string | undefined;
  for (const pair of organizer.pairs.filter((p) => p.spoke === spoke)) {
    const link = (await app.links.byUids(pair.id, [ev.key.uid])).get(formatKey(ev.key));
    if (link?.spokeId && !link.tombstone) return { calendar: pair.target, id: link.spokeId };
    why ??= link?.lastError ?? undefined;
  }
  return {
    missing: `the meeting is not on the organizer's ${spoke} calendar${why ? `: ${why}` : ' (outside the sync window, skipped, or not synced yet)'}`,
  };
}

function organizerLabel(o: Organizer, event: CanonicalEvent | undefined): string {
  const name = event?.organizer?.name;
  const email = o.user?.feishu.includes('@') ? o.user.feishu : undefined;
  if (name && email) return `${name} <${email}>`;
  return name ?? email ?? o.openId ?? 'an unknown Feishu user';
}
