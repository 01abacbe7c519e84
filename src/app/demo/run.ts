/**
 * `feisync demo`: the whole product against the three emulators and a generated tenant. Initial sync
 * to both spokes, a round of changes made in Feishu and delivered as real (encrypted, signed) change
 * events to the webhook, then parity read back through the spokes' APIs.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { FeishuHint } from '../../../connectors/feishu/events.ts';
import { parseConfig } from '../../config/index.ts';
import { expandRecurrence } from '../../core/recurrence/index.ts';
import { roomLedger } from '../../store/bookings.ts';
import type { Pair } from '../../sync/pair.ts';
import type { Parity } from '../../sync/parity.ts';
import { type PairResult, pullCalendar } from '../../sync/pull.ts';
import { type App, compose, policyOf } from '../compose.ts';
import { control, startEmulators } from '../emulators.ts';
import { resolvePairs } from '../pairs.ts';
import { exact, readParity } from '../parity-run.ts';
import { runSync, type SyncReport } from '../sync-run.ts';
import { startWebhookServer } from '../webhook.ts';
import { type FeishuEvent, generateTenant, localToUnix, type Tenant } from './tenant.ts';

export interface DemoResult {
  ok: boolean;
  tenant: { users: number; events: number; rooms: number };
  initial: Pick<SyncReport, 'totals' | 'events' | 'seconds' | 'problems'>;
  changes: { change: string; deliveries: number; applied: Record<string, string> }[];
  parity: Record<string, Omit<Parity, 'examples'> & { examples?: Parity['examples'] }>;
}

export async function runDemo(
  options: { users?: number; events?: number; log?: (line: string) => void } = {},
) {
  const log = options.log ?? (() => {});
  const now = Math.floor(Date.now() / 1000);
  const tenant = generateTenant({ users: options.users ?? 20, events: options.events ?? 2000, now });
  const dir = mkdtempSync(join(tmpdir(), 'feisync-demo-'));
  const app = tenant.seeds.feishu.apps[0];
  const pending = new Set<Promise<unknown>>();
  const applied: Record<string, string> = {};
  let onHint: (hint: FeishuHint) => void = () => {};
  const webhook = await startWebhookServer({
    encryptKey: app.encrypt_key,
    verificationToken: app.verification_token,
    onHint: (hint) => onHint(hint),
  });
  const seeds = {
    ...tenant.seeds,
    feishu: { ...tenant.seeds.feishu, apps: [{ ...app, event_url: webhook.url }] },
  };
  const emulators = await startEmulators({ seed: seeds, unlimited: true });
  let feisync: App | undefined;
  try {
    await control(emulators.feishu, 'push', { aggregateMs: 200, retryDelaysMs: [200, 500, 1000] });
    const configFile = writeDemoFiles(dir, tenant);
    const config = parseConfig(
      stringify({
        ...tenant.config,
        users: tenant.config.users.map((u: any) => ({ ...u, calendars: 'all' })),
      }),
      configFile,
      { FEISHU_URL: emulators.feishu, GOOGLE_URL: emulators.google, GRAPH_URL: emulators.graph },
    );
    feisync = await compose(config, configFile, { unthrottled: true });
    const f = feisync;
    // every user consents (OAuth in real life): their tokens, stored encrypted, let Feisync read and
    // subscribe to their calendars
    for (const u of tenant.users) {
      const grant = await control(emulators.feishu, 'user-token', { app_id: app.app_id, open_id: u.openId });
      await f.userTokens.adopt(u.openId, grant);
    }
    log(
      `tenant: ${tenant.users.length} users, ${tenant.expected.events} Feishu events, ${tenant.rooms.length} rooms`,
    );

    const initial = await runSync(f);
    log(
      `initial sync: ${initial.events} events in ${initial.seconds.toFixed(1)} s; created ${initial.totals.created}, failed ${initial.totals.failed}`,
    );
    const resolved = await resolvePairs(f);
    let pairs = resolved.pairs;
    for (const u of tenant.users) {
      await f.feishu.subscribeCalendarList(u.openId);
      await f.feishu.subscribeEvents(u.openId, u.calendarId);
    }

    // change events: pull the named calendar (or re-list a user's calendars), coalescing bursts
    const policy = policyOf(config);
    const track = (p: Promise<unknown>) => {
      pending.add(p);
      p.finally(() => pending.delete(p));
    };
    const pull = (group: Pair[]) =>
      pullCalendar(group, {
        feishu: f.feishu,
        spokes: f.spokes,
        store: f.links,
        policy,
        attendeeFor: resolved.attendeeFor,
        rooms: roomLedger(f.db.prisma),
      }).then((rs) => note(rs));
    const note = (rs: PairResult[]) => {
      for (const r of rs) {
        const c = r.counts;
        applied[r.pair.spoke] = `+${c.created} ~${c.updated} -${c.deleted}${c.failed ? ` !${c.failed}` : ''}`;
      }
    };
    onHint = (hint) => {
      if (hint.type === 'pull-calendar') track(pull(pairs.filter((p) => p.feishu.id === hint.calendarId)));
      if (hint.type === 'relist-calendars') {
        track(
          resolvePairs(f).then(async (r) => {
            const fresh = r.pairs.filter((p) => !pairs.some((q) => q.id === p.id));
            pairs = r.pairs;
            for (const id of new Set(fresh.map((p) => p.feishu.id))) {
              await f.feishu.subscribeEvents(fresh[0].feishu.owner, id);
              await pull(fresh.filter((p) => p.feishu.id === id));
            }
          }),
        );
      }
    };

    const changes: DemoResult['changes'] = [];
    for (const [label, act] of changeRound(tenant, emulators.feishu)) {
      const before = ((await control(emulators.feishu, 'deliveries')).deliveries ?? []).length;
      for (const k of Object.keys(applied)) delete applied[k];
      await act();
      await settle(emulators.feishu, pending);
      const after = ((await control(emulators.feishu, 'deliveries')).deliveries ?? []).length;
      changes.push({ change: label, deliveries: after - before, applied: { ...applied } });
      log(
        `${label}: ${after - before} change event(s); google ${applied.google ?? '-'}, exchange ${applied.graph ?? '-'}`,
      );
    }

    const { perSpoke } = await readParity(f, pairs, policy, resolved.attendeeFor);
    const parity: DemoResult['parity'] = {};
    for (const [spoke, p] of Object.entries(perSpoke)) {
      parity[spoke === 'graph' ? 'exchange' : spoke] = exact(p) ? { ...p, examples: undefined } : p;
    }
    const ok = Object.values(perSpoke).every(exact) && initial.totals.failed === 0;
    const result: DemoResult = {
      ok,
      tenant: { users: tenant.users.length, events: tenant.expected.events, rooms: tenant.rooms.length },
      initial: {
        totals: initial.totals,
        events: initial.events,
        seconds: initial.seconds,
        problems: initial.problems,
      },
      changes,
      parity,
    };
    return result;
  } finally {
    await feisync?.close();
    await emulators.close();
    await webhook.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deliver now instead of after the aggregation window, then wait until every pull it caused is done. */
