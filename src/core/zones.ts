/**
 * IANA <-> Windows time zone names, from CLDR's current windowsZones table (npm `cldr-core`,
 * `supplemental/windowsZones.json`; CLDR 48 maps Asia/Almaty to West Asia Standard Time,
 * America/Ciudad_Juarez to Mountain Standard Time and Mountain Standard Time (Mexico) to
 * America/Mazatlan, where the older `windows-iana` data did not).
 *
 * CLDR keys zones by CLDR-canonical ids (`Asia/Calcutta`, `Europe/Kiev`), and some `_type` values
 * carry stray spaces. A name is looked up as given, then case-insensitively, then through CLDR's
 * deprecated-zone aliases (`aliases.json`: `America/Santa_Isabel` -> `America/Tijuana`), then as the
 * id ICU canonicalizes it to (`Asia/Kolkata` and `Asia/Calcutta` resolve to the same id whichever
 * form the runtime's ICU prefers, since the table is indexed under ICU's form of each key too).
 */
import aliasData from 'cldr-core/supplemental/aliases.json' with { type: 'json' };
import windowsData from 'cldr-core/supplemental/windowsZones.json' with { type: 'json' };

interface Row {
  windows: string;
  territory: string;
  iana: string[];
}

interface Tables {
  /** IANA name (as CLDR keys it, and as ICU names it) -> Windows name. */
  toWindows: Map<string, string>;
  /** Windows name -> IANA name of CLDR territory "001" (the zone's default). */
  toIana: Map<string, string>;
  toWindowsLower: Map<string, string>;
  toIanaLower: Map<string, string>;
  /** Deprecated zone -> its replacement (CLDR zoneAlias). */
  aliases: Map<string, string>;
}

/** The windowsZones rows: `_type` split on whitespace (it has trailing spaces), empties dropped. */
export function windowsZoneRows(): Row[] {
  return windowsData.supplemental.windowsZones.mapTimezones.map(({ mapZone }) => ({
    windows: mapZone._other,
    territory: mapZone._territory,
    iana: mapZone._type.split(/\s+/).filter(Boolean),
  }));
}

function zoneAliases(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (prefix: string, node: Record<string, any>) => {
    for (const [k, v] of Object.entries(node)) {
      if (typeof v?._replacement === 'string') out.set(`${prefix}${k}`, v._replacement.split(/\s+/)[0]);
      else if (v && typeof v === 'object') walk(`${prefix}${k}/`, v);
    }
  };
  walk('', aliasData.supplemental.metadata.alias.zoneAlias as Record<string, any>);
  return out;
}

let tables: Tables | undefined;

function build(): Tables {
  const rows = windowsZoneRows();
  const toWindows = new Map<string, string>();
  const toIana = new Map<string, string>();
  // Territory "001" rows first, so a zone listed under several Windows names keeps its default one.
  const ordered = [...rows].sort((a, b) => Number(b.territory === '001') - Number(a.territory === '001'));
  for (const row of ordered) {
    if (row.territory === '001' && !toIana.has(row.windows)) toIana.set(row.windows, row.iana[0]);
    for (const iana of row.iana) if (!toWindows.has(iana)) toWindows.set(iana, row.windows);
  }
  for (const [iana, windows] of [...toWindows]) {
    const icu = icuCanonical(iana);
    if (icu && !toWindows.has(icu)) toWindows.set(icu, windows);
  }
  const lower = (m: Map<string, string>) => new Map([...m].map(([k, v]) => [k.toLowerCase(), v]));
  return {
    toWindows,
    toIana,
    toWindowsLower: lower(toWindows),
    toIanaLower: lower(toIana),
    aliases: zoneAliases(),
  };
}

function get(): Tables {
  tables ??= build();
  return tables;
}

function icuCanonical(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone.trim() }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * Windows zone name for an IANA zone or any of its aliases (`Asia/Kolkata` and `Asia/Calcutta` ->
 * `India Standard Time`, `UTC`/`Etc/UTC` -> `UTC`). Undefined when CLDR has no mapping.
 */
export function toWindowsZone(iana: string): string | undefined {
  const t = get();
  const name = iana.trim();
  if (!name) return undefined;
  const direct = t.toWindows.get(name) ?? t.toWindowsLower.get(name.toLowerCase());
  if (direct) return direct;
  const replaced = t.aliases.get(name);
  if (replaced && t.toWindows.has(replaced)) return t.toWindows.get(replaced);
  const canonical = icuCanonical(name);
  if (!canonical) return undefined;
  // ICU names UTC `UTC`; CLDR lists it as `Etc/UTC`.
  return t.toWindows.get(canonical === 'UTC' ? 'Etc/UTC' : canonical);
}

/**
 * The default IANA zone (CLDR territory "001") for a Windows zone name
 * (`China Standard Time` -> `Asia/Shanghai`). Undefined for an unknown name.
 */
export function toIanaZone(windows: string): string | undefined {
  const t = get();
  return t.toIana.get(windows) ?? t.toIanaLower.get(windows.trim().toLowerCase());
}
