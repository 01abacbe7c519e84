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
});
