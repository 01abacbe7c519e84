import { describe, expect, it } from 'vitest';
import { LocalBudget } from './budget.ts';

const windows = [
  { count: 2, ms: 1000 },
  { count: 3, ms: 60_000 },
];

describe('LocalBudget', () => {
  it('lets a request go when every window of its key has room, counting it when it goes', () => {
    const b = new LocalBudget();
    expect(b.wait('a', windows, 10_000)).toBe(0);
    b.record('a', windows, 10_000);
    b.record('a', windows, 10_000);
    // two in this second: the third a second later
    expect(b.wait('a', windows, 10_000)).toBe(1000);
    b.record('a', windows, 11_000);
    // three in the minute: the fourth after it
    expect(b.wait('a', windows, 11_000)).toBe(59_000);
    expect(b.wait('b', windows, 11_000)).toBe(0);
  });

  it('lets requests out in order, never more than a window allows, even when timers fire late', async () => {
    const b = new LocalBudget();
    const tight = [{ count: 3, ms: 200 }];
    const sent: number[] = [];
    const at: number[] = [];
    const all = Array.from({ length: 7 }, (_, i) =>
      b.take('k', tight).then(() => {
        sent.push(i);
        at.push(Date.now());
      }),
    );
    // block the event loop past two windows: the waiting requests must still be spaced
    const until = Date.now() + 450;
    while (Date.now() < until) {}
    await Promise.all(all);
    expect(sent).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // the first three went before the block; the next three when it ended, and the 7th a window
    // after those, not with them (no window of 200 ms holds more than 3 sends)
    expect(at[6] - at[3]).toBeGreaterThanOrEqual(195);
  });
});
