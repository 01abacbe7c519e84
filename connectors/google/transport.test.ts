import { describe, expect, it } from 'vitest';
import { Pacer } from './transport.ts';

describe('Google pacing', () => {
  it("keeps every user together under the project's quota, not only each user under theirs", async () => {
    const t0 = Date.now();
    const pacer = new Pacer({ perUser: 10, perProject: 12, windowMs: 1000 });
    const none = async () => {};
    await Promise.all([pacer.within('ann@example.com', 10, none), pacer.within('bob@example.com', 10, none)]);
    // 20 requests, 12 a window for the project: the last 8 wait for the next window
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    const free = new Pacer({ perUser: 10, perProject: 100, windowMs: 1000 });
    const t1 = Date.now();
    await Promise.all([free.within('ann@example.com', 10, none), free.within('bob@example.com', 10, none)]);
    expect(Date.now() - t1).toBeLessThan(500);
  });
});
