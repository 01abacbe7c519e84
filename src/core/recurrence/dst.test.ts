import { describe, expect, it } from 'vitest';
import { expandRecurrence } from './index.ts';
import { getZone, parseLocal } from './local-time.ts';

function utcOf(local: string, tz: string): string {
  const t = getZone(tz).toUtc(parseLocal(local)!.t);
  return new Date(t * 1000).toISOString().replace('.000', '');
}

describe('DST: America/New_York (spring forward 2024-03-10 02:00, fall back 2024-11-03 02:00)', () => {
  const NY = 'America/New_York';

  it('a 09:00 weekly meeting stays at 09:00 local while its UTC instant moves', () => {
    const occ = expandRecurrence('FREQ=WEEKLY;COUNT=3', '2024-03-03T09:00:00', NY);
    expect(occ).toEqual(['2024-03-03T09:00:00', '2024-03-10T09:00:00', '2024-03-17T09:00:00']);
    expect(occ.map((o) => utcOf(o, NY))).toEqual([
      '2024-03-03T14:00:00Z',
      '2024-03-10T13:00:00Z',
      '2024-03-17T13:00:00Z',
    ]);
  });

  it('UNTIL in UTC is compared with the occurrence instant in the right offset', () => {
    // 09:00 EDT on 03-10 is 13:00Z: an UNTIL of 13:30Z keeps it (EST would put it at 14:00Z).
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20240310T133000Z', '2024-03-08T09:00:00', NY)).toEqual([
      '2024-03-08T09:00:00',
      '2024-03-09T09:00:00',
      '2024-03-10T09:00:00',
    ]);
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20240309T135959Z', '2024-03-08T09:00:00', NY)).toEqual([
      '2024-03-08T09:00:00',
    ]);
  });

  it('a time inside the gap moves forward by the gap', () => {
    expect(expandRecurrence('FREQ=DAILY;COUNT=4', '2024-03-08T02:30:00', NY)).toEqual([
      '2024-03-08T02:30:00',
      '2024-03-09T02:30:00',
      '2024-03-10T03:30:00',
      '2024-03-11T02:30:00',
    ]);
  });

  it('hourly in local time: the skipped hour collapses into the next, with no duplicates', () => {
    expect(expandRecurrence('FREQ=HOURLY;COUNT=4', '2024-03-10T00:00:00', NY)).toEqual([
      '2024-03-10T00:00:00',
      '2024-03-10T01:00:00',
      '2024-03-10T03:00:00',
      '2024-03-10T04:00:00',
    ]);
    expect(expandRecurrence('FREQ=MINUTELY;INTERVAL=20;COUNT=7', '2024-03-10T01:20:00', NY)).toEqual([
      '2024-03-10T01:20:00',
      '2024-03-10T01:40:00',
      '2024-03-10T03:00:00',
      '2024-03-10T03:20:00',
      '2024-03-10T03:40:00',
      '2024-03-10T04:00:00',
      '2024-03-10T04:20:00',
    ]);
  });

  it('fall back: the repeated hour appears once, an ambiguous time is its first instant', () => {
    expect(expandRecurrence('FREQ=HOURLY;COUNT=4', '2024-11-03T00:00:00', NY)).toEqual([
      '2024-11-03T00:00:00',
      '2024-11-03T01:00:00',
      '2024-11-03T02:00:00',
      '2024-11-03T03:00:00',
    ]);
    expect(utcOf('2024-11-03T01:30:00', NY)).toBe('2024-11-03T05:30:00Z');
    const rule = (until: string) => `FREQ=DAILY;UNTIL=${until}`;
    expect(expandRecurrence(rule('20241103T053000Z'), '2024-11-02T01:30:00', NY)).toHaveLength(2);
    expect(expandRecurrence(rule('20241103T052959Z'), '2024-11-02T01:30:00', NY)).toHaveLength(1);
  });
});

