import { describe, expect, it } from 'vitest';
import { fromGraph } from './mapper.ts';
import { CUSTOM_ZONE, ianaOf, windowsOf } from './time.ts';

const event = (extra: object) => ({
  id: 'e1',
  type: 'singleInstance',
  subject: 'x',
  isAllDay: false,
  start: { dateTime: '2025-03-03T01:00:00.0000000', timeZone: 'UTC' },
  end: { dateTime: '2025-03-03T02:00:00.0000000', timeZone: 'UTC' },
  ...extra,
});

describe('graph zones', () => {
  it('maps Windows names through current CLDR, both ways', () => {
    expect(ianaOf('West Asia Standard Time')).toBe('Asia/Tashkent');
    expect(windowsOf('Asia/Almaty')).toBe('West Asia Standard Time');
    expect(ianaOf('Mountain Standard Time (Mexico)')).toBe('America/Mazatlan');
    expect(windowsOf('America/Ciudad_Juarez')).toBe('Mountain Standard Time');
    expect(ianaOf('tzone://Microsoft/Utc')).toBe('UTC');
  });

  it('a tzone://Microsoft/Custom event keeps its exact instants in the zone its start came in', () => {
    expect(ianaOf(CUSTOM_ZONE)).toBeUndefined();
    const utc = fromGraph(event({ originalStartTimeZone: CUSTOM_ZONE, originalEndTimeZone: CUSTOM_ZONE }));
    expect(utc.event.start).toEqual({ timestamp: Date.UTC(2025, 2, 3, 1) / 1000, timeZone: 'UTC' });
    expect(utc.event.end).toEqual({ timestamp: Date.UTC(2025, 2, 3, 2) / 1000, timeZone: 'UTC' });
    // Read with Prefer: outlook.timezone, the times come in that zone, and it is kept.
    const pacific = fromGraph(
      event({
        originalStartTimeZone: CUSTOM_ZONE,
        start: { dateTime: '2025-03-02T17:00:00.0000000', timeZone: 'Pacific Standard Time' },
        end: { dateTime: '2025-03-02T18:00:00.0000000', timeZone: 'Pacific Standard Time' },
      }),
    );
    expect(pacific.event.start).toEqual({
      timestamp: Date.UTC(2025, 2, 3, 1) / 1000,
      timeZone: 'America/Los_Angeles',
    });
  });
});
