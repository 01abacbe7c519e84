/**
 * The Graph emulator's state: tenants, users, calendars, events (singles, series masters and
 * exceptions; plain occurrences are computed from their master), subscriptions and the change log
 * that delta reads.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Tenant {
  tenant_id: string;
  client_id: string;
  client_secret: string;
}
export interface User {
  id: string;
  userPrincipalName: string;
  mail: string;
  displayName?: string;
}
export interface Calendar {
  userId: string;
  id: string;
  name: string;
  isDefaultCalendar?: boolean;
  changeKey?: string;
}
export interface Room {
  id?: string;
  emailAddress: string;
  displayName: string;
  capacity?: number;
}

/** One stored event. `data` is the Graph JSON minus start/end, which live in the fields below. */
export interface StoredEvent {
  userId: string;
  calendarId: string;
  id: string;
  data: Record<string, any>;
  /** Instants (ms) of start and end; for all-day events, midnight in `zone`. */
  startMs: number;
  endMs: number;
  /** Zone names as the client sent them (Windows or IANA), and the resolved IANA zones. */
  startName: string;
  endName: string;
  startZone: string;
  endZone: string;
  allDay: boolean;
  /** singleValueExtendedProperties: normalized id -> { id as sent, value }. */
  props: Map<string, { id: string; value: string }>;
  /** Change sequence number of the last change (for delta). */
  seq: number;
  createdMs: number;
  /** Series master: original starts (ms) of deleted occurrences. */
  cancelled: Set<number>;
  /** Exception: the original start (ms) of the occurrence it replaces, and its master. */
  originalStartMs?: number;
  seriesMasterId?: string;
}

export interface Subscription {
  id: string;
  userId: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  clientState?: string;
  expirationDateTime: string;
  tenantId: string;
  applicationId: string;
}

/** A change, for delta: the instance ids it touched (computed lazily for masters). */
export interface Change {
  seq: number;
  userId: string;
  calendarId: string;
  /** A snapshot of the event before the change (master, single or exception), if it existed. */
  before?: StoredEvent;
  /** Ids that were removed outright (deleted occurrences). */
  ids: string[];
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** An opaque Graph-looking id made of letters and digits only (occurrence ids add `_` + time). */
export function newId(prefix = 'AAMkAG'): string {
  const bytes = randomBytes(40);
  let s = prefix;
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}
export const newChangeKey = () => randomBytes(12).toString('base64');

/** Normalized extended-property id: type and GUID case-insensitive, Name part case-sensitive. */
export function propKey(id: string): string {
  const m = /^(\w+)\s+\{([0-9a-fA-F-]+)\}\s+(Name|Id)\s+(.+)$/i.exec(id.trim());
  if (!m) return id.trim();
  const tail = m[3].toLowerCase() === 'id' ? m[4].toLowerCase() : m[4];
  return `${m[1].toLowerCase()} {${m[2].toLowerCase()}} ${m[3].toLowerCase()} ${tail}`;
}

/** The events, also indexed by mailbox and calendar (a calendar view need not scan the tenant). */
export class EventMap extends Map<string, StoredEvent> {
  private readonly byCalendar = new Map<string, Map<string, StoredEvent>>();

  private slot(userId: string, calendarId: string) {
    const k = `${userId}|${calendarId}`;
    let m = this.byCalendar.get(k);
    if (!m) {
      m = new Map();
      this.byCalendar.set(k, m);
    }
    return m;
  }

  override set(id: string, ev: StoredEvent): this {
    const old = super.get(id);
    if (old) this.byCalendar.get(`${old.userId}|${old.calendarId}`)?.delete(id);
    this.slot(ev.userId, ev.calendarId).set(id, ev);
    return super.set(id, ev);
  }

  override delete(id: string): boolean {
    const old = super.get(id);
    if (old) this.byCalendar.get(`${old.userId}|${old.calendarId}`)?.delete(id);
    return super.delete(id);
  }

  override clear(): void {
    this.byCalendar.clear();
    super.clear();
  }

  /** The stored events of one calendar. */
  inCalendar(userId: string, calendarId: string): Iterable<StoredEvent> {
    return this.byCalendar.get(`${userId}|${calendarId}`)?.values() ?? [];
  }
}

export class Store {
  tenants = new Map<string, Tenant>();
  tokens = new Map<string, { tenantId: string; clientId: string; expiresMs: number }>();
  users: User[] = [];
  /** The mailboxes of seeded rooms (not seeded users, but addressable like them). */
  roomUsers: User[] = [];
  calendars: Calendar[] = [];
  rooms: Room[] = [];
  events = new EventMap();
  /** transactionId (per user) -> event id and creation time. */
  transactions = new Map<string, { id: string; atMs: number }>();
  subscriptions = new Map<string, Subscription>();
  changes: Change[] = [];
  seq = 0;
  /** Room copies: `${organizer item id}|${room user id}` -> the copy's id in the room mailbox. */
  roomCopies = new Map<string, string>();
  /** The rooms' answers: `${organizer item id}|${room user id}` -> answer and the times it answered. */
  roomAnswers = new Map<string, { signature: string; answer: string }>();

  reset() {
    this.tenants.clear();
    this.tokens.clear();
    this.users = [];
    this.roomUsers = [];
    this.calendars = [];
    this.rooms = [];
    this.events.clear();
    this.transactions.clear();
    this.subscriptions.clear();
    this.changes = [];
    this.seq = 0;
    this.roomCopies.clear();
    this.roomAnswers.clear();
  }

  user(idOrName: string): User | undefined {
    const k = decodeURIComponent(idOrName).toLowerCase();
    const match = (u: User) =>
      u.id.toLowerCase() === k || u.userPrincipalName.toLowerCase() === k || u.mail?.toLowerCase() === k;
    return this.users.find(match) ?? this.roomUsers.find(match);
  }

  defaultCalendar(userId: string): Calendar {
    let cal = this.calendars.find((c) => c.userId === userId && c.isDefaultCalendar);
    if (!cal) {
      cal = {
        userId,
        id: `AAMkCal${createHash('sha256').update(userId).digest('hex').slice(0, 32)}`,
        name: 'Calendar',
        isDefaultCalendar: true,
        changeKey: newChangeKey(),
      };
      this.calendars.push(cal);
    }
    return cal;
  }

  calendar(userId: string, id: string): Calendar | undefined {
    return this.calendars.find((c) => c.userId === userId && c.id === id);
  }

  /** Records a change for delta and bumps the global sequence. */
  change(ev: { userId: string; calendarId: string }, before?: StoredEvent, ids: string[] = []): number {
    this.seq += 1;
    this.changes.push({ seq: this.seq, userId: ev.userId, calendarId: ev.calendarId, before, ids });
    return this.seq;
  }
}

export function cloneEvent(ev: StoredEvent): StoredEvent {
  return {
    ...ev,
    data: structuredClone(ev.data),
    props: new Map(ev.props),
    cancelled: new Set(ev.cancelled),
  };
}