describe('DST: Europe/Berlin (2024-03-31 02:00 -> 03:00, 2024-10-27 03:00 -> 02:00)', () => {
  const B = 'Europe/Berlin';

  it('the last Sunday of March at 02:30 always lands at 03:30', () => {
    expect(expandRecurrence('FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=3', '2024-03-31T02:30:00', B)).toEqual([
      '2024-03-31T03:30:00',
      '2025-03-30T03:30:00',
      '2026-03-29T03:30:00',
    ]);
  });

  it('a 09:00 series keeps 09:00 over the October change, UNTIL read in CET', () => {
    // 09:00 CET on 10-27 is 08:00Z.
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20241027T080000Z', '2024-10-26T09:00:00', B)).toEqual([
      '2024-10-26T09:00:00',
      '2024-10-27T09:00:00',
    ]);
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20241027T075959Z', '2024-10-26T09:00:00', B)).toEqual([
      '2024-10-26T09:00:00',
    ]);
    expect(utcOf('2024-10-26T09:00:00', B)).toBe('2024-10-26T07:00:00Z');
  });
});

describe('DST: Australia/Sydney, southern hemisphere (2024-04-07 03:00 -> 02:00, 2024-10-06 02:00 -> 03:00)', () => {
  const S = 'Australia/Sydney';

  it('gap in October, shifted forward', () => {
    expect(expandRecurrence('FREQ=DAILY;COUNT=3', '2024-10-05T02:15:00', S)).toEqual([
      '2024-10-05T02:15:00',
      '2024-10-06T03:15:00',
      '2024-10-07T02:15:00',
    ]);
  });

  it('April end of DST: 09:00 stays local, offset goes from +11 to +10', () => {
    const occ = expandRecurrence('FREQ=WEEKLY;BYDAY=SA,SU;COUNT=4', '2024-03-30T09:00:00', S);
    expect(occ).toEqual([
      '2024-03-30T09:00:00',
      '2024-03-31T09:00:00',
      '2024-04-06T09:00:00',
      '2024-04-07T09:00:00',
    ]);
    expect(occ.map((o) => utcOf(o, S))).toEqual([
      '2024-03-29T22:00:00Z',
      '2024-03-30T22:00:00Z',
      '2024-04-05T22:00:00Z',
      '2024-04-06T23:00:00Z',
    ]);
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20240406T230000Z', '2024-04-05T09:00:00', S)).toHaveLength(3);
  });
});

describe('no DST: Asia/Shanghai', () => {
  const SH = 'Asia/Shanghai';

  it('hours run straight through the dates other zones change on', () => {
    expect(expandRecurrence('FREQ=HOURLY;COUNT=4', '2024-03-10T01:00:00', SH)).toEqual([
      '2024-03-10T01:00:00',
      '2024-03-10T02:00:00',
      '2024-03-10T03:00:00',
      '2024-03-10T04:00:00',
    ]);
    expect(utcOf('2024-03-10T09:00:00', SH)).toBe('2024-03-10T01:00:00Z');
    expect(utcOf('2024-07-10T09:00:00', SH)).toBe('2024-07-10T01:00:00Z');
  });

  it('all-day events are dates, never shifted', () => {
    expect(expandRecurrence('FREQ=WEEKLY;COUNT=3', '2024-03-04', SH)).toEqual([
      '2024-03-04',
      '2024-03-11',
      '2024-03-18',
    ]);
    // An all-day rule with a UTC UNTIL compares the instant each local day starts (00:00 = 16:00Z before).
    expect(expandRecurrence('FREQ=DAILY;UNTIL=20240305T160000Z', '2024-03-04', SH)).toEqual([
      '2024-03-04',
      '2024-03-05',
      '2024-03-06',
    ]);
  });
});

describe('Zone offsets (cached) agree with Intl', () => {
  it('at many instants in zones with DST, half-hour DST, Ramadan suspensions and none', () => {
    const zones = [
      'America/New_York',
      'Europe/Berlin',
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'Africa/Casablanca',
      'Asia/Kathmandu',
      'Asia/Shanghai',
      'America/Sao_Paulo',
    ];
    for (const name of zones) {
      const fmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
      const zone = getZone(name);
      for (let i = 0; i < 400; i++) {
        const utc = 631_152_000 + i * 3_944_711; // 1990 .. 2040, odd step
        const label = fmt.formatToParts(new Date(utc * 1000)).find((p) => p.type === 'timeZoneName')!.value;
        const m = /GMT(?:([+-])(\d{2}):(\d{2}))?/.exec(label)!;
        const want = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60) : 0;
        expect(zone.offset(utc), `${name} at ${utc}`).toBe(want);
      }
    }
  });
});
