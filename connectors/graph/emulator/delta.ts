/**
 * `GET /users/{id}/calendarView/delta`: rounds of pages (`@odata.nextLink` with `$skiptoken`), ending
 * in `@odata.deltaLink` (`$deltatoken`). A later round from a delta token returns the instances changed
 * since, and `@removed` for those gone or moved out of the window. Tokens expire after
 * DELTA_TOKEN_TTL_S of emulator time (Graph documents no fixed lifetime, only eviction): 410.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, EmRequest, EmResponse } from '../../emulator/index.ts';
import { gfail } from './errors.ts';
import { render } from './eventio.ts';
import { instanceSeq, occurrenceId, viewInstances } from './instances.ts';
import type { Store, User } from './model.ts';
import { baseUrl, preferences, viewWindow } from './query.ts';
import { occurrenceStarts } from './recurrence.ts';

export const DELTA_TOKEN_TTL_S = 7 * 24 * 3600;

interface Round {
  userId: string;
  calendarId: string;
  fromMs: number;
  toMs: number;
  /** The change sequence the round reflects; the next round starts after it. */
  baseline: number;
  createdMs: number;
  /** For a skip token: the rest of the round. */
  rest?: unknown[];
}

export class DeltaRounds {
  private tokens = new Map<string, Round>();
  constructor(
    private store: Store,
    private clock: Clock,
  ) {}

  reset() {
    this.tokens.clear();
  }

  handle(req: EmRequest, user: User): EmResponse {
    for (const q of ['$select', '$expand', '$filter', '$orderby', '$search']) {
      if (req.query.has(q))
        gfail(400, 'ErrorInvalidUrlQuery', `The query option '${q}' is not supported with delta.`);
    }
    const skip = req.query.get('$skiptoken');
    const delta = req.query.get('$deltatoken');
    const pageSize = Math.min(Math.max(preferences(req).maxPageSize ?? 10, 1), 1000);
    const token = skip ?? delta;
    if (token !== null) {
      const round = this.tokens.get(token);
      if (!round || round.userId !== user.id || this.expired(round) || (skip !== null) !== !!round.rest) {
        this.tokens.delete(token);
        return gfail(
          410,
          'SyncStateNotFound',
          'The sync state generation is not found; perform a full sync.',
        );
      }
      if (skip !== null) {
        this.tokens.delete(token);
        return this.page(req, round, round.rest!, pageSize);
      }
      const items = this.changes(req, round);
      return this.page(req, { ...round, baseline: this.store.seq }, items, pageSize);
    }
    const { fromMs, toMs } = viewWindow(req);
    const calendarId = this.store.defaultCalendar(user.id).id;
    const round: Round = {
      userId: user.id,
      calendarId,
      fromMs,
      toMs,
      baseline: this.store.seq,
      createdMs: this.clock.now(),
    };
    const prefer = preferences(req).zone;
    const items = viewInstances(this.store, user.id, calendarId, fromMs, toMs).map((e) =>
      render(e, { prefer }),
    );
    return this.page(req, round, items, pageSize);
  }

  private expired(round: Round) {
    return this.clock.now() - round.createdMs > DELTA_TOKEN_TTL_S * 1000;
  }

  private changes(req: EmRequest, round: Round): unknown[] {
    const { store } = this;
    const since = round.baseline;
    const current = viewInstances(store, round.userId, round.calendarId, round.fromMs, round.toMs);
    const currentIds = new Set(current.map((e) => e.id));
    const prefer = preferences(req).zone;
    const upserts = current.filter((e) => instanceSeq(store, e) > since).map((e) => render(e, { prefer }));
    const gone = new Set<string>();
    for (const c of store.changes) {
      if (c.seq <= since || c.userId !== round.userId || c.calendarId !== round.calendarId) continue;
      const ids = [...c.ids];
      if (c.before?.data.type === 'seriesMaster') {
        // Masters are not in a view; their former occurrences are.
        for (const ms of occurrenceStarts(c.before, round.fromMs, round.toMs))
          ids.push(occurrenceId(c.before.id, ms));
      } else if (c.before) ids.push(c.before.id);
      for (const id of ids)
        if (!currentIds.has(id) && store.events.get(id)?.data.type !== 'seriesMaster') gone.add(id);
    }
    const removed = [...gone].map((id) => ({
      '@odata.type': '#microsoft.graph.event',
      id,
      '@removed': { reason: 'deleted' },
    }));
    return [...upserts, ...removed];
  }

  private page(req: EmRequest, round: Round, items: unknown[], size: number): EmResponse {
    const value = items.slice(0, size);
    const rest = items.slice(size);
    const token = randomBytes(24).toString('base64url');
    const link = `${baseUrl(req)}/v1.0/users/${encodeURIComponent(round.userId)}/calendarView/delta`;
    const body: Record<string, unknown> = {
      '@odata.context': `${baseUrl(req)}/v1.0/$metadata#Collection(event)`,
      value,
    };
    if (rest.length > 0) {
      this.tokens.set(token, { ...round, rest });
      body['@odata.nextLink'] = `${link}?$skiptoken=${token}`;
    } else {
      this.tokens.set(token, { ...round, rest: undefined, createdMs: this.clock.now() });
      body['@odata.deltaLink'] = `${link}?$deltatoken=${token}`;
    }
    return { status: 200, body };
  }
}
