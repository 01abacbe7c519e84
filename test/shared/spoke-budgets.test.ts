/**
 * Two workers (two connectors, each with its own database connection) share the spokes' quotas
 * through the database: Google's per-user and per-project windows and Graph's per-mailbox 10-minute
 * window. The emulators count what really arrives; with each worker keeping its own budget instead,
 * the same load is refused by them (the control that shows the test can fail).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulator, serviceAccount } from '../../connectors/google/emulator/testkit.ts';
import { createGoogleConnector } from '../../connectors/google/index.ts';
import { GraphClient } from '../../connectors/graph/client.ts';
import { startGraphEmulator } from '../../connectors/graph/emulator/index.ts';
import { SEED } from '../../connectors/graph/emulator/testkit.ts';
import { type ConcurrencySlots, LocalBudget, type RateBudget } from '../../src/ports/index.ts';
import { SharedBudget, slicesOf } from '../../src/store/budget.ts';
import { type Database, openDatabase } from '../../src/store/db.ts';
import { SharedSlots } from '../../src/store/slots.ts';

const url = process.env.TEST_DATABASE_URL;
const schema = `workers_spoke_budget_${process.pid}`;
let a: Database;
let b: Database;

describe.skipIf(!url)('spoke budgets shared by two workers on Postgres', () => {
  beforeAll(async () => {
    const target = `${url}${url!.includes('?') ? '&' : '?'}schema=${schema}`;
    a = await openDatabase({ url: target });
    b = await openDatabase({ url: target, migrate: false });
  });
  afterAll(async () => {
    await a?.executeSql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await a?.executeSql(`DROP SCHEMA IF EXISTS "${schema}_pgboss" CASCADE`);
    await a?.close();
    await b?.close();
  });

  const windows = async (prefix: string) =>
    (
      await a.executeSql(
        `SELECT "key", "windowMs", "start"::text AS start, "taken" FROM "RateWindow" WHERE "key" LIKE $1 ORDER BY 1, 3`,
        [`${prefix}%`],
      )
    ).rows as { key: string; windowMs: number; start: string; taken: number }[];

  it("keeps Google's per-user and per-project quotas for both workers together", async () => {
    const em = await emulator();
    try {
      // the emulator's windows are sliding ones of 1 s; the workers' budget windows are 1.5 s (+5%)
      await em.control('limits', { enabled: true, perUser: 8, perProject: 12, windowSeconds: 1 });
      const worker = (budget: RateBudget) =>
        createGoogleConnector({
          credentials: serviceAccount(),
          rootUrl: em.url,
          tokenUrl: `${em.url}/token`,
          rate: { perUser: 8, perProject: 12, windowMs: 1500 },
          retry: { attempts: 1 }, // a quota refusal fails the call instead of being retried
          budget,
        });
      const load = (budgets: [RateBudget, RateBudget]) =>
        Promise.allSettled(
          budgets.flatMap((budget) => {
            const g = worker(budget);
            return Array.from({ length: 12 }, (_, i) =>
              g.listCalendars(i % 2 ? 'ann@example.com' : 'bob@example.com'),
            );
          }),
        );

      // whenever the burst starts: the budget's sub-windows keep any sliding window under the limit
      const shared = await load([new SharedBudget(a.executeSql), new SharedBudget(b.executeSql)]);
      expect(shared.filter((r) => r.status === 'rejected')).toEqual([]);
      expect((await em.state()).quotaRejections).toBe(0);
      const rows = await windows('google:');
      const sum = (suffix: string) =>
        rows.filter((r) => r.key.endsWith(suffix)).reduce((n, r) => n + r.taken, 0);
      expect(sum(':project')).toBe(24);
      expect(sum(':user:ann@example.com')).toBe(12);
      expect(sum(':user:bob@example.com')).toBe(12);
      for (const r of rows) expect(r.taken).toBeLessThanOrEqual(r.key.endsWith(':project') ? 12 : 8);
      // 24 requests at 12 a window: spread over several sub-windows of the project
      expect(rows.filter((r) => r.key.endsWith(':project')).length).toBeGreaterThanOrEqual(2);

      // control: each worker on its own budget sends 24 inside one window, and the emulator refuses some
      await new Promise((r) => setTimeout(r, 1100));
      const apart = await load([new LocalBudget(), new LocalBudget()]);
      expect(apart.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      expect((await em.state()).quotaRejections).toBeGreaterThan(0);
    } finally {
      await em.close();
    }
  });

  it("keeps Graph's per-mailbox 10-minute budget for both workers together, a $batch counting its parts", async () => {
    const em = await startGraphEmulator({ seed: SEED });
    const control = async (body: object) =>
      (
        await fetch(`${em.url}/_emulator/limits`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json() as Promise<any>;
    try {
      await control({ enabled: true, perTenMinutes: 10 });
      const worker = (budget: RateBudget) =>
        new GraphClient({
          tenantId: 'tenant-1',
          clientId: 'app-1',
          clientSecret: 'secret-1',
          baseUrl: em.url,
          authorityUrl: em.url,
          maxRetries: 0,
          mailboxRequests: 10,
          budget,
        });
      const mailbox = 'ann@contoso.com';
      const get = (c: GraphClient) =>
        c.run(mailbox, 'calendar', (api) => api.api(`/users/${mailbox}/calendar`).get());
      const run = async (budgets: [RateBudget, RateBudget]) => {
        const [x, y] = budgets.map(worker);
        let done = 0;
        let failed = 0;
        const count = (p: Promise<unknown>) =>
          p.then(
            () => {
              done += 1;
            },
            () => {
              failed += 1;
            },
          );
        // worker x: one $batch of 4 parts and 4 single requests; worker y: 8 single requests
        const batch = {
          requests: [1, 2, 3, 4].map((i) => ({
            id: String(i),
            method: 'GET',
            url: `/users/${mailbox}/calendar`,
          })),
        };
        void count(
          x
            .run(mailbox, '$batch', (api) => api.api('/$batch').post(batch), 4)
            .then(() => {
              done += 3; // four parts
            }),
        );
        for (let i = 0; i < 4; i++) void count(get(x));
        for (let i = 0; i < 8; i++) void count(get(y));
        const deadline = Date.now() + 10_000;
        while (done + failed < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 500)); // anything over the budget would have gone by now
        return { done, failed };
      };

      const shared = await run([new SharedBudget(a.executeSql), new SharedBudget(b.executeSql)]);
      // 16 requests, 10 a window: what goes is within the window, the rest wait for room, none refused
      // (how many go within the test's seconds depends on who reserves first: the $batch's 4 parts
      // span 4 sub-windows and go with the last of them)
      expect(shared.failed).toBe(0);
      expect(shared.done).toBeLessThanOrEqual(10);
      expect((await control({})).throttled).toBe(0);
      const rows = await windows('graph:');
      // kept as sub-windows that no sliding window of 10 minutes can hold more than 10 of
      const slice = slicesOf({ count: 10, ms: 601_000 });
      expect(rows.length).toBeGreaterThan(1);
      expect(rows.reduce((n, r) => n + r.taken, 0)).toBeGreaterThanOrEqual(4);
      expect(rows.every((r) => r.windowMs === slice.ms && r.taken <= slice.cap)).toBe(true);

      // control: each worker on its own budget sends all 16 and the emulator refuses the 6 beyond 10
      await control({ enabled: true, perTenMinutes: 10 }); // the same limits, throttled count kept
      const before = (await control({})).throttled;
      const em2 = await run([new LocalBudget(), new LocalBudget()]);
      expect(em2.done + em2.failed).toBe(16);
      expect((await control({})).throttled - before).toBeGreaterThan(0);
    } finally {
      await em.close();
    }
  });

  it("keeps Graph's 4 requests in flight per mailbox for both workers together, and frees a dead worker's slots", async () => {
    const em = await startGraphEmulator({ seed: SEED });
    const limits = async (body: object) =>
      (
        await fetch(`${em.url}/_emulator/limits`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json() as Promise<any>;
    const mailbox = 'ann@contoso.com';
    const worker = (slots?: ConcurrencySlots) =>
      new GraphClient({
        tenantId: 'tenant-1',
        clientId: 'app-1',
        clientSecret: 'secret-1',
        baseUrl: em.url,
        authorityUrl: em.url,
        maxRetries: 0, // a 429 fails the request instead of being retried
        ...(slots ? { slots } : {}),
      });
    const load = (x: GraphClient, y: GraphClient) =>
      Promise.allSettled(
        [x, y].flatMap((c) =>
          Array.from({ length: 8 }, () =>
            c.run(mailbox, 'calendar', (api) => api.api(`/users/${mailbox}/calendar`).get()),
          ),
        ),
      );
    try {
      // every request holds its mailbox slot 150 ms at the emulator, so that they meet there
      await limits({ enabled: true, concurrency: 4, latencyMs: 150 });
      const shared = await load(worker(new SharedSlots(a.locks)), worker(new SharedSlots(b.locks)));
      expect(shared.filter((r) => r.status === 'rejected')).toEqual([]);
      const seen = await limits({});
      expect(seen.throttled).toBe(0);
      expect(seen.peakConcurrency['u-ann']).toBe(4);

      // a slot held by a worker whose connection is gone (a killed process) is free again
      const dead = await openDatabase({
        url: `${url}${url!.includes('?') ? '&' : '?'}schema=${schema}`,
        migrate: false,
      });
      const held = await Promise.all(
        [0, 1, 2, 3].map(() => new SharedSlots(dead.locks).acquire('graph:x:y', 4)),
      );
      expect(held).toHaveLength(4);
      const waiting = new SharedSlots(a.locks, 5_000).acquire('graph:x:y', 4);
      await dead.close(); // its lock connection ends, as a SIGKILL would end it
      const release = await waiting;
      await release();

      // control: each worker keeping only its own 4, the emulator refuses what goes beyond
      await limits({ enabled: true, concurrency: 4, latencyMs: 150 });
      const apart = await load(worker(), worker());
      expect(apart.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      expect((await limits({})).throttled).toBeGreaterThan(0);
    } finally {
      await em.close();
    }
  });
});
