/**
 * The one place that knows every part: config -> connectors, database, stores, sync policy.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createFeishuConnector, type FeishuConnector } from '../../connectors/feishu/client.ts';
import { createUserTokenProvider, type UserTokenProvider } from '../../connectors/feishu/user-tokens.ts';
import { createGoogleConnector } from '../../connectors/google/index.ts';
import { createGraphConnector } from '../../connectors/graph/connector.ts';
import type { Config } from '../config/index.ts';
import type { CalendarConnector, ConcurrencySlots, RateBudget } from '../ports/index.ts';
import { SharedBudget } from '../store/budget.ts';
import { PrismaUserTokenStore, parseSecretKey } from '../store/credentials.ts';
import { type Database, openDatabase } from '../store/db.ts';
import { PrismaLinkStore } from '../store/links.ts';
import { SharedSlots } from '../store/slots.ts';
import type { Spoke, SyncPolicy } from '../sync/pair.ts';
import { UsageError } from './exit.ts';

export interface App {
  config: Config;
  configFile: string;
  db: Database;
  links: PrismaLinkStore;
  /** Feishu user tokens from consent, stored encrypted; refreshed before they expire. */
  userTokens: UserTokenProvider;
  feishu: FeishuConnector;
  spokes: Partial<Record<Spoke, CalendarConnector>>;
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** Relax the connectors' own pacing (the demo runs against emulators with limits off). */
  unthrottled?: boolean;
}

export async function compose(
  config: Config,
  configFile: string,
  options: ComposeOptions = {},
): Promise<App> {
  const base = dirname(resolve(configFile));
  const db = await openDatabase({
    url: config.database.url || undefined,
    dataDir: resolve(base, config.database.data_dir),
  });
  // on Postgres several processes may sync at once: they share every provider's budgets there
  const budget = db.kind === 'postgres' && !options.unthrottled ? new SharedBudget(db.executeSql) : undefined;
  const userTokens = createUserTokenProvider({
    appId: config.feishu.app_id,
    appSecret: config.feishu.app_secret,
    domain: config.feishu.domain,
    store: new PrismaUserTokenStore(db.prisma, parseSecretKey(config.secret_key)),
  });
  const feishu = createFeishuConnector({
    appId: config.feishu.app_id,
    appSecret: config.feishu.app_secret,
    domain: config.feishu.domain,
    userToken: (openId) => userTokens.get(openId),
    // Feishu lists events without attendees: fetching them costs a request per event, so only when synced
    attendees: config.sync.fields.includes('attendees'),
    ...(options.unthrottled ? { rate: { perSecond: 100_000, perMinute: 1_000_000 } } : {}),
    ...(budget ? { budget } : {}),
  });
  let spokes: App['spokes'];
  try {
    spokes = composeSpokes(
      config,
      configFile,
      options,
      budget && { budget, slots: new SharedSlots(db.locks) },
    );
  } catch (e) {
    feishu.close();
    userTokens.close();
    await db.close();
    throw e;
  }
  return {
    config,
    configFile,
    db,
    links: new PrismaLinkStore(db.prisma),
    userTokens,
    feishu,
    spokes,
    close: () => {
      feishu.close();
      userTokens.close();
      return db.close();
    },
  };
}

/**
 * The spoke connectors of the config alone (no database): for `compose` and for checks that only
 * talk to the spokes, such as `feisync config check --online`.
 */
export function composeSpokes(
  config: Config,
  configFile: string,
  options: ComposeOptions = {},
  /** The budgets and slots shared by the workers on one database; each connector keeps its own otherwise. */
  shared?: { budget: RateBudget; slots: ConcurrencySlots },
): Partial<Record<Spoke, CalendarConnector>> {
  const base = dirname(resolve(configFile));
  const spokes: Partial<Record<Spoke, CalendarConnector>> = {};
  if (config.google) {
    const file = resolve(base, config.google.credentials_file);
    let credentials: any;
    try {
      credentials = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UsageError(
        `google.credentials_file: cannot read a service-account key from ${file} (${(e as Error).message})`,
      );
    }
    spokes.google = createGoogleConnector({
      credentials,
      rootUrl: config.google.root_url,
      tokenUrl: config.google.token_url,
      ...(config.google.admin ? { adminEmail: config.google.admin } : {}),
      sendUpdates: config.sync.invitations === 'send' ? 'all' : 'none',
      ...(options.unthrottled ? { rate: { perUser: 0 } } : {}),
      ...(shared ? { budget: shared.budget } : {}),
    });
  }
  if (config.exchange) {
    spokes.graph = createGraphConnector({
      tenantId: config.exchange.tenant_id,
      clientId: config.exchange.client_id,
      clientSecret: config.exchange.client_secret,
      baseUrl: config.exchange.base_url,
      authorityUrl: config.exchange.authority_url,
      window: { pastDays: config.sync.window.past_days, futureDays: config.sync.window.future_days },
      ...(options.unthrottled ? { mailboxRequests: 0 } : {}),
      ...(shared ?? {}),
    });
  }
  return spokes;
}

/** The sync policy of the config, with the window anchored at `now` (Unix seconds). */
export function policyOf(config: Config, now = Math.floor(Date.now() / 1000)): SyncPolicy {
  const day = 86_400;
  return {
    fields: config.sync.fields,
    privateEvents: config.sync.private_events,
    invitations: config.sync.invitations,
    maxDeletesPerRun: config.sync.max_deletes_per_run,
    window: {
      from: now - config.sync.window.past_days * day,
      to: now + config.sync.window.future_days * day,
    },
  };
}
