import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { DEMO_KEY } from '../config/test-helpers.ts';
import { type Database, openDatabase } from '../store/db.ts';
import { dueWaves } from './migrate-schedule.ts';

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db?.close());

const config = parseConfig(
  [
    'feishu: { app_id: cli_0123456789abcdef, app_secret: s }',
    'google: { credentials_file: a.json }',
    'migration:',
    '  waves:',
    '    - { name: early, users: [a@x.cn], target: google, cutover: "2027-01-01T00:00:00+08:00" }',
    '    - { name: late, users: [b@x.cn], target: google, cutover: "2027-02-01T00:00:00Z" }',
    '    - { name: manual, users: [c@x.cn], target: google }',
    '    - { name: back, users: [d@x.cn], target: google, cutover: "2026-12-01T00:00:00Z" }',
    '    - { name: finished, users: [e@x.cn], target: google, cutover: "2026-12-01T00:00:00Z" }',
    `secret_key: ${DEMO_KEY}`,
  ].join('\n'),
  'f.yaml',
  {},
);
const at = (s: string) => new Date(s);

describe('waves due for cutover inside serve', () => {
  it('due once the time has passed, until every user is done; never after a rollback; never without a time', async () => {
    const row = (wave: string, userKey: string, state: string, steps: object[] = []) =>
      db.prisma.migrationUser.create({ data: { wave, userKey, target: 'google', state, steps } });
    await row('back', 'd@x.cn', 'rolled_back', [{ step: 'start:rollback', at: '', ok: true }]);
    await row('finished', 'e@x.cn', 'done', [{ step: 'start:cutover', at: '', ok: true }]);
    // 2027-01-01T00:00+08:00 is 2026-12-31T16:00Z
    expect(await dueWaves(config, db.prisma, at('2026-12-31T15:59:00Z'))).toEqual([]);
    expect(await dueWaves(config, db.prisma, at('2026-12-31T16:00:00Z'))).toEqual(['early']);
    expect(await dueWaves(config, db.prisma, at('2027-03-01T00:00:00Z'))).toEqual(['early', 'late']);
    // a cutover that stopped midway is resumed at the next tick; a finished one is not run again
    await row('early', 'a@x.cn', 'cutover', [{ step: 'switch', at: '', ok: true }]);
    expect(await dueWaves(config, db.prisma, at('2027-03-01T00:00:00Z'))).toEqual(['early', 'late']);
    await db.prisma.migrationUser.update({
      where: { wave_userKey: { wave: 'early', userKey: 'a@x.cn' } },
      data: { state: 'done' },
    });
    expect(await dueWaves(config, db.prisma, at('2027-03-01T00:00:00Z'))).toEqual(['late']);
  });
});
