import { describe, expect, it } from 'vitest';
import { LocalBudget } from './budget.ts';

describe('LocalBudget', () => {
  it('gives each request the first instant every window allows, per key', () => {
    const b = new LocalBudget();
    const w = [
      { count: 2, ms: 1000 },
      { count: 3, ms: 60_000 },
    ];
    const waits = [0, 0, 0, 0].map(() => b.reserve('a', w, 10_000));
    // two in the first second, the third a second later, the fourth after the minute
    expect(waits).toEqual([0, 0, 1000, 60_000]);
    expect(b.reserve('b', w, 10_000)).toBe(0);
    // later, the oldest reservations have left both windows
    expect(b.reserve('a', w, 200_000)).toBe(0);
  });
});