async function settle(feishuUrl: string, pending: Set<Promise<unknown>>) {
  for (let round = 0; round < 20; round++) {
    await control(feishuUrl, 'deliver');
    await new Promise((r) => setTimeout(r, 50));
    if (pending.size === 0) {
      await new Promise((r) => setTimeout(r, 150));
      if (pending.size === 0) return;
    }
    await Promise.allSettled([...pending]);
  }
}

function changeRound(t: Tenant, feishuUrl: string): [string, () => Promise<unknown>][] {
  const events = t.seeds.feishu.events;
  const single = events.find((e) => !e.recurrence && !e.is_exception && e.visibility !== 'private')!;
  const series = events.filter(
    (e) => e.recurrence && /FREQ=(DAILY|WEEKLY)/.test(e.recurrence) && 'timestamp' in e.start_time,
  );
  const [moved, cancelled, deleted] = [series[0], series[1], series[2]];
  const edit = (body: object) => control(feishuUrl, 'events', body);
  const owner = t.users.find((u) => u.calendarId === single.organizer_calendar_id) ?? t.users[0];
  const start = Number((single.start_time as { timestamp: string }).timestamp);
  return [
    [
      'create an event',
      () =>
        edit({
          op: 'create',
          calendar_id: owner.calendarId,
          event: {
            summary: 'Feisync demo: new event',
            start_time: { timestamp: String(t.now + 2 * 86_400), timezone: 'Asia/Shanghai' },
            end_time: { timestamp: String(t.now + 2 * 86_400 + 1800), timezone: 'Asia/Shanghai' },
          },
        }),
    ],
    [
      'edit an event',
      () =>
        edit({
          op: 'patch',
          calendar_id: single.organizer_calendar_id,
          event_id: single.event_id,
          event: { summary: `${single.summary} (edited)` },
        }),
    ],
    [
      'move one occurrence',
      () => {
        const at = occurrence(moved, 2);
        return edit({
          op: 'patch',
          calendar_id: moved.organizer_calendar_id,
          event_id: `${moved.event_id.replace(/_0$/, '')}_${at}`,
          event: {
            start_time: { timestamp: String(at + 3600), timezone: moved.start_time.timezone },
            end_time: { timestamp: String(at + 3600 + duration(moved)), timezone: moved.start_time.timezone },
          },
        });
      },
    ],
    [
      'cancel one occurrence',
      () =>
        edit({
          op: 'delete',
          calendar_id: cancelled.organizer_calendar_id,
          event_id: `${cancelled.event_id.replace(/_0$/, '')}_${occurrence(cancelled, 3)}`,
        }),
    ],
    [
      'delete a series',
      () => edit({ op: 'delete', calendar_id: deleted.organizer_calendar_id, event_id: deleted.event_id }),
    ],
    [
      'add a calendar',
      async () => {
        const calendar_id = `feishu.cn_demo${start}@group.calendar.feishu.cn`;
        await control(feishuUrl, 'calendars', {
          op: 'create',
          calendar: {
            calendar_id,
            owner_open_id: owner.openId,
            type: 'shared',
            summary: 'Projects',
            role: 'owner',
          },
        });
        await edit({
          op: 'create',
          calendar_id,
          event: {
            summary: 'Kick-off in the new calendar',
            start_time: { timestamp: String(t.now + 3 * 86_400), timezone: 'Europe/Berlin' },
            end_time: { timestamp: String(t.now + 3 * 86_400 + 3600), timezone: 'Europe/Berlin' },
          },
        });
      },
    ],
  ];
}

