import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandRecurrence, fromGraphRecurrence, toGraphRecurrence } from './index.ts';
import { DAY, formatLocal, getZone } from './local-time.ts';
import { parseStart, run } from './occurrences.ts';
import { DAY_CODES, parseRule } from './parse.ts';

const ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Sydney',
  'Asia/Shanghai',
  'Asia/Kolkata',
  'UTC',
];
const TIMES = ['09:00:00', '02:30:00', '23:45:00', '00:00:00', null];

const days = fc
  .uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 })
  .map((a) => a.sort());
const byday = (list: number[]) => list.map((d) => DAY_CODES[d]).join(',');
const ordinal = fc.constantFrom(1, 2, 3, 4, -1);

/** Rule bodies Graph can express: one per pattern type, random parameters. */
const body = fc.oneof(
  fc.integer({ min: 1, max: 6 }).map((n) => `FREQ=DAILY;INTERVAL=${n}`),
  fc
    .tuple(fc.integer({ min: 1, max: 4 }), days, fc.integer({ min: 0, max: 6 }))
    .map(([n, d, w]) => `FREQ=WEEKLY;INTERVAL=${n};BYDAY=${byday(d)};WKST=${DAY_CODES[w]}`),
  fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 28 }))
    .map(([n, d]) => `FREQ=MONTHLY;INTERVAL=${n};BYMONTHDAY=${d}`),
  fc
    .tuple(fc.integer({ min: 1, max: 6 }), days, ordinal)
    .map(([n, d, k]) =>
      d.length === 1
        ? `FREQ=MONTHLY;INTERVAL=${n};BYDAY=${k}${DAY_CODES[d[0]]}`
        : `FREQ=MONTHLY;INTERVAL=${n};BYDAY=${byday(d)};BYSETPOS=${k}`,
    ),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }))
    .map(([n, m, d]) => `FREQ=YEARLY;INTERVAL=${n};BYMONTH=${m};BYMONTHDAY=${d}`),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), days, ordinal)
    .map(([n, m, d, k]) =>
      d.length === 1
        ? `FREQ=YEARLY;INTERVAL=${n};BYMONTH=${m};BYDAY=${k}${DAY_CODES[d[0]]}`
        : `FREQ=YEARLY;INTERVAL=${n};BYMONTH=${m};BYDAY=${byday(d)};BYSETPOS=${k}`,
    ),
);

const ending = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 1, max: 25 }).map((c) => `;COUNT=${c}`),
  fc
    .tuple(fc.integer({ min: 0, max: 900 }), fc.boolean(), fc.integer({ min: 0, max: 23 }))
    .map(([d, asDate, h]) => {
      const s = formatLocal((19_723 + d) * DAY, { dateOnly: true, basic: true }); // from 2024-01-01
      return asDate ? `;UNTIL=${s}` : `;UNTIL=${s}T${String(h).padStart(2, '0')}0000Z`;
    }),
);

const input = fc.record({
  body,
  ending,
  zone: fc.constantFrom(...ZONES),
  day: fc.integer({ min: 0, max: 700 }),
  time: fc.constantFrom(...TIMES),
});

describe('property: rules Graph can express survive the round trip', () => {
  it('toGraphRecurrence is exact and fromGraphRecurrence expands to the same occurrences', () => {
    fc.assert(
      fc.property(input, ({ body, ending, zone, day, time }) => {
        // Start on the rule's own first occurrence on or after a random date (Graph needs that).
        const form = { dateOnly: time === null, basic: false };
        const seed = formatLocal((19_723 + day) * DAY, form).slice(0, 10) + (time ? `T${time}` : '');
        const start = parseStart(seed, getZone(zone));
        const first = run(parseRule(body), start, zone, { count: 1, forceStart: false })[0];
        fc.pre(first !== undefined);
        const dtstart = formatLocal(first, form);
        const rule = body + ending;
        const conv = toGraphRecurrence(rule, dtstart, zone);
        expect(conv.exact, `${rule} ${dtstart} ${zone}: ${conv.reason}`).toBe(true);
        const back = fromGraphRecurrence(conv.recurrence!);
        const until = `${Number(dtstart.slice(0, 4)) + 6}-12-31`;
        expect(expandRecurrence(back, dtstart, zone, { until }), `${rule} -> ${back}`).toEqual(
          expandRecurrence(rule, dtstart, zone, { until }),
        );
      }),
      { numRuns: 300 },
    );
  });
});
