/** In-memory Feishu tenant: apps, users, calendars, events, rooms, ACL, tokens and the change sequence. */
import { randomBytes, randomUUID } from 'node:crypto';

export interface App {
  app_id: string;
  app_secret: string;
  encrypt_key?: string;
  verification_token?: string;
  event_url?: string;
  event_mode?: 'webhook' | 'websocket';
  tenant_key?: string;
}
export interface User {
  open_id: string;
  user_id: string;
  union_id: string;
  email: string;
  name: string;
  /** open_department_ids the user sits in directly; absent or empty: the root department "0". */
  department_ids?: string[];
}
/** A department under the root "0" (which is implicit and never seeded). */
export interface Department {
  open_department_id: string;
  /** The tenant's custom id (department_id_type=department_id); defaults to the open id. */
  department_id?: string;
  /** open_department_id of the parent, "0" for a top-level department. */
  parent_department_id: string;
  name: string;
}
export interface Calendar {
  calendar_id: string;
  owner_open_id?: string;
  /** The app whose own calendar this is (tenant-token `primary`). */
  owner_app_id?: string;
  type: string;
  summary: string;
  description?: string;
  permissions?: string;
  color?: number;
  summary_alias?: string;
  is_deleted?: boolean;
  is_third_party?: boolean;
  seq: number;
}
export interface Attendee {
  type: 'user' | 'chat' | 'resource' | 'third_party';
  attendee_id: string;
  rsvp_status?: string;
  is_optional?: boolean;
  is_organizer?: boolean;
  is_external?: boolean;
  display_name?: string;
  user_id?: string;
  chat_id?: string;
  room_id?: string;
  third_party_email?: string;
}
/** A stored event: the API object (no attendees) plus bookkeeping. */
export interface StoredEvent {
  calendar_id: string;
  data: Record<string, any>;
  attendees: Attendee[];
  seq: number;
  deleted: boolean;
}
export interface Room {
  room_id: string;
  name: string;
  third_party?: boolean;
}
export interface Acl {
  calendar_id: string;
  app_id: string;
  role: 'reader' | 'writer' | 'owner';
}
export interface Token {
  kind: 'tenant' | 'app' | 'user';
  app_id: string;
  open_id?: string;
  expiresAt: number;
}
export interface RefreshToken {
  app_id: string;
  open_id: string;
  expiresAt: number;
  used: boolean;
}

export const newId = (bytes = 12) => randomBytes(bytes).toString('hex');

export class Store {
  apps = new Map<string, App>();
  users = new Map<string, User>();
  departments = new Map<string, Department>();
  calendars = new Map<string, Calendar>();
  events = new Map<string, Map<string, StoredEvent>>();
  rooms = new Map<string, Room>();
  acl: Acl[] = [];
  tokens = new Map<string, Token>();
  refreshTokens = new Map<string, RefreshToken>();
  /** Newest tenant/app token per app, reused while it has more than 30 minutes left. */
  lastToken = new Map<string, string>();
  /** The user "signed in" to the emulator's consent page (control call `login`). */
  signedIn: string | undefined;
  /** Authorization codes of the consent page: single use, 5 minutes. */
  codes = new Map<string, { app_id: string; open_id: string; expiresAt: number }>();
  /** app_id -> open_ids subscribed to calendar-list changes. */
  calendarSubs = new Map<string, Set<string>>();
  /** app_id -> calendar_id -> open_ids subscribed to event changes. */
  eventSubs = new Map<string, Map<string, Set<string>>>();
  idempotency = new Map<string, string>();
  /** Invitations that Feishu would have mailed (need_notification not false). */
  notifications: { calendar_id: string; event_id: string; op: string }[] = [];
  seq = 0;

  reset() {
    for (const m of [
      this.apps,
      this.users,
      this.departments,
      this.calendars,
      this.events,
      this.rooms,
      this.tokens,
      this.refreshTokens,
      this.lastToken,
      this.codes,
      this.calendarSubs,
      this.eventSubs,
      this.idempotency,
    ])
      m.clear();
    this.acl = [];
    this.signedIn = undefined;
    this.notifications = [];
    this.seq = 0;
  }

  seed(body: any) {
    for (const a of body.apps ?? []) this.apps.set(a.app_id, { tenant_key: 'tenant_emulated', ...a });
    for (const d of body.departments ?? []) this.departments.set(d.open_department_id, d);
    for (const u of body.users ?? []) this.users.set(u.open_id, u);
    this.checkDirectory();
    for (const r of body.rooms ?? []) this.rooms.set(r.room_id, r);
    for (const c of body.calendars ?? []) this.putCalendar(c);
    for (const a of body.acl ?? []) this.acl.push(a);
    for (const e of body.events ?? []) {
      const { calendar_id, attendees, ...data } = e;
      if (!this.calendars.has(calendar_id)) throw new Error(`seed event on unknown calendar ${calendar_id}`);
      this.putEvent(calendar_id, this.completeEvent(calendar_id, data), attendees ?? [], false);
    }
  }

