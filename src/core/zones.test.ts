import { describe, expect, it } from 'vitest';
import { toIanaZone, toWindowsZone, windowsZoneRows } from './zones.ts';

describe('zones: IANA <-> Windows (CLDR windowsZones)', () => {
  it('maps known pairs both ways', () => {
    const pairs: [string, string][] = [
      ['Asia/Shanghai', 'China Standard Time'],
      ['America/Los_Angeles', 'Pacific Standard Time'],
      ['America/New_York', 'Eastern Standard Time'],
      ['Europe/Berlin', 'W. Europe Standard Time'],
      ['Europe/London', 'GMT Standard Time'],
      ['Asia/Tokyo', 'Tokyo Standard Time'],
      ['Australia/Sydney', 'AUS Eastern Standard Time'],
      ['Etc/UTC', 'UTC'],
    ];
    for (const [iana, windows] of pairs) {
      expect(toWindowsZone(iana)).toBe(windows);
      expect(toIanaZone(windows)).toBe(iana);
    }
  });

  it('resolves IANA aliases and zones of other territories', () => {
    expect(toWindowsZone('Asia/Calcutta')).toBe('India Standard Time');
    expect(toWindowsZone('Asia/Kolkata')).toBe('India Standard Time');
    expect(toWindowsZone('UTC')).toBe('UTC');
    expect(toWindowsZone('Etc/UTC')).toBe('UTC');
    expect(toWindowsZone('Etc/GMT')).toBe('UTC');
    expect(toWindowsZone('US/Eastern')).toBe('Eastern Standard Time');
    expect(toWindowsZone('Asia/Saigon')).toBe('SE Asia Standard Time');
    expect(toWindowsZone('Asia/Ho_Chi_Minh')).toBe('SE Asia Standard Time');
    expect(toWindowsZone('Asia/Hong_Kong')).toBe('China Standard Time');
    expect(toWindowsZone('Europe/Paris')).toBe('Romance Standard Time');
    expect(toWindowsZone('Europe/Kyiv')).toBe('FLE Standard Time');
    expect(toWindowsZone('america/new_york')).toBe('Eastern Standard Time');
    expect(toIanaZone('china standard time')).toBe('Asia/Shanghai');
  });

  it('follows current CLDR (48): Kazakhstan, Mexico and Ciudad Juarez as they are now', () => {
    expect(toWindowsZone('Asia/Almaty')).toBe('West Asia Standard Time');
    expect(toWindowsZone('Asia/Qostanay')).toBe('West Asia Standard Time');
    expect(toIanaZone('Central Asia Standard Time')).toBe('Asia/Bishkek');
    expect(toIanaZone('Mountain Standard Time (Mexico)')).toBe('America/Mazatlan');
    expect(toWindowsZone('America/Mazatlan')).toBe('Mountain Standard Time (Mexico)');
    expect(toWindowsZone('America/Chihuahua')).toBe('Central Standard Time (Mexico)');
    expect(toWindowsZone('America/Ciudad_Juarez')).toBe('Mountain Standard Time');
    // The row whose _type ends in a space still maps its last zone.
    expect(windowsZoneRows().every((r) => r.iana.every((z) => z.trim() === z && z !== ''))).toBe(true);
  });

  it('resolves CLDR-deprecated zones through their replacement', () => {
    expect(toWindowsZone('America/Santa_Isabel')).toBe('Pacific Standard Time (Mexico)');
    expect(toWindowsZone('Europe/Uzhgorod')).toBe('FLE Standard Time');
    expect(toWindowsZone('Asia/Choibalsan')).toBe('Ulaanbaatar Standard Time');
  });

  it('returns undefined for unknown names', () => {
    expect(toWindowsZone('Mars/Olympus_Mons')).toBeUndefined();
    expect(toWindowsZone('')).toBeUndefined();
    expect(toIanaZone('Martian Standard Time')).toBeUndefined();
    expect(toIanaZone('Asia/Shanghai')).toBeUndefined();
  });

  it('every IANA zone in the table maps to a Windows zone and back consistently', () => {
    const names = new Set(windowsZoneRows().flatMap((row) => row.iana));
    expect(names.size).toBeGreaterThan(400);
    for (const iana of names) {
      const windows = toWindowsZone(iana);
      expect(windows, iana).toBeDefined();
      const back = toIanaZone(windows!);
      expect(back, `${iana} -> ${windows}`).toBeDefined();
      expect(toWindowsZone(back!)).toBe(windows);
    }
  });

  it('every Windows zone has a default IANA zone that Intl knows', () => {
    const windowsNames = new Set(windowsZoneRows().map((row) => row.windows));
    expect(windowsNames.size).toBeGreaterThan(130);
    for (const w of windowsNames) {
      const iana = toIanaZone(w);
      expect(iana, w).toBeDefined();
      expect(() => new Intl.DateTimeFormat('en-US', { timeZone: iana })).not.toThrow();
    }
  });

  it('covers nearly every zone this Node knows', () => {
    const all = Intl.supportedValuesOf('timeZone');
    const missing = all.filter((z) => toWindowsZone(z) === undefined);
    expect(missing.length).toBeLessThan(all.length * 0.02);
  });
});