const duration = (e: FeishuEvent) =>
  Number((e.end_time as { timestamp: string }).timestamp) -
  Number((e.start_time as { timestamp: string }).timestamp);

/** Unix start of the n-th occurrence of a timed series, in its own zone. */
function occurrence(e: FeishuEvent, n: number): number {
  const zone = e.start_time.timezone ?? 'UTC';
  const start = Number((e.start_time as { timestamp: string }).timestamp);
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  })
    .format(new Date(start * 1000))
    .replace(' ', 'T');
  const list = expandRecurrence(e.recurrence!, local, zone, { count: n + 1 });
  const pick = list[Math.min(n, list.length - 1)];
  const day = Date.parse(`${pick.slice(0, 10)}T00:00:00Z`) / 86_400_000;
  return localToUnix(day, Number(pick.slice(11, 13)) * 60 + Number(pick.slice(14, 16)), zone);
}

/** Writes the tenant's config (emulator URLs as ${FEISHU_URL} etc.) and a Google service-account key. */
export function writeDemoFiles(dir: string, t: Tenant): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(
    join(dir, 'google-service-account.json'),
    JSON.stringify({
      type: 'service_account',
      client_email: 'feisync-demo@feisync-demo.iam.gserviceaccount.com',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      private_key_id: 'demo',
    }),
  );
  const file = join(dir, 'feisync.yaml');
  writeFileSync(file, stringify(t.config));
  return file;
}
