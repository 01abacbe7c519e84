/**
 * Drift on the spokes, made the way a user or another tool would: through each provider's own API
 * (the real SDKs against the emulators), never through Feisync's connectors.
 */
import { randomUUID } from 'node:crypto';
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { GraphClient } from '../../connectors/graph/client.ts';
import { ORIGIN_PROPERTY } from '../../connectors/graph/mapper.ts';
import type { OriginTag } from '../../src/ports/index.ts';

export interface Drift {
  /** Changes the title of an event (a copy, or an occurrence of one). */
  edit(id: string, summary: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** A new event at `start` (Unix seconds), one hour long, with `tag` as its origin tag if given. */
  insert(summary: string, start: number, tag?: OriginTag): Promise<string>;
}

export function googleDrift(url: string, user: string, calendarId = user): Drift {
  const api = calendarFor(url, user);
  const time = (t: number) => ({ dateTime: new Date(t * 1000).toISOString(), timeZone: 'UTC' });
  return {
    async edit(id, summary) {
      await api.events.patch({ calendarId, eventId: id, requestBody: { summary } });
    },
    async remove(id) {
      await api.events.delete({ calendarId, eventId: id });
    },
    async insert(summary, start, tag) {
      const r = await api.events.insert({
        calendarId,
        requestBody: {
          summary,
          start: time(start),
          end: time(start + 3600),
          ...(tag ? { extendedProperties: { private: { feisyncPair: tag.pair, feisyncKey: tag.key } } } : {}),
        },
      });
      return r.data.id!;
    },
  };
}

export function graphDrift(
  url: string,
  tenant: { tenant_id: string; client_id: string; client_secret: string },
  mailbox: string,
): Drift {
  const { api } = new GraphClient({
    tenantId: tenant.tenant_id,
    clientId: tenant.client_id,
    clientSecret: tenant.client_secret,
    baseUrl: url,
    authorityUrl: url,
  });
  const user = `/users/${encodeURIComponent(mailbox)}`;
  const time = (t: number) => ({ dateTime: new Date(t * 1000).toISOString().slice(0, 19), timeZone: 'UTC' });
  return {
    async edit(id, summary) {
      await api.api(`${user}/events/${encodeURIComponent(id)}`).patch({ subject: summary });
    },
    async remove(id) {
      await api.api(`${user}/events/${encodeURIComponent(id)}`).delete();
    },
    async insert(summary, start, tag) {
      const r = await api.api(`${user}/events`).post({
        subject: summary,
        start: time(start),
        end: time(start + 3600),
        transactionId: randomUUID(),
        ...(tag
          ? { singleValueExtendedProperties: [{ id: ORIGIN_PROPERTY, value: `${tag.pair}|${tag.key}` }] }
          : {}),
      });
      return r.id as string;
    },
  };
}
