/**
 * Busy time first (issue 11): an initial sync puts every event on both spokes before any attendee
 * is read, then adds the attendees nearest first; a restart in the middle of the attendees stage
 * (a refused read, then a SIGKILL) never strips attendees already on a copy, fills the rest, and
 * ends in exact parity without duplicates. Attendee reads are slowed or refused with the Feishu
 * emulator's faults on the two paths that read them (event get, attendee list); both spokes are
 * read back through their connectors.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type App, compose, composeSpokes, policyOf } from '../../src/app/compose.ts';
import { generateTenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators } from '../../src/app/emulators.ts';
import { createMetrics } from '../../src/app/metrics.ts';
import { resolvePairs } from '../../src/app/pairs.ts';
import { exact, readParity } from '../../src/app/parity-run.ts';
import { startService } from '../../src/app/serve.ts';
import { readStatus } from '../../src/app/status.ts';
import { runSync } from '../../src/app/sync-run.ts';
import { createWorker, type PullJob } from '../../src/app/worker.ts';
import { loadConfig } from '../../src/config/index.ts';
import { BridgeError, formatKey } from '../../src/core/index.ts';
import { type Job, sendPull, startBoss } from '../../src/jobs/boss.ts';
import type { CalendarConnector, RemoteEvent } from '../../src/ports/index.ts';
import { type AttendeeResult, fillAttendees } from '../../src/sync/attendees.ts';
import { distance } from '../../src/sync/nearest.ts';
import { openWorld } from '../support/world.ts';

const bin = join(import.meta.dirname, '../../bin/feisync.mjs');
const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The two Feishu paths that read attendees: the event get and the attendee list. */
const READS = '/calendars/[^/]+/events/[^/]+(/attendees)?$';
const isRead = (path: string) => new RegExp(READS).test(path);
/** Replaces the Feishu emulator's fault rules (posting rules adds to those there). */
async function faults(em: Emulators, rules: unknown[]) {
  await fetch(`${em.feishu}/_emulator/faults`, { method: 'DELETE' });
  if (rules.length) await control(em.feishu, 'faults', rules);
}

async function world(users: number, events: number, options: { singles?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'feisync-busy-'));
  dirs.push(dir);
  const tenant = generateTenant({ users, events, now: Math.floor(Date.now() / 1000) });
  // single events only: no series and their exceptions
  if (options.singles)
    tenant.seeds.feishu.events = tenant.seeds.feishu.events.filter((e) => !e.recurrence && !e.is_exception);
  const w = await openWorld(tenant, dir);
  closers.push(() => w.em.close());
  return { ...w, tenant, dir };
}

const requests = async (
  em: Emulators,
  since = 0,
): Promise<{ seq: number; method: string; path: string; status: number; at: number; ms: number }[]> =>
  (await fetch(`${em.feishu}/_emulator/requests?since=${since}`)).json() as any;

/**
 * Every copy on the spokes, read back through their connectors: attendees per copy (by spoke, pair
 * and Feishu key), and how many copies carry each key (more than one: a duplicate).
 */
