/** Shapes of the sample tenant (see tenant.ts) and of the Feishu, Google and Graph seeds it writes. */
export interface TenantOptions {
  /** Number of users (default 20). */
  users?: number;
  /** Exact number of Feishu events, exceptions and cancelled occurrences included (default 2000). */
  events?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Anchor, Unix seconds (default {@link DEFAULT_NOW}). The sync window is [now - 30 d, now + 365 d]. */
  now?: number;
  appId?: string;
  appSecret?: string;
  /** Feishu e-mail domain (default example.cn). */
  feishuDomain?: string;
  /** Google e-mail domain (default example.com). */
  googleDomain?: string;
  /** Exchange e-mail domain (default contoso.com). */
  exchangeDomain?: string;
}

export interface TenantUser {
  name: string;
  feishuEmail: string;
  googleEmail: string;
  exchangeEmail: string;
  openId: string;
  userId: string;
  unionId: string;
  /** The Feishu primary calendar id. */
  calendarId: string;
  /** Home zone (IANA); most of the user's events are in it. */
  timeZone: string;
  graphUserId: string;
  graphCalendarId: string;
}

export interface TenantRoom {
  feishuRoomId: string;
  name: string;
  googleEmail: string;
  googleResourceId: string;
  exchangeEmail: string;
  capacity: number;
}

export interface FeishuTime {
  timestamp?: string;
  date?: string;
  timezone: string;
}

export interface FeishuAttendee {
  type: 'user' | 'resource' | 'third_party';
  attendee_id: string;
  rsvp_status: 'needs_action' | 'accept' | 'tentative' | 'decline';
  is_optional: boolean;
  is_organizer: boolean;
  is_external: boolean;
  display_name: string;
  user_id?: string;
  room_id?: string;
  third_party_email?: string;
}

/** A seed event: `calendar_id` plus the CalendarEvent as the API returns it, plus its attendees. */
export interface FeishuEvent {
  calendar_id: string;
  event_id: string;
  organizer_calendar_id: string;
  summary: string;
  description: string;
  start_time: FeishuTime;
  end_time: FeishuTime;
  vchat?: {
    vc_type: 'vc' | 'third_party';
    icon_type: 'vc' | 'default';
    description: string;
    meeting_url: string;
  };
  visibility: 'default' | 'public' | 'private';
  attendee_ability: 'none' | 'can_see_others' | 'can_invite_others' | 'can_modify_event';
  free_busy_status: 'busy' | 'free';
  location?: { name: string; address: string };
  color: number;
  reminders: Array<{ minutes: number }>;
  /** Bare RRULE, on series masters only. */
  recurrence?: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  is_exception: boolean;
  /** The master's `{uid}_0`, on exceptions only. */
  recurring_event_id?: string;
  app_link: string;
  create_time: string;
  event_organizer: { user_id: string; display_name: string };
  attendees?: FeishuAttendee[];
}

export interface FeishuSeed {
  apps: Array<{
    app_id: string;
    app_secret: string;
    encrypt_key: string;
    verification_token: string;
    event_mode: 'webhook';
  }>;
  users: Array<{ open_id: string; user_id: string; union_id: string; email: string; name: string }>;
  calendars: Array<{
    calendar_id: string;
    owner_open_id: string;
    type: 'primary';
    summary: string;
    description: string;
    permissions: 'show_only_free_busy';
  }>;
  events: FeishuEvent[];
  rooms: Array<{ room_id: string; name: string }>;
  acl: Array<{ calendar_id: string; app_id: string; role: 'writer' }>;
}

export interface GoogleSeed {
  users: Array<{ email: string }>;
  calendars: Array<{ id: string; owner: string }>;
  events: never[];
  resources: Array<{ resourceId: string; resourceEmail: string; resourceName: string; capacity: number }>;
}

export interface GraphSeed {
  tenants: Array<{ tenant_id: string; client_id: string; client_secret: string }>;
  users: Array<{ id: string; userPrincipalName: string; mail: string }>;
  calendars: Array<{ userId: string; id: string; name: string; isDefaultCalendar: true }>;
  events: never[];
  rooms: Array<{ emailAddress: string; displayName: string; capacity: number }>;
}

/** Counts over the Feishu events: `events` = `singles` + `series` + `exceptions`. */
export interface TenantExpected {
  events: number;
  /** Events that are neither a series master nor an exception. */
  singles: number;
  /** Series masters (events with a recurrence). */
  series: number;
  /** Series without COUNT or UNTIL (a subset of `series`). */
  openEnded: number;
  /** Exception events (moved, edited and cancelled occurrences). */
  exceptions: number;
  /** Exceptions with status cancelled (a subset of `exceptions`). */
  cancelledOccurrences: number;
  /** Events (of any kind) with `date` times. */
  allDay: number;
  /** Events with visibility private. */
  private: number;
}

export interface Tenant {
  users: TenantUser[];
  rooms: TenantRoom[];
  seeds: { feishu: FeishuSeed; google: GoogleSeed; graph: GraphSeed };
  /**
   * A Feisync config (the YAML as an object). `${FEISHU_URL}`, `${GOOGLE_URL}` and `${GRAPH_URL}` are
   * env references of the config language: pass them in the env of `parseConfig` or replace them.
   * `server.port` and `server.public_url` read `FEISYNC_PORT` / `FEISYNC_PUBLIC_URL`, with defaults.
   */
  config: Record<string, any>;
  expected: TenantExpected;
  /** The anchor and the sync window [now - 30 d, now + 365 d], Unix seconds. */
  now: number;
  window: { start: number; end: number };
}

/** 2026-11-30T00:00:00Z. */
