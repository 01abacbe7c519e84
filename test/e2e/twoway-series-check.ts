/**
 * Series compared occurrence by occurrence on the three sides (the parity report compares a series by
 * its master and its exceptions, so an occurrence lost on one side alone would not show there): for
 * every timed series of the first user in the next weeks, the starts Feishu lists (Lark SDK, the
 * user's token), those of the Google copy (googleapis `instances`) and those of the Exchange copy
 * (Graph SDK `instances`) must be the same.
 */
import { calendarFor } from '../../connectors/google/emulator/testkit.ts';
import { GraphClient } from '../../connectors/graph/client.ts';
import type { Pair } from '../../src/sync/pair.ts';
import { copyOf, feishuInstances, graphApiOf, NOW, type TwoWayWorld } from './twoway-world.ts';

const DAY = 86_400;

export interface SeriesMismatch {
  key: string;
  feishu: number[];
  google: number[];
  graph: number[];
}

export async function seriesMismatches(
  w: TwoWayWorld,
  pairs: Record<'google' | 'graph', Pair>,
): Promise<SeriesMismatch[]> {
  const user = w.tenant.users[0];
  const from = NOW + DAY;
  const to = NOW + 45 * DAY;
  const iso = (t: number) => new Date(t * 1000).toISOString();
  const masters: string[] = [];
  for await (const page of w.app.feishu.listChanges(pairs.google.feishu, null))
    for (const r of page.upserts)
      if (
        r.event.key.originalTime === 0 &&
        r.event.recurrence.length > 0 &&
        r.event.status !== 'cancelled' &&
        'timestamp' in r.event.start
      )
        masters.push(`${r.event.key.uid}_0`);
  const g = calendarFor(w.em.google, user.googleEmail);
  const graph = graphApiOf(w);
  const mailbox = `/users/${encodeURIComponent(user.exchangeEmail)}`;
  const out: SeriesMismatch[] = [];
  for (const key of masters) {
    const feishu = (await feishuInstances(w, key, from, to)).map((i) => Number(i.start));
    const gc = await copyOf(w, pairs.google, key);
    const google: number[] = [];
    if (gc) {
      let pageToken: string | undefined;
      do {
        const r = await g.events.instances({
          calendarId: user.googleEmail,
          eventId: gc.ref.id,
          timeMin: iso(from),
          timeMax: iso(to),
          pageToken,
        });
        for (const i of r.data.items ?? [])
          if (i.status !== 'cancelled') google.push(Date.parse(i.start!.dateTime!) / 1000);
        pageToken = r.data.nextPageToken ?? undefined;
      } while (pageToken);
    }
    const xc = await copyOf(w, pairs.graph, key);
    const exchange: number[] = [];
    if (xc && xc.event.recurrence.length > 0) {
      let page = await graph
        .api(`${mailbox}/events/${encodeURIComponent(xc.ref.id)}/instances`)
        .query({ startDateTime: iso(from), endDateTime: iso(to) })
        .get();
      for (;;) {
        for (const i of page.value ?? [])
          exchange.push(Date.parse(`${String(i.start.dateTime).slice(0, 19)}Z`) / 1000);
        if (!page['@odata.nextLink']) break;
        page = await graph.api(GraphClient.relative(page['@odata.nextLink'])).get();
      }
    }
    const sorted = (l: number[]) => [...l].sort((a, b) => a - b);
    const [f, gg, x] = [sorted(feishu), sorted(google), sorted(exchange)];
    // Feishu's instances overlap the window, the spokes' too: compare the starts inside it
    const inside = (l: number[]) => l.filter((t) => t >= from + DAY && t < to - DAY);
    const series = !!xc && xc.event.recurrence.length > 0;
    if (inside(f).join() !== inside(gg).join() || (series && inside(f).join() !== inside(x).join()))
      out.push({ key, feishu: inside(f), google: inside(gg), graph: inside(x) });
  }
  return out;
}
