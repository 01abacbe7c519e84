import { describe, expect, it } from 'vitest';
import { AnsweredView, type Limit, LocalBudget } from './budget.ts';

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

describe('AnsweredView: background sends', () => {
  // windows of a second: each check below falls well inside one
  const limits = (user: string, perUser: number, perProject: number): Limit[] => [
    { key: `user:${user}`, windows: [{ count: perUser, ms: 1000 }] },
    { key: 'project', windows: [{ count: perProject, ms: 1000 }] },
  ];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const run = (view: AnsweredView, l: Limit[], name: string, order: string[], background = false) =>
    view.run(
      l,
      1,
      async () => {
        order.push(name);
      },
      background,
    );

  it('go after the sends of their line that came later and are not', async () => {
    const view = new AnsweredView();
    const order: string[] = [];
    const a = limits('a', 2, 100);
    const all = [
      run(view, a, 'a1', order),
      run(view, a, 'a2', order),
      run(view, a, 'bg1', order, true),
      run(view, a, 'bg2', order, true),
      run(view, a, 'a3', order),
      run(view, a, 'a4', order),
    ];
    await sleep(1400);
    expect(order).toEqual(['a1', 'a2', 'a3', 'a4']);
    await Promise.all(all);
    expect(order.slice(4)).toEqual(['bg1', 'bg2']);
  });

  it("leave the others' lines what those wait for of a shared window", async () => {
    const view = new AnsweredView();
    const order: string[] = [];
    const a = limits('a', 10, 4);
    const b = limits('b', 10, 4);
    const all = [
      // a1-a4 fill the project's first window; a5, then b1-b2, then a's background sends wait for
      // the next, a's line looking first
      ...[1, 2, 3, 4, 5].map((i) => run(view, a, `a${i}`, order)),
      ...[1, 2].map((i) => run(view, b, `b${i}`, order)),
      ...[1, 2, 3].map((i) => run(view, a, `bg${i}`, order, true)),
    ];
    await sleep(400);
    expect(order).toEqual(['a1', 'a2', 'a3', 'a4']);
    await sleep(1000);
    // the second window: a5, b1 and b2, and one background send in the room they leave
    expect(new Set(order.slice(4))).toEqual(new Set(['a5', 'b1', 'b2', 'bg1']));
    await Promise.all(all);
    expect(order.slice(8)).toEqual(['bg2', 'bg3']);
  });

  it('take the room the waiting sends leave', async () => {
    const view = new AnsweredView();
    const order: string[] = [];
    // b's sends wait for b's own window: the project's has room for the background ones meanwhile
    const b = limits('b', 2, 10);
    const a = limits('a', 10, 10);
    const all = [
      ...[1, 2, 3, 4].map((i) => run(view, b, `b${i}`, order)),
      ...[1, 2, 3].map((i) => run(view, a, `bg${i}`, order, true)),
    ];
    await sleep(300);
    expect(order).toEqual(['b1', 'b2', 'bg1', 'bg2', 'bg3']);
    await Promise.all(all);
    expect(order.slice(5)).toEqual(['b3', 'b4']);
  });
});
