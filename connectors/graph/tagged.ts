/**
 * The copies Feisync wrote to a calendar, by origin tag: read with one listing (1000 events a page)
 * the first time a full pull creates anything there, then looked up in memory for every create of
 * that pull. A create found here was written before its link was saved (a crash between the two)
 * and is taken as done. This replaces a tag lookup per create; retries within one pull and creates
 * of incremental pulls rely on the create's `transactionId` instead (reconcile removes duplicates
 * beyond Graph's de-duplication window).
 */
import { calendarBase, GraphClient } from './client.ts';
import { ORIGIN_PROPERTY } from './mapper.ts';

export interface TaggedRef {
  id: string;
  version?: string;
}

export class TaggedCopies {
  private calendars = new Map<string, { pull: string; index: Promise<Map<string, TaggedRef>> }>();

  constructor(private readonly client: GraphClient) {}

  /** The calendar's tagged copies as of the first call of full pull `pull` (listed once per pull). */
  index(cal: { owner: string; id: string }, pull: string): Promise<Map<string, TaggedRef>> {
    const key = `${cal.owner}\u0000${cal.id}`;
    const known = this.calendars.get(key);
    if (known?.pull === pull) return known.index;
    const index = this.list(cal);
    this.calendars.set(key, { pull, index });
    // a failed listing is not kept: the next write tries again
    index.catch(() => this.calendars.delete(key));
    return index;
  }

  /** Drops a calendar's index (its full pull is over). */
  forget(cal: { owner: string; id: string }) {
    this.calendars.delete(`${cal.owner}\u0000${cal.id}`);
  }

  private async list(cal: { owner: string; id: string }): Promise<Map<string, TaggedRef>> {
    const out = new Map<string, TaggedRef>();
    const expand = `singleValueExtendedProperties($filter=id eq '${ORIGIN_PROPERTY}')`;
    let url: string | undefined =
      `${calendarBase(cal)}/events?$select=id,changeKey&$expand=${encodeURIComponent(expand)}&$top=1000`;
    while (url) {
      const page: any = await this.client.run(cal.owner, 'list tagged copies', (api) => api.api(url!).get());
      for (const ev of page.value ?? []) {
        const tag = ev.singleValueExtendedProperties?.find((p: any) => p.id === ORIGIN_PROPERTY)?.value;
        if (typeof tag === 'string' && !out.has(tag)) out.set(tag, { id: ev.id, version: ev.changeKey });
      }
      url = page['@odata.nextLink'] ? GraphClient.relative(page['@odata.nextLink']) : undefined;
    }
    return out;
  }
}
