/**
 * An in-memory CalendarConnector: a stand-in for a provider in tests of the sync core (our own port,
 * not an SDK). Keeps a change log for cursors, and can be told to fail writes for chosen keys.
 */
import { BridgeError, type CanonicalEvent, formatKey, type Provider } from '../../src/core/index.ts';
import type {
  CalendarConnector,
  CalendarInfo,
  CalendarRef,
  Capabilities,
  ChangePage,
  RemoteEvent,
  WriteOp,
  WriteResult,
} from '../../src/ports/index.ts';

interface Stored {
  id: string;
  version: number;
  event: CanonicalEvent;
  deleted: boolean;
  seq: number;
  tag?: { pair: string; key: string };
  parent?: string;
}

export class MemoryConnector implements CalendarConnector {
  readonly calendars = new Map<string, Map<string, Stored>>();
  seq = 0;
  nextId = 0;
  writes = 0;
  /** Keys (uid_originalTime) whose next writes fail, with the error kind. */
  failing = new Map<string, BridgeError['kind']>();
  pageSize = 100;
  /** Ops in each write call, in order. */
  calls: number[] = [];
  /** As a provider's (e.g. `writesPerRequest`); none by default. */
  capabilities?: Capabilities;
  /** Throw after this many pages of a listing (a failed read). */
  failListingAfterPages?: number;

  constructor(readonly kind: Provider) {}

  private cal(ref: CalendarRef) {
    const k = `${ref.owner}/${ref.id}`;
    let c = this.calendars.get(k);
    if (!c) {
      c = new Map();
      this.calendars.set(k, c);
    }
    return c;
  }

  /** As a user would: add or change an event directly (id = its key string). */
  put(ref: CalendarRef, event: CanonicalEvent) {
    const id = formatKey(event.key);
    const prev = this.cal(ref).get(id);
    this.cal(ref).set(id, { id, version: (prev?.version ?? 0) + 1, event, deleted: false, seq: ++this.seq });
  }

  /** As a buggy writer or a user copying an event would: a stored event with any tag (or none). */
  plant(
    ref: CalendarRef,
    event: CanonicalEvent,
    tag?: { pair: string; key: string },
    parent?: string,
  ): string {
    const id = `planted${++this.nextId}`;
    this.cal(ref).set(id, { id, version: 1, event, deleted: false, seq: ++this.seq, tag, parent });
    return id;
  }

  drop(ref: CalendarRef, id: string) {
    const s = this.cal(ref).get(id);
    if (s) Object.assign(s, { deleted: true, seq: ++this.seq, version: s.version + 1 });
  }

  live(ref: CalendarRef): Stored[] {
    return [...this.cal(ref).values()].filter((s) => !s.deleted);
  }

  async *listChanges(ref: CalendarRef, cursor: string | null): AsyncIterable<ChangePage> {
    if (cursor === 'expired') {
      yield { upserts: [], removals: [], expired: true };
      return;
    }
    const since = cursor ? Number(cursor) : 0;
    const items = [...this.cal(ref).values()].filter((s) => s.seq > since && (cursor !== null || !s.deleted));
    const top = this.seq;
    let pages = 0;
    for (let i = 0; i === 0 || i < items.length; i += this.pageSize) {
      if (this.failListingAfterPages !== undefined && pages >= this.failListingAfterPages) {
        throw new BridgeError('transient', 'listing failed');
      }
      pages += 1;
      const slice = items.slice(i, i + this.pageSize);
      const last = i + this.pageSize >= items.length;
      const upserts: RemoteEvent[] = slice
        .filter((s) => !s.deleted)
        .map((s) => ({
          ref: { id: s.id, version: String(s.version) },
          event: s.event,
          tag: s.tag,
          ...(s.parent ? { parent: s.parent } : {}),
        }));
      const removals = slice.filter((s) => s.deleted).map((s) => ({ ref: { id: s.id }, key: s.event.key }));
      yield { upserts, removals, ...(last ? { cursor: String(top) } : {}) };
    }
  }

  async write(ref: CalendarRef, ops: WriteOp[]): Promise<WriteResult[]> {
    const cal = this.cal(ref);
    this.calls.push(ops.length);
    return ops.map((op): WriteResult => {
      this.writes += 1;
      const key = op.op === 'remove' ? cal.get(op.ref.id)?.tag?.key : op.tag.key;
      const failure = key && this.failing.get(key);
      if (failure) return { ok: false, error: new BridgeError(failure, `injected ${failure}`) };
      if (op.op === 'create') {
        const existing = [...cal.values()].find(
          (s) => s.tag?.key === op.tag.key && s.tag.pair === op.tag.pair,
        );
        if (existing && !existing.deleted)
          return { ok: true, ref: { id: existing.id, version: String(existing.version) } };
        const id = `ev${++this.nextId}`;
        cal.set(id, {
          id,
          version: 1,
          event: op.event,
          deleted: false,
          seq: ++this.seq,
          tag: op.tag,
          parent: op.parent?.id,
        });
        return { ok: true, ref: { id, version: '1' } };
      }
      const s = cal.get(op.ref.id);
      if (!s || s.deleted) {
        return op.op === 'remove' ? { ok: true } : { ok: false, error: new BridgeError('not_found', 'gone') };
      }
      if (op.op === 'remove') {
        Object.assign(s, { deleted: true, seq: ++this.seq, version: s.version + 1 });
        // removing a series master removes its exceptions too, as on the real providers
        for (const x of cal.values()) if (x.parent === s.id) x.deleted = true;
        return { ok: true };
      }
      Object.assign(s, { event: op.event, seq: ++this.seq, version: s.version + 1 });
      return { ok: true, ref: { id: s.id, version: String(s.version) } };
    });
  }

  async listCalendars(owner: string): Promise<CalendarInfo[]> {
    return [{ id: 'primary', summary: owner, primary: true, writable: true }];
  }
}
