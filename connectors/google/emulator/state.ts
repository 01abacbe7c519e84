/** The Google emulator's in-memory world. Events are kept in the API's own JSON shape. */
import type { Clock } from '../../emulator/index.ts';

export type Json = Record<string, any>;

export interface Stored {
  ev: Json;
  /** Change sequence of the last mutation (drives sync tokens). */
  seq: number;
}

export interface Calendar {
  id: string;
  owner: string;
  summary: string;
  timeZone: string;
  events: Map<string, Stored>;
  /** Ids ever used in this calendar (deleted ids stay reserved). */
  ever: Set<string>;
}

export interface Channel {
  id: string;
  resourceId: string;
  calendarId: string;
  address: string;
  token?: string;
  expiration: number;
  messageNumber: number;
  owner: string;
}

export interface Limits {
  enabled: boolean;
  perUser: number;
  perProject: number;
  windowMs: number;
  /** Answer project-quota overruns with 429 instead of 403 rateLimitExceeded. */
  projectStatus: 403 | 429;
}

export const defaultLimits = (): Limits => ({
  enabled: true,
  perUser: 600,
  perProject: 10_000,
  windowMs: 60_000,
  projectStatus: 403,
});

export class GoogleState {
  users = new Map<string, { email: string; isAdmin?: boolean }>();
  calendars = new Map<string, Calendar>();
  resources: Json[] = [];
  tokens = new Map<string, { sub: string; scopes: string[]; exp: number; project: string }>();
  syncTokens = new Map<string, { calendarId: string; seq: number; issued: number; single: boolean }>();
  channels = new Map<string, Channel>();
  /** Subjects that obtained tokens, in order (the `sub` claims seen). */
  subjects: string[] = [];
  seq = 0;
  limits = defaultLimits();
  /** Requests refused for quota (batch parts included). */
  quotaRejections = 0;

  constructor(readonly clock: Clock) {}

  reset() {
    this.users.clear();
    this.calendars.clear();
    this.resources = [];
    this.tokens.clear();
    this.syncTokens.clear();
    this.channels.clear();
    this.subjects = [];
    this.seq = 0;
    this.quotaRejections = 0;
    this.limits = defaultLimits();
  }

  addUser(email: string, isAdmin?: boolean) {
    this.users.set(email.toLowerCase(), { email, isAdmin });
    if (!this.calendars.has(email)) this.addCalendar({ id: email, owner: email, summary: email });
  }

  addCalendar(c: { id: string; owner: string; summary?: string; timeZone?: string }) {
    const existing = this.calendars.get(c.id);
    if (existing) {
      existing.owner = c.owner;
      if (c.summary) existing.summary = c.summary;
      if (c.timeZone) existing.timeZone = c.timeZone;
      return existing;
    }
    const cal: Calendar = {
      id: c.id,
      owner: c.owner,
      summary: c.summary ?? c.id,
      timeZone: c.timeZone ?? 'UTC',
      events: new Map(),
      ever: new Set(),
    };
    this.calendars.set(c.id, cal);
    return cal;
  }

  nextSeq() {
    this.seq += 1;
    return this.seq;
  }

  /** Etags are quoted decimal strings, like Google's. */
  etag(seq: number) {
    return `"${3_100_000_000_000_000 + seq * 1000}"`;
  }

  nowIso() {
    return new Date(this.clock.now()).toISOString();
  }
}
