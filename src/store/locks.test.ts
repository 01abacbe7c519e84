import { afterEach, describe, expect, it } from 'vitest';
import { createLocks, type Locks } from './locks.ts';

const opened: Locks[] = [];
const open = (url?: string) => {
  const l = createLocks(url);
  opened.push(l);
  return l;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((l) => l.close()));
});

describe('locks in one process', () => {
  it('gives a name to one holder at a time and frees it on release', async () => {
    const locks = open();
    const a = await locks.tryLock('cal-1');
    expect(a).toBeTypeOf('function');
    expect(await locks.tryLock('cal-1')).toBeNull();
    expect(await locks.tryLock('cal-2')).toBeTypeOf('function');
    await a!();
    await a!(); // a second release is harmless
    expect(await locks.tryLock('cal-1')).toBeTypeOf('function');
  });
});

const url = process.env.TEST_DATABASE_URL;
describe.skipIf(!url)('locks across processes on Postgres (TEST_DATABASE_URL)', () => {
  it('keeps a name held by one process from another, and frees it when the holder disconnects', async () => {
    const one = open(url);
    const two = open(url);
    const name = `test-${Math.random()}`;
    const held = await one.tryLock(name);
    expect(held).toBeTypeOf('function');
    expect(await two.tryLock(name)).toBeNull();
    await held!();
    const again = await two.tryLock(name);
    expect(again).toBeTypeOf('function');
    // a holder that dies (its connection closes without unlocking) frees its names
    await two.close();
    expect(await one.tryLock(name)).toBeTypeOf('function');
  });
});