async function copies(app: Pick<App, 'spokes'>, pairs: Awaited<ReturnType<typeof resolvePairs>>['pairs']) {
  const attendees = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const p of pairs) {
    for await (const page of app.spokes[p.spoke]!.listChanges(p.target, null)) {
      for (const r of page.upserts as RemoteEvent[]) {
        if (r.tag?.pair !== p.id) continue;
        const k = `${p.spoke}|${p.id}|${r.tag.key}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        attendees.set(k, r.event.attendees.length);
      }
    }
  }
  return { attendees, duplicates: [...seen].filter(([, n]) => n > 1).map(([k]) => k) };
}

describe('busy time first', () => {
  it('puts every event on both spokes before any attendee read ends, then the attendees, nearest first', async () => {
    const w = await world(2, 200);
    closers.push(() => w.app.close());
    const { pairs, attendeeFor } = await resolvePairs(w.app);
    // a dry run says in which stage each write would go, and writes nothing
    const dry = await runSync(w.app, { dryRun: true });
    const planned = dry.pairs.flatMap((p) => p.plan ?? []);
    expect(planned.filter((a) => a.kind === 'create').length).toBeGreaterThan(150);
    expect(
      planned.filter((a) => /written without its attendees first, then with them$/.test(a.reason)).length,
    ).toBeGreaterThan(20);
    expect((await copies(w.app, pairs)).attendees.size).toBe(0);
    const since = (await requests(w.em)).length;
    // the first reads of each calendar (the connector has 20 in flight per calendar) take 20 s;
    // every other read 300 ms
    await faults(w.em, [
      { match: { method: 'GET', path: READS }, times: 40, action: { delayMs: 20_000 } },
      { match: { method: 'GET', path: READS }, action: { delayMs: 300 } },
    ]);
    let atEvents: Promise<{ reads: number; copies: Awaited<ReturnType<typeof copies>> }> | undefined;
    const stages: string[] = [];
    const report = await runSync(w.app, {
      onStage: (s) => {
        stages.push(s.stage);
        if (s.stage === 'events')
          atEvents = (async () => ({
            reads: (await requests(w.em, since)).filter((r) => isRead(r.path)).length,
            copies: await copies(w.app, pairs),
          }))();
      },
    });
    await faults(w.em, []);
    const log = (await requests(w.em, since)).filter((r) => isRead(r.path) && r.status === 200);
    expect(stages).toEqual(['events', 'attendees']);
    expect(report.totals.failed).toBe(0);
    expect(report.attendeesPending).toBe(0);
    expect(report.stages.attendees).toBeGreaterThan(report.stages.events);

    const early = await atEvents!;
    // no attendee read had come back, yet every copy was there, none with attendees
    expect(early.reads).toBe(0);
    const late = await copies(w.app, pairs);
    expect([...early.copies.attendees.keys()].sort()).toEqual([...late.attendees.keys()].sort());
    expect(early.copies.duplicates).toEqual([]);
    const googleEarly = [...early.copies.attendees].filter(([k]) => k.startsWith('google|'));
    expect(googleEarly.length).toBeGreaterThan(150);
    expect(googleEarly.every(([, n]) => n === 0)).toBe(true);
    // and now they have their attendees: exact parity (attendees included) on both spokes
    const withAttendees = [...late.attendees].filter(([k, n]) => k.startsWith('google|') && n > 0);
    expect(withAttendees.length).toBeGreaterThan(20);
    const { perSpoke } = await readParity(w.app, pairs, policyOf(w.app.config), attendeeFor);
    for (const p of Object.values(perSpoke)) expect(exact(p)).toBe(true);

    // nearest first: per calendar, every read is as near as every read started 40 reads later
    // (reads in flight, 20 per calendar, may come back in any order)
    const listed = new Map<string, number>();
    for (const p of pairs)
      for await (const page of w.app.feishu.listChanges(p.feishu, null, { attendees: 'defer' }))
        for (const u of page.upserts) listed.set(u.ref.id, distance(u.event, Date.now() / 1000));
    const byCalendar = new Map<string, number[]>();
    for (const r of log) {
      const [cal, rest] = r.path.split('/calendars/')[1].split('/events/');
      const d = listed.get(decodeURIComponent(rest.split('/')[0]))!;
      byCalendar.set(cal, [...(byCalendar.get(cal) ?? []), d]);
    }
    expect(byCalendar.size).toBe(2);
    for (const mine of byCalendar.values()) {
      expect(mine.length).toBeGreaterThan(75);
      const late = mine.map((d, i) => [d, Math.min(...mine.slice(i + 40))]).filter(([d, m]) => d > m);
      expect(late).toEqual([]);
    }
  }, 180_000);

  it('a restart in the middle of the attendees stage strips nothing and fills the rest', async () => {
    const w = await world(2, 160);
    const { pairs } = await resolvePairs(w.app);
    // the first 60 attendee reads go through, then Feishu refuses them
    await faults(w.em, [
      { match: { method: 'GET', path: READS }, times: 60, action: { delayMs: 0 } },
      {
        match: { method: 'GET', path: READS },
        action: { status: 200, body: { code: 194001, msg: 'no permission to read attendees' } },
      },
    ]);
    const first = await runSync(w.app);
    expect(first.totals.failed).toBeGreaterThan(0);
    expect(first.attendeesPending).toBeGreaterThan(0);
    expect(first.totals.created).toBeGreaterThan(150);
    const status = await readStatus(w.app.db.prisma);
    const waiting = status.pairs.reduce((n, p) => n + p.links.attendeesPending, 0);
    expect(waiting).toBe(first.attendeesPending);
    await w.app.close();

    // from here on the spokes are watched: a copy's attendees never go down. The watcher lists as
    // fast as it can, so its connectors are not paced: paced at the providers' quotas (which these
    // emulators do not enforce), it ran out of a Google user's minute and waited, and the test with it
    const spokes = { spokes: composeSpokes(loadConfig(w.configFile), w.configFile, { unthrottled: true }) };
    const best = new Map<string, number>();
    const stripped: string[] = [];
    const duplicates = new Set<string>();
    const look = async () => {
      const now = await copies(spokes, pairs);
      for (const d of now.duplicates) duplicates.add(d);
      for (const [k, n] of now.attendees) {
        if (n < (best.get(k) ?? 0)) stripped.push(`${k}: ${best.get(k)} -> ${n}`);
        best.set(k, Math.max(n, best.get(k) ?? 0));
      }
    };
    await look();
    const filledBefore = [...best.values()].filter((n) => n > 0).length;
    expect(filledBefore).toBeGreaterThan(10);
    let watching = true;
    const watcher = (async () => {
      while (watching) await look();
    })();

    // slow reads, and the second run killed once the attendees stage has written something
    await faults(w.em, [{ match: { method: 'GET', path: READS }, action: { delayMs: 1500 } }]);
    const env = { ...process.env, FEISHU_URL: w.em.feishu, GOOGLE_URL: w.em.google, GRAPH_URL: w.em.graph };
    const killed = await cli(
      ['sync', '--config', w.configFile, '--json'],
      w.dir,
      env,
      (line) => line.type === 'progress' && line.stage === 'attendees' && line.read > 0 && !line.done,
    );
    await faults(w.em, []);
    // a full pull of copies that hold attendees leaves them whole for the attendees stage
    const last = await cli(['sync', '--config', w.configFile, '--json', '--full'], w.dir, env);
    watching = false;
    await watcher;
    await look();

    expect(stripped).toEqual([]);
    expect([...duplicates]).toEqual([]);
    expect(killed.signal, killed.out.slice(-2000)).toBe('SIGKILL');
    expect(killed.lines.some((l) => l.type === 'stage' && l.stage === 'events')).toBe(true);
    expect(last.code, last.out.slice(-2000)).toBe(0);
    const result = last.lines.find((l) => l.type === 'result');
    expect(result.attendeesPending).toBe(0);
    expect(result.totals).toMatchObject({ created: 0, failed: 0 });
    expect(result.totals.updated).toBeGreaterThan(0);
    // both stages in the progress lines: the pull's events, then the attendees read of those to read
    const progress = last.lines.filter((l) => l.type === 'progress');
    expect(progress.some((l) => l.stage === 'events')).toBe(true);
    expect(progress.find((l) => l.stage === 'attendees' && l.done)).toMatchObject({
      read: expect.any(Number),
      of: expect.any(Number),
    });
    expect([...best.values()].filter((n) => n > 0).length).toBeGreaterThan(filledBefore);

    const app = await compose(loadConfig(w.configFile), w.configFile, { unthrottled: true });
    closers.push(() => app.close());
    const again = await resolvePairs(app);
    const { perSpoke } = await readParity(app, again.pairs, policyOf(app.config), again.attendeeFor);
    for (const [spoke, p] of Object.entries(perSpoke))
      expect({ spoke, missing: p.missing, extra: p.extra, differing: p.differing }).toEqual({
        spoke,
        missing: 0,
        extra: 0,
        differing: 0,
      });
    const after = await readStatus(app.db.prisma);
    expect(after.pairs.every((p) => p.links.attendeesPending === 0)).toBe(true);
  }, 300_000);

  it('writes the attendees in full write requests, and what it read before a stop', async () => {
    // single events: a series costs Graph requests of its own around its writes (its master read
    // before an update), not counted here
    const w = await world(2, 1400, { singles: true });
    closers.push(() => w.app.close());
    // every attendee read refused: the events go on the spokes, every link marked
    await faults(w.em, [
      {
        match: { method: 'GET', path: READS },
        action: { status: 200, body: { code: 194001, msg: 'no permission to read attendees' } },
      },
    ]);
    const first = await runSync(w.app);
    await faults(w.em, []);
    expect(first.totals.created).toBeGreaterThan(900);
    expect(first.attendeesPending).toBeGreaterThan(first.totals.created / 2);
    const { pairs, attendeeFor } = await resolvePairs(w.app);
    const deps = {
      feishu: w.app.feishu,
      spokes: w.app.spokes,
      store: w.app.links,
      policy: policyOf(w.app.config),
      attendeeFor,
      // no room ledger: recording bookings reads a declined room's calendar, a request not counted here
    };
    const calendars = [...new Set(pairs.map((p) => p.feishu.id))];
    expect(calendars).toHaveLength(2);
    const spokeLog = async (url: string, since: number) =>
      (
        (await (await fetch(`${url}/_emulator/requests`)).json()) as {
          seq: number;
          method: string;
          path: string;
        }[]
      ).filter((r) => r.seq > since);
    const last = async (url: string) => Math.max(0, ...(await spokeLog(url, 0)).map((r) => r.seq));
    /** The attendees stage of one calendar, with the spoke write requests it made. */
    const stage = async (calendar: string, feishu: CalendarConnector) => {
      const since = { google: await last(w.em.google), graph: await last(w.em.graph) };
      const progress: { done: number; of: number }[] = [];
      const out = await fillAttendees(
        pairs.filter((p) => p.feishu.id === calendar),
        {
          ...deps,
          feishu,
          onProgress: ({ done, of }) => progress.push({ done, of }),
        },
      );
      const requests = {
        google: (await spokeLog(w.em.google, since.google)).filter((r) => r.path !== '/token'),
        graph: (await spokeLog(w.em.graph, since.graph)).filter((r) => !r.path.endsWith('/token')),
      };
      return { out, requests, progress };
    };
    const per = { google: 100, graph: 20 } as Record<string, number>;
    const minimum = (out: AttendeeResult[], spoke: string) =>
      out
        .filter((r) => r.pair.spoke === spoke)
        .reduce((n, r) => n + Math.ceil((r.counts.updated + r.counts.created) / per[spoke]), 0);

    // the whole stage of the first calendar
    const whole = await stage(calendars[0], w.app.feishu);
    expect(whole.out.every((r) => !r.error && r.left === 0 && r.counts.failed === 0)).toBe(true);
    for (const spoke of ['google', 'graph']) {
      const written = whole.out.filter((r) => r.pair.spoke === spoke).map((r) => r.counts.updated);
      expect(Math.min(...written)).toBeGreaterThan(per[spoke]);
    }
    // progress counts events handled: every one in the end
    expect(whole.progress.at(-1)!.done).toBe(whole.progress.at(-1)!.of);
    expect(whole.requests.google.length).toBe(minimum(whole.out, 'google'));
    expect(whole.requests.graph.length).toBe(minimum(whole.out, 'graph'));

    // the second calendar: the reads break off after some 130 events; each one read is written
    // (or found as it should be) on every pair, none left waiting
    const yielded: RemoteEvent[] = [];
    const breaking: CalendarConnector = {
      ...w.app.feishu,
      listChanges: w.app.feishu.listChanges.bind(w.app.feishu),
      async *readAttendees(calendar, events) {
        for await (const run of w.app.feishu.readAttendees!(calendar, events)) {
          yielded.push(...run.filter((r): r is RemoteEvent => !(r instanceof BridgeError)));
          yield run;
          if (yielded.length >= 130) throw new BridgeError('transient', 'connection reset');
        }
      },
    };
    const broken = await stage(calendars[1], breaking);
    expect(broken.out.every((r) => /connection reset/.test(r.error ?? ''))).toBe(true);
    expect(yielded.length).toBeGreaterThanOrEqual(130);
    // what was not read still waits
    expect(broken.out.every((r) => r.left > 0)).toBe(true);
    for (const pair of broken.out.map((r) => r.pair)) {
      const read = yielded.filter((r) => !r.attendeesPending).map((r) => r.event.key);
      const links = await w.app.links.byUids(pair.id, [...new Set(read.map((k) => k.uid))]);
      const waiting = read.filter((k) => links.get(formatKey(k))?.attendeesPending);
      expect({ pair: pair.id, waiting }).toEqual({ pair: pair.id, waiting: [] });
    }
    expect(broken.requests.google.length).toBe(minimum(broken.out, 'google'));
    expect(broken.requests.graph.length).toBe(minimum(broken.out, 'graph'));
  }, 240_000);

  it("a refresh while an initial pull writes leaves the calendar's attendees stage to that pull", async () => {
    // Consents come one after another: each refresh queued a stage for every calendar with copies
    // waiting for their attendees, so a calendar whose initial pull was half written got a stage
    // that, started before the pull's own, passed over the events not written yet and left them to a
    // second stage (10 users x 1,000 events: three calendars' stages left 10 to 24 events each)
    const w = await world(2, 40);
    const { pairs } = await resolvePairs(w.app);
    const [a, b] = w.tenant.users.map((u) => u.calendarId);
    // both calendars pulled, their attendees not read: Feishu refuses the reads
    await faults(w.em, [
      {
        match: { method: 'GET', path: READS },
        action: { status: 200, body: { code: 194001, msg: 'no permission to read attendees' } },
      },
    ]);
    const first = await runSync(w.app);
    expect(first.attendeesPending).toBeGreaterThan(0);
    await faults(w.em, []);
    // calendar a as while its initial pull writes (copies waiting, no cursor yet); b as a restart
    // half way through its attendees stage (its cursor saved)
    const ofA = pairs.filter((p) => p.feishu.id === a).map((p) => p.id);
    await w.app.db.prisma.cursor.deleteMany({ where: { pairId: { in: ofA } } });
    const boss = await startBoss(w.app.db);
    closers.push(() => boss.stop({ graceful: false, wait: true }));
    const metrics = createMetrics(w.app.db, { feishu: [], google: [], graph: [] });
    closers.push(async () => metrics.close());
    const worker = createWorker({ app: w.app, boss, metrics, log: pino({ level: 'silent' }) });
    await worker.refresh();
    const queued = async (queue: 'pull' | 'attendees') =>
      ((await boss.fetch<{ calendarId: string; includeNew?: boolean }>(queue, { batchSize: 10 })) ?? []).map(
        (j) => j.data,
      );
    // a gets its pull, which starts the stage once it has listed; b its stage, to go on
    expect((await queued('pull')).map((j) => j.calendarId).sort()).toEqual([a, b].sort());
    expect(await queued('attendees')).toEqual([{ calendarId: b }]);
  });

  it('a refresh sends no pull for a calendar whose initial pull runs here for the same pairs', async () => {
    // Each consent refreshes every calendar still without its cursor: one whose initial pull was
    // under way got a second pull, which found the lock taken and came back every two seconds for
    // as long as the first wrote (950 deferred pulls in the 20-user initial sync)
    const w = await world(2, 40);
    const [a, b] = w.tenant.users.map((u) => u.calendarId);
    // Google answers every write after 1.5 s: a's initial pull lasts a while
    await control(w.em.google, 'faults', [
      { match: { method: 'POST', path: '/batch/.*' }, action: { delayMs: 1500 } },
    ]);
    const boss = await startBoss(w.app.db);
    closers.push(() => boss.stop({ graceful: false, wait: true }));
    const metrics = createMetrics(w.app.db, { feishu: [], google: [], graph: [] });
    closers.push(async () => metrics.close());
    const worker = createWorker({ app: w.app, boss, metrics, log: pino({ level: 'silent' }) });
    await worker.refresh([], 'new');
    const queued = async () =>
      ((await boss.fetch<{ calendarId: string }>('pull', { batchSize: 10 })) ?? []).map(
        (j) => j.data.calendarId,
      );
    expect((await queued()).sort()).toEqual([a, b].sort());
    const pulled = worker.pull({ data: { calendarId: a } } as Job<PullJob>);
    const google = async () => (await (await fetch(`${w.em.google}/_emulator/requests`)).json()) as unknown[];
    await until('a writing', async () => (await google()).length > 0);
    await worker.refresh([], 'new');
    // b is still without its cursor (its pull was taken above and not run): sent again; a is not
    expect(await queued()).toEqual([b]);
    await pulled;
    await worker.refresh([], 'new');
    expect(await queued()).toEqual([b]);
  }, 120_000);

  it('a refresh subscribes to the changes of several new users side by side', async () => {
    // each subscription answered after 300 ms: one after another, a user's pulls waited for every
    // user before them
    const w = await world(4, 40);
    await faults(w.em, [{ match: { method: 'POST', path: 'subscription$' }, action: { delayMs: 300 } }]);
    const boss = await startBoss(w.app.db);
    closers.push(() => boss.stop({ graceful: false, wait: true }));
    const metrics = createMetrics(w.app.db, { feishu: [], google: [], graph: [] });
    closers.push(async () => metrics.close());
    const worker = createWorker({ app: w.app, boss, metrics, log: pino({ level: 'silent' }) });
    const since = (await requests(w.em)).at(-1)?.seq ?? 0;
    await worker.refresh([], 'new');
    const subs = (await requests(w.em, since)).filter((r) => r.path.endsWith('subscription'));
    // two per user (their calendar list, their calendar's events)
    expect(subs).toHaveLength(8);
    // some began before an earlier one was answered
    const overlapping = subs.filter((b, i) => subs.slice(0, i).some((a) => b.at < a.at + a.ms));
    expect(overlapping.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it("resolving the pairs reads several users' calendars side by side", async () => {
    // each primary calendar answered after 300 ms: one user after another, a tenant of a thousand
    // users waited five minutes before its first pull
    const w = await world(4, 10);
    await faults(w.em, [{ match: { path: 'calendars/primary$' }, action: { delayMs: 300 } }]);
    const since = (await requests(w.em)).at(-1)?.seq ?? 0;
    const { pairs } = await resolvePairs(w.app);
    expect(pairs).toHaveLength(8);
    const primaries = (await requests(w.em, since)).filter((r) => r.path.endsWith('calendars/primary'));
    expect(primaries).toHaveLength(4);
    const overlapping = primaries.filter((b, i) => primaries.slice(0, i).some((a) => b.at < a.at + a.ms));
    expect(overlapping).toHaveLength(3);
  }, 120_000);

  it('serve: pulls of a calendar go on while its attendees stage reads, which then fills every copy', async () => {
    const w = await world(2, 160);
    await w.app.close();
    // every attendee read takes 5 s: the attendees stages last a while
    await faults(w.em, [{ match: { method: 'GET', path: READS }, action: { delayMs: 5000 } }]);
    const s = await startService(loadConfig(w.configFile), w.configFile, {
      unthrottled: true,
      port: 0,
      log: pino({ level: 'silent' }),
    });
    closers.push(() => s.close());
    const status = () => readStatus(s.app.db.prisma, { bossSchema: s.app.db.bossSchema });
    const waiting = (st: Awaited<ReturnType<typeof status>>) =>
      st.pairs.reduce((n, p) => n + p.links.attendeesPending, 0);
    // the initial pulls: every event on both spokes, their attendees still to come
    const afterPulls = await until('both initial pulls', async () => {
      const st = await status();
      const pulled = st.runs.filter((r) => r.kind === 'pull' && r.status === 'ok');
      return new Set(pulled.map((r) => (r.report as any)?.calendar)).size === 2 ? st : undefined;
    });
    expect(waiting(afterPulls)).toBeGreaterThan(50);
    const googleCopies = async () => {
      const st = (await (await fetch(`${w.em.google}/_emulator/state`)).json()) as any;
      return (st.events as any[]).filter((e) => e.status !== 'cancelled').map((e) => e.summary as string);
    };
    const pairs = s.worker.resolution()!.pairs;
    const early = await copies(s.app, pairs);

    // a new event in Feishu while the attendees stages read: its pull is not held behind them
    const now = Math.floor(Date.now() / 1000);
    await control(w.em.feishu, 'events', {
      op: 'create',
      calendar_id: w.tenant.users[0].calendarId,
      event: {
        summary: 'Made during the attendees stage',
        start_time: { timestamp: String(now + 86_400) },
        end_time: { timestamp: String(now + 88_000) },
      },
    });
    await sendPull(s.boss, w.tenant.users[0].calendarId);
    await until('the new event on Google', async () =>
      (await googleCopies()).includes('Made during the attendees stage'),
    );
    expect(waiting(await status())).toBeGreaterThan(0);

    await until('every attendee on the spokes', async () => waiting(await status()) === 0, 120_000);
    await faults(w.em, []);
    const r = s.worker.resolution()!;
    const { perSpoke } = await readParity(s.app, r.pairs, policyOf(s.app.config), r.attendeeFor);
    for (const p of Object.values(perSpoke)) expect(exact(p)).toBe(true);
    // the attendees stages created nothing: every event was there after the pulls
    const late = await copies(s.app, pairs);
    expect(late.duplicates).toEqual([]);
    expect([...late.attendees.keys()].filter((k) => !early.attendees.has(k))).toHaveLength(2);
    expect([...early.attendees.keys()].every((k) => late.attendees.has(k))).toBe(true);
    const runs = (await status()).runs.filter((x) => x.kind === 'attendees');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((x) => x.status === 'ok')).toBe(true);
    // their reports say what they wrote on each spoke: the attendees added, nothing created or deleted
    const written = runs.flatMap((x) => (x.report as any).written);
    const updated = (spoke: string) =>
      written.filter((x) => x.spoke === spoke).reduce((n, x) => n + x.updated, 0);
    expect(updated('google')).toBeGreaterThan(20);
    expect(updated('graph')).toBe(updated('google'));
    expect(updated('google') + updated('graph')).toBe(
      runs.reduce((n, x) => n + (x.counts as any).updated, 0),
    );
    expect(written.reduce((n, x) => n + x.created + x.deleted, 0)).toBe(0);
    expect(new Set(written.map((x) => x.owner)).size).toBe(4);
  }, 240_000);
});

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs the CLI; kills it with SIGKILL at the first JSON line `killAt` accepts, if given. */
function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv, killAt?: (line: any) => boolean) {
  return new Promise<{ code: number | null; signal: string | null; lines: any[]; out: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const lines: any[] = [];
      let rest = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        rest += b.toString();
        const parts = rest.split('\n');
        rest = parts.pop() ?? '';
        for (const l of parts.filter((x) => x.startsWith('{'))) {
          const line = JSON.parse(l);
          lines.push(line);
          if (killAt?.(line)) child.kill('SIGKILL');
        }
      });
      child.stderr.on('data', (b: Buffer) => {
        out += b.toString();
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, lines, out });
      });
    },
  );
}
