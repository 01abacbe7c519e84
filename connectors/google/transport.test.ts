import { afterEach, describe, expect, it, vi } from 'vitest';
import { Pacer } from './transport.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** Each user's sends, `n` calls of one request at once, on a fake clock: the times they went. */
async function sends(pacer: Pacer, users: string[], n: number, advanceMs: number): Promise<number[][]> {
  const t0 = Date.now();
  pacer.expect(users);
  const times = users.map(() => [] as number[]);
  const all = users.flatMap((u, i) =>
    Array.from({ length: n }, () => pacer.within(u, 1, async () => void times[i].push(Date.now() - t0))),
  );
  await vi.advanceTimersByTimeAsync(advanceMs);
  await Promise.all(all);
  return times;
}

/**
 * One write call of `user` sending `n` requests one by one from `startMs` on (a fake clock), with what
 * it still has to send counted as the writer counts it: the times they went.
 */
async function call(pacer: Pacer, user: string, n: number, startMs: number, background = false, batch = 1) {
  const t0 = Date.now();
  await vi.advanceTimersByTimeAsync(startMs);
  const owed = background ? undefined : pacer.owe(user);
  if (owed) owed.left = n;
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: Math.ceil(n / batch) }, (_, i) => {
      const size = Math.min(batch, n - i * batch);
      return pacer.within(
        user,
        size,
        async () => {
          for (let k = 0; k < size; k++) times.push(Date.now() - t0);
        },
        background,
        owed,
      );
    }),
  );
  owed?.close();
  return times;
}

describe('Google pacing', () => {
  it("keeps every user together under the project's quota, not only each user under theirs", async () => {
    vi.useFakeTimers();
    // a window of 1,000 ms counts as 1,050 (the margin for clocks)
    const times = await sends(
      new Pacer({ perUser: 10, perProject: 12, windowMs: 1000 }),
      ['ann', 'bob'],
      10,
      5000,
    );
    const all = times.flat().sort((a, b) => a - b);
    expect(all.filter((t) => t < 1050)).toHaveLength(12);
    expect(all.filter((t) => t >= 1050)).toHaveLength(8);
    const free = await sends(
      new Pacer({ perUser: 10, perProject: 100, windowMs: 1000 }),
      ['ann', 'bob'],
      10,
      5000,
    );
    expect(free.flat().every((t) => t < 1050)).toBe(true);
  });

  it('shares the project window among the users expected, so none is left for a third window', async () => {
    vi.useFakeTimers();
    // four users of 10 requests, 6 each and 20 together per window: 40 requests fit two windows only
    // if each takes 5 of each (first come, first served: 6, 6, 6, 2, and the last user needs a third)
    const times = await sends(
      new Pacer({ perUser: 6, perProject: 20, windowMs: 1000 }),
      ['ann', 'bob', 'cy', 'dee'],
      10,
      10_000,
    );
    for (const t of times) expect(t.filter((x) => x < 1050)).toHaveLength(5);
    expect(Math.max(...times.flat())).toBeLessThan(2100);
  });

  it("spreads a user's writes evenly over the windows they need, so users who come later in the window find room", async () => {
    vi.useFakeTimers();
    // four users of 10 writes, 6 each and 20 together per window, each beginning a little after the
    // one before and none announced: first come, first served would give 6, 6, 6 and 2, and the last
    // user a third window; spread, each sends 5 in the first window and 5 in the second
    const pacer = new Pacer({ perUser: 6, perProject: 20, windowMs: 1000 });
    const users = ['ann', 'bob', 'cy', 'dee'];
    const ended = Promise.all(users.map((u, i) => call(pacer, u, 10, 100 * i)));
    await vi.advanceTimersByTimeAsync(10_000);
    const times = await ended;
    for (const [i, t] of times.entries()) {
      expect(t.filter((x) => x < 100 * i + 1050)).toHaveLength(5);
      expect(Math.max(...t)).toBeLessThan(100 * i + 2100);
    }
  });

  it('spreads them in whole batches, so that the users together fill the window', async () => {
    vi.useFakeTimers();
    // four users of 98 writes in batches of 10, 60 each and 200 together per window: an even 49
    // would be 40 in whole batches, leaving 40 of the first window unused and 232 for the second
    const pacer = new Pacer({ perUser: 60, perProject: 200, windowMs: 1000 }, undefined, 'p', 10);
    const ended = Promise.all(
      ['ann', 'bob', 'cy', 'dee'].map((u, i) => call(pacer, u, 98, 100 * i, false, 10)),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    for (const [i, t] of (await ended).entries()) {
      expect(t.filter((x) => x < 100 * i + 1050)).toHaveLength(50);
      expect(Math.max(...t)).toBeLessThan(100 * i + 2100);
    }
  });

  it("counts a batch given room as the window's, no longer as the call's, as the writer sends them four at a time", async () => {
    vi.useFakeTimers();
    // 105 writes in batches of 10, four batches at a time as the writer sends them: 50 in the first
    // window. Counted twice while between room and send, the second group's batches looked like 115
    // writes still to go, and the user took 60
    const pacer = new Pacer({ perUser: 60, perProject: 1000, windowMs: 1000 }, undefined, 'p', 10);
    const t0 = Date.now();
    const owed = pacer.owe('ann');
    owed.left = 105;
    const times: number[] = [];
    const sizes = Array.from({ length: 11 }, (_, i) => (i < 10 ? 10 : 5));
    const ended = (async () => {
      for (let i = 0; i < sizes.length; i += 4)
        await Promise.all(
          sizes.slice(i, i + 4).map((n) =>
            pacer.within(
              'ann',
              n,
              async () => {
                for (let k = 0; k < n; k++) times.push(Date.now() - t0);
              },
              false,
              owed,
            ),
          ),
        );
      owed.close();
    })();
    await vi.advanceTimersByTimeAsync(5000);
    await ended;
    expect(times.filter((t) => t < 1050)).toHaveLength(50);
    expect(times).toHaveLength(105);
  });

  it("keeps a window's writes whole for a user whose writes fit it", async () => {
    vi.useFakeTimers();
    const pacer = new Pacer({ perUser: 6, perProject: 20, windowMs: 1000 });
    const ended = call(pacer, 'ann', 6, 0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await ended).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('sends background writes once no user has writes of their own to send', async () => {
    vi.useFakeTimers();
    const pacer = new Pacer({ perUser: 6, perProject: 20, windowMs: 1000 });
    // ann's own writes take two windows; bob's attendees, in the background, wait for them all
    const own = call(pacer, 'ann', 10, 0);
    const background = call(pacer, 'bob', 3, 10, true);
    await vi.advanceTimersByTimeAsync(10_000);
    const last = Math.max(...(await own));
    expect(last).toBeGreaterThanOrEqual(1050);
    expect(Math.min(...(await background))).toBeGreaterThanOrEqual(last);
  });
});
