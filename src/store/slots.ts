/**
 * Slots of a concurrency limit shared by every process on one Postgres (e.g. Graph's 4 requests in
 * flight per mailbox): slot i of a key is the named lock `slot:<key>:<i>` (session advisory locks,
 * src/store/locks.ts), so a slot is held only while its request runs, and a process that dies frees
 * its slots with its connection. A request finding every slot taken looks again after a short,
 * growing pause (at most 200 ms), and gives up after `maxWaitMs`.
 */
import type { ConcurrencySlots } from '../ports/index.ts';
import type { Locks } from './locks.ts';

export class SharedSlots implements ConcurrencySlots {
  constructor(
    private readonly locks: Locks,
    private readonly maxWaitMs = 120_000,
  ) {}

  async acquire(key: string, limit: number): Promise<() => Promise<void>> {
    const end = Date.now() + this.maxWaitMs;
    for (let pause = 10; ; pause = Math.min(200, pause * 2)) {
      // start at a random slot, so that waiting processes do not all try slot 0 first
      const first = Math.floor(Math.random() * limit);
      for (let k = 0; k < limit; k++) {
        const release = await this.locks.tryLock(`slot:${key}:${(first + k) % limit}`);
        if (release) return release;
      }
      if (Date.now() > end) throw new Error(`no free slot of ${key} in ${this.maxWaitMs} ms`);
      await new Promise((r) => setTimeout(r, pause / 2 + Math.random() * pause));
    }
  }
}
