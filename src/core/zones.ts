/**
 * IANA <-> Windows time zone names, from the CLDR windowsZones table shipped in `windows-iana`
 * (with CLDR's IANA alias sets, so old names like `Asia/Calcutta` resolve too).
 */
import { IANA_ALIAS_MAP, WINDOWS_TO_IANA_MAP } from 'windows-iana';

interface Tables {
  /** IANA name (every alias) -> Windows name. */
  toWindows: Map<string, string>;
  /** Windows name -> IANA name of CLDR territory "001" (the zone's default). */
  toIana: Map<string, string>;
  /** Lower-cased keys for case-insensitive fallbacks. */
  toWindowsLower: Map<string, string>;
  toIanaLower: Map<string, string>;
}

let tables: Tables | undefined;

function build(): Tables {
  const aliases = new Map<string, readonly string[]>();
  for (const entry of IANA_ALIAS_MAP) for (const a of entry.alias) aliases.set(a, entry.alias);
  const toWindows = new Map<string, string>();
  const toIana = new Map<string, string>();
  // Territory "001" rows first, so a zone listed under several Windows names keeps its default one.
  const rows = [...WINDOWS_TO_IANA_MAP].sort(
    (a, b) => Number(b.territory === '001') - Number(a.territory === '001'),
  );
  for (const row of rows) {
    if (row.territory === '001' && !toIana.has(row.windowsName)) toIana.set(row.windowsName, row.iana[0]);
    for (const iana of row.iana) {
      for (const name of aliases.get(iana) ?? [iana]) {
        if (!toWindows.has(name)) toWindows.set(name, row.windowsName);
      }
    }
  }
  const lower = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [k.toLowerCase(), v]));
  return { toWindows, toIana, toWindowsLower: lower(toWindows), toIanaLower: lower(toIana) };
}

function get(): Tables {
  tables ??= build();
  return tables;
}

/**
 * Windows zone name for an IANA zone or any of its aliases (`Asia/Kolkata` and `Asia/Calcutta` ->
 * `India Standard Time`, `UTC`/`Etc/UTC` -> `UTC`). Exact match first, then case-insensitive, then
 * the name ICU canonicalizes it to.
 * Undefined when CLDR has no mapping.
 */
export function toWindowsZone(iana: string): string | undefined {
  const t = get();
  const hit = t.toWindows.get(iana) ?? t.toWindowsLower.get(iana.trim().toLowerCase());
  if (hit) return hit;
  // Names newer than the package's alias data (e.g. Europe/Kyiv): ICU resolves them to CLDR ids.
  const canonical = icuCanonical(iana);
  return canonical && canonical !== iana ? t.toWindows.get(canonical) : undefined;
}

function icuCanonical(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone.trim() }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * The default IANA zone (CLDR territory "001") for a Windows zone name
 * (`China Standard Time` -> `Asia/Shanghai`). Undefined for an unknown name.
 */
export function toIanaZone(windows: string): string | undefined {
  const t = get();
  return t.toIana.get(windows) ?? t.toIanaLower.get(windows.trim().toLowerCase());
}
