import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router } from './router.ts';
import { type Running, startServer } from './server.ts';

let items: string[] = [];
const router = new Router()
  .on('GET', '/api/items/:id', (req) => ({ status: 200, body: { id: req.params.id } }))
  .on('POST', '/api/items', (req) => {
    items.push(req.json().name);
    return { status: 201, body: { ok: true } };
  });
let em: Running;
const call = (path: string, init?: RequestInit) => fetch(em.url + path, init);
const post = (path: string, body: unknown) =>
  call(path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

beforeAll(async () => {
  em = await startServer(
    {
      reset: () => {
        items = [];
      },
      seed: (b) => items.push(...b.items),
      state: () => ({ items }),
      handle: (req) => router.handle(req),
    },
    { seed: { items: ['seeded'] } },
  );
});
afterAll(() => em.close());

describe('emulator kit', () => {
  it('routes with params, seeds, reports state and 404s unknown routes', async () => {
    expect(await (await call('/api/items/a%20b')).json()).toEqual({ id: 'a b' });
    await post('/api/items', { name: 'x' });
    expect(await (await call('/_emulator/state')).json()).toEqual({ items: ['seeded', 'x'] });
    expect((await call('/nope')).status).toBe(404);
  });

  it('logs API calls but not control calls, with when each arrived', async () => {
    await post('/_emulator/reset', {});
    const before = Date.now();
    await call('/api/items/1?x=2');
    const log = (await (await call('/_emulator/requests?since=0')).json()) as { at: number }[];
    expect(log).toEqual([
      {
        seq: 1,
        method: 'GET',
        path: '/api/items/1',
        query: 'x=2',
        status: 200,
        ms: expect.any(Number),
        at: expect.any(Number),
      },
    ]);
    expect(log[0].at).toBeGreaterThanOrEqual(before - 1);
    expect(log[0].at).toBeLessThanOrEqual(Date.now());
    expect(await (await call('/_emulator/requests?since=1')).json()).toEqual([]);
  });

  it('injects status faults a limited number of times, delays, and drops', async () => {
    await post('/_emulator/faults', [
      { match: { method: 'GET', path: '^/api/items/' }, times: 2, action: { status: 503 } },
    ]);
    expect((await call('/api/items/1')).status).toBe(503);
    expect((await call('/api/items/1')).status).toBe(503);
    expect((await call('/api/items/1')).status).toBe(200);
    await post('/_emulator/faults', {
      match: { path: '/api/items/slow' },
      times: 1,
      action: { delayMs: 120 },
    });
    const t0 = performance.now();
    expect((await call('/api/items/slow')).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    await post('/_emulator/faults', { match: { path: '/api/items/drop' }, action: { drop: true } });
    await expect(call('/api/items/drop')).rejects.toThrow();
    await call('/_emulator/faults', { method: 'DELETE' });
    expect((await call('/api/items/drop')).status).toBe(200);
  });

  it('moves the clock and reset clears it', async () => {
    const before = em.clock.now();
    await post('/_emulator/clock', { advanceSeconds: 3600 });
    expect(em.clock.now() - before).toBeGreaterThanOrEqual(3_600_000);
    await post('/_emulator/reset', {});
    expect(em.clock.offsetMs).toBe(0);
  });
});
