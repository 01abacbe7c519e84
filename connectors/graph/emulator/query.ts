/** OData query options, `Prefer` headers and paging shared by the list routes. */
import type { EmRequest } from '../../emulator/index.ts';
import { ianaOf } from '../time.ts';
import { gfail } from './errors.ts';
import type { RenderOptions } from './eventio.ts';
import { propKey } from './model.ts';

export function preferences(req: EmRequest): { zone?: { zone: string; name: string }; maxPageSize?: number } {
  const raw = ([] as string[]).concat(req.headers.prefer ?? []).join(',');
  const out: { zone?: { zone: string; name: string }; maxPageSize?: number } = {};
  const tz = /outlook\.timezone\s*=\s*"([^"]+)"/i.exec(raw)?.[1];
  const zone = tz ? ianaOf(tz) : undefined;
  if (tz && zone) out.zone = { zone, name: tz };
  const size = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(raw)?.[1];
  if (size) out.maxPageSize = Number(size);
  return out;
}

/** Extended-property ids named in `$expand=singleValueExtendedProperties($filter=id eq '...')`. */
export function expandedProps(req: EmRequest): string[] | undefined {
  const expand = req.query.get('$expand');
  if (!expand) return undefined;
  const m = /singleValueExtendedProperties\s*\(\s*\$filter\s*=\s*(.*)\)\s*$/i.exec(expand.trim());
  if (!m) return /^singleValueExtendedProperties$/i.test(expand.trim()) ? [] : undefined;
  return [...m[1].matchAll(/id\s+eq\s+'((?:[^']|'')*)'/gi)].map((x) => propKey(x[1].replace(/''/g, "'")));
}

export function renderOptions(req: EmRequest): RenderOptions {
  const select = req.query.get('$select');
  return {
    prefer: preferences(req).zone,
    expandProps: expandedProps(req),
    select: select ? select.split(',').map((s) => s.trim()) : undefined,
  };
}

/** `$filter=singleValueExtendedProperties/Any(ep: ep/id eq 'X' and ep/value eq 'Y')`, else a 400. */
export function propertyFilter(req: EmRequest): { key: string; value: string } | undefined {
  const f = req.query.get('$filter');
  if (!f) return undefined;
  const m =
    /^singleValueExtendedProperties\/any\(\s*(\w+)\s*:\s*\1\/id\s+eq\s+'((?:[^']|'')*)'\s+and\s+\1\/value\s+eq\s+'((?:[^']|'')*)'\s*\)$/i.exec(
      f.trim(),
    );
  if (!m) return gfail(400, 'ErrorInvalidUrlQueryFilter', `The filter '${f}' is not supported.`);
  return { key: propKey(m[2].replace(/''/g, "'")), value: m[3].replace(/''/g, "'") };
}

/** Page bounds from `$top`/`$skip` and `Prefer: odata.maxpagesize` (default 10, at most 1000). */
export function paging(req: EmRequest): { top: number; skip: number } {
  const topText = req.query.get('$top');
  const top = topText !== null ? Number(topText) : (preferences(req).maxPageSize ?? 10);
  const skip = Number(req.query.get('$skip') ?? 0);
  if (!Number.isInteger(top) || top < 1 || top > 1000)
    gfail(400, 'ErrorInvalidParameter', `Invalid $top '${topText}'.`);
  if (!Number.isInteger(skip) || skip < 0) gfail(400, 'ErrorInvalidParameter', 'Invalid $skip.');
  return { top: Math.min(top, 1000), skip };
}

export function baseUrl(req: EmRequest): string {
  return `http://${req.headers.host ?? '127.0.0.1'}`;
}

/** One page of a list: `value` plus `@odata.nextLink` with `$skip` moved on. */
export function page<T>(req: EmRequest, items: T[], context: string) {
  const { top, skip } = paging(req);
  const value = items.slice(skip, skip + top);
  const out: Record<string, unknown> = { '@odata.context': context, value };
  if (skip + top < items.length) {
    const q = new URLSearchParams(req.query);
    q.set('$skip', String(skip + top));
    if (!req.query.has('$top')) q.set('$top', String(top));
    out['@odata.nextLink'] = `${baseUrl(req)}${req.path}?${q.toString()}`;
  }
  return out;
}

/** `startDateTime`/`endDateTime` of a view; without an offset the time is UTC. Both required. */
export function viewWindow(req: EmRequest): { fromMs: number; toMs: number } {
  const s = req.query.get('startDateTime') ?? req.query.get('StartDateTime');
  const e = req.query.get('endDateTime') ?? req.query.get('EndDateTime');
  if (!s || !e) {
    return gfail(
      400,
      'ErrorInvalidParameter',
      'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
    );
  }
  const parse = (raw: string) => {
    const t = raw.trim().replace(/ (\d{2}:?\d{2})$/, '+$1');
    return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`);
  };
  const fromMs = parse(s);
  const toMs = parse(e);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) gfail(400, 'ErrorInvalidParameter', 'Invalid time window.');
  if (toMs < fromMs) gfail(400, 'ErrorInvalidParameter', 'The end of the time window precedes its start.');
  return { fromMs, toMs };
}