  /** Seeds must form a tree under "0": known parents, no cycles, users in known departments. */
  private checkDirectory() {
    for (const d of this.departments.values()) {
      const seen = new Set<string>();
      for (let p = d.parent_department_id; p !== '0'; p = this.departments.get(p)!.parent_department_id) {
        if (!this.departments.has(p))
          throw new Error(`seed department ${d.open_department_id}: unknown parent ${p}`);
        if (seen.has(p)) throw new Error(`seed department ${d.open_department_id}: parent cycle`);
        seen.add(p);
      }
    }
    for (const u of this.users.values())
      for (const id of u.department_ids ?? [])
        if (id !== '0' && !this.departments.has(id))
          throw new Error(`seed user ${u.open_id}: unknown department ${id}`);
  }

  /** The departments a user sits in directly ("0" when none is named). */
  departmentsOf(u: User): string[] {
    return u.department_ids?.length ? u.department_ids : ['0'];
  }

  putCalendar(c: Partial<Calendar> & { calendar_id: string }): Calendar {
    const prev = this.calendars.get(c.calendar_id);
    const cal: Calendar = {
      type: 'shared',
      summary: '',
      permissions: 'private',
      color: -1,
      ...prev,
      ...c,
      seq: ++this.seq,
    } as Calendar;
    this.calendars.set(cal.calendar_id, cal);
    if (!this.events.has(cal.calendar_id)) this.events.set(cal.calendar_id, new Map());
    return cal;
  }

  /** Fill the read-only fields Feishu sets on every event. */
  completeEvent(calendar_id: string, data: Record<string, any>): Record<string, any> {
    const event_id = data.event_id ?? `${randomUUID()}_0`;
    const out: Record<string, any> = {
      organizer_calendar_id: calendar_id,
      summary: '',
      description: '',
      visibility: 'default',
      attendee_ability: 'none',
      free_busy_status: 'busy',
      color: -1,
      reminders: [],
      status: 'confirmed',
      is_exception: false,
      create_time: String(Math.floor(Date.now() / 1000)),
      ...data,
      event_id,
    };
    // Feishu names the organizer (by open_id, the default user_id_type): the owner of the calendar.
    const owner = this.users.get(this.calendars.get(calendar_id)?.owner_open_id ?? '');
    if (!out.event_organizer && owner)
      out.event_organizer = { user_id: owner.open_id, display_name: owner.name };
    const original = Number(event_id.slice(event_id.lastIndexOf('_') + 1));
    if (original !== 0) {
      out.is_exception = true;
      out.recurring_event_id ??= `${event_id.slice(0, event_id.lastIndexOf('_'))}_0`;
      delete out.recurrence;
    }
    out.app_link = `https://applink.feishu.cn/client/calendar/event/detail?calendarId=${encodeURIComponent(
      calendar_id,
    )}&key=${event_id.slice(0, event_id.lastIndexOf('_'))}&originalTime=${original}&startTime=${
      out.start_time?.timestamp ?? 0
    }`;
    return out;
  }

  putEvent(calendar_id: string, data: Record<string, any>, attendees: Attendee[], deleted: boolean) {
    const ev: StoredEvent = {
      calendar_id,
      data,
      attendees: attendees.map((a) => ({ ...a, attendee_id: a.attendee_id ?? `${a.type}_${newId(6)}` })),
      seq: ++this.seq,
      deleted,
    };
    this.events.get(calendar_id)!.set(data.event_id, ev);
    return ev;
  }

  event(calendar_id: string, event_id: string): StoredEvent | undefined {
    return this.events.get(calendar_id)?.get(event_id);
  }

  /** The role an app (tenant token) or a user (user token) has on a calendar, or undefined. */
  role(cal: Calendar, token: Token): 'reader' | 'writer' | 'owner' | undefined {
    if (token.kind === 'user') return cal.owner_open_id === token.open_id ? 'owner' : undefined;
    if (cal.owner_app_id === token.app_id) return 'owner';
    return this.acl.find((a) => a.calendar_id === cal.calendar_id && a.app_id === token.app_id)?.role;
  }

  subscribersOf(app_id: string, calendar_id: string): string[] {
    return [...(this.eventSubs.get(app_id)?.get(calendar_id) ?? [])];
  }

  state() {
    return {
      apps: [...this.apps.values()],
      users: [...this.users.values()],
      departments: [...this.departments.values()],
      calendars: [...this.calendars.values()].map(({ seq: _s, ...c }) => c),
      events: [...this.events.values()].flatMap((m) =>
        [...m.values()].map((e) => ({
          calendar_id: e.calendar_id,
          ...e.data,
          ...(e.deleted ? { status: 'cancelled' } : {}),
          attendees: e.attendees,
        })),
      ),
      rooms: [...this.rooms.values()],
      acl: this.acl,
      subscriptions: {
        calendars: Object.fromEntries([...this.calendarSubs].map(([a, s]) => [a, [...s]])),
        events: Object.fromEntries(
          [...this.eventSubs].map(([a, m]) => [a, Object.fromEntries([...m].map(([c, s]) => [c, [...s]]))]),
        ),
      },
      notifications: this.notifications,
    };
  }
}
