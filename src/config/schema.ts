// The configuration schema: implements /work/shared/design/CONFIG.md (keys, meaning, defaults).
// Strict objects everywhere (unknown keys are errors). Descriptions feed config/feisync.schema.json.
import { z } from 'zod';
import { SYNC_FIELDS } from '../core/fingerprint.ts';
import { crossChecks } from './checks.ts';
import {
  boolField,
  cronField,
  domainField,
  durationField,
  emailField,
  enumField,
  intField,
  nonEmpty,
  secretKeyField,
  urlField,
} from './fields.ts';

export { SYNC_FIELDS };

// The Feishu Node SDK's WSClient silently refuses to start unless appId matches this (reference notes §5).
const APP_ID_RE = /^cli_[0-9a-fA-F]{16}$/;

const events = z
  .strictObject({
    mode: enumField(['websocket', 'webhook', 'poll'])
      .default('websocket')
      .describe(
        'How Feishu change events arrive: websocket (long connection, no public URL) | webhook | poll',
      ),
    encrypt_key: z
      .string({ error: 'a string' })
      .default('')
      .describe('Webhook mode: the Encrypt Key, used to decrypt events and verify signatures'),
    verification_token: z
      .string({ error: 'a string' })
      .default('')
      .describe('Webhook mode: the Verification Token'),
    poll_interval: durationField(1000, '1s')
      .prefault('5m')
      .describe('Poll mode, and for users without a user token: how often to pull (e.g. 30s, 5m, 1h)'),
  })
  .describe('Feishu change events');

const feishu = z
  .strictObject({
    app_id: z
      .string({ error: 'cli_ followed by 16 hex digits' })
      .regex(APP_ID_RE, { error: 'cli_ followed by 16 hex digits' })
      .describe('Feishu app id: cli_ followed by 16 hex digits'),
    app_secret: nonEmpty('a non-empty string').describe('Feishu app secret'),
    domain: urlField()
      .default('https://open.feishu.cn')
      .describe('https://open.feishu.cn; https://open.larksuite.com for Lark; an emulator URL in tests'),
    events: events.prefault({}),
  })
  .describe('The Feishu (Lark) app: the hub');

const spokeCalendar = enumField(['primary', 'dedicated'])
  .default('primary')
  .describe('primary | dedicated (a "Feishu" secondary calendar per user)');

const google = z
  .strictObject({
    credentials_file: nonEmpty('a file path').describe(
      'Service account key (JSON) with domain-wide delegation',
    ),
    root_url: urlField()
      .default('https://www.googleapis.com/')
      .describe('Google API root URL; override for an emulator'),
    token_url: urlField()
      .default('https://oauth2.googleapis.com/token')
      .describe('OAuth token endpoint; override for an emulator'),
    calendar: spokeCalendar,
    admin: emailField('a Workspace admin e-mail')
      .optional()
      .describe(
        'Workspace admin the service account acts as for the room directory and for booking events on room calendars',
      ),
  })
  .describe('Google Workspace spoke; omit the section to disable Google');

const exchange = z
  .strictObject({
    tenant_id: nonEmpty('a non-empty string (the Entra tenant id)').describe('Microsoft Entra tenant id'),
    client_id: nonEmpty('a non-empty string (the app registration client id)').describe(
      'App registration (client) id',
    ),
    client_secret: nonEmpty('a non-empty string').describe('App registration client secret'),
    base_url: urlField()
      .default('https://graph.microsoft.com')
      .describe('Microsoft Graph base URL; override for an emulator'),
    authority_url: urlField()
      .default('https://login.microsoftonline.com')
      .describe('Entra authority URL; override for an emulator'),
    calendar: spokeCalendar,
  })
  .describe('Microsoft Exchange (Graph) spoke; omit the section to disable Exchange');

const calendars = z
  .union(
    [
      z.literal('primary'),
      z.literal('all'),
      z.array(nonEmpty('a calendar id or name')).min(1, { error: 'a list with at least one calendar' }),
    ],
    { error: 'primary, all, or a list of calendar ids or names' },
  )
  .default('primary')
  .describe('primary | all | a list of calendar ids or names');

const explicitUser = z
  .strictObject({
    feishu: nonEmpty('a Feishu e-mail, open_id (ou_...) or user_id').describe(
      'Feishu user: e-mail, open_id (ou_...) or user_id',
    ),
    google: emailField().optional().describe('Google Workspace user (e-mail)'),
    exchange: emailField().optional().describe('Exchange mailbox (e-mail / UPN)'),
    calendars,
  })
  .describe('An explicit user mapping (wins over rules)');

const ruleUser = z
  .strictObject({
    rule: z
      .strictObject({
        feishu_domain: domainField().describe('Feishu e-mail domain'),
        google_domain: domainField().optional().describe('Google e-mail domain for the same local part'),
        exchange_domain: domainField().optional().describe('Exchange e-mail domain for the same local part'),
      })
      .describe('Bulk mapping by e-mail domain'),
  })
  .describe('A rule mapping users by e-mail domain');

const room = z
  .strictObject({
    feishu: nonEmpty('a Feishu room id (omm_...) or third-party room open_id').describe(
      'Feishu room id (also a third-party room open_id)',
    ),
    name: z.string({ error: 'a string' }).optional().describe('Display name, for reports'),
    google: emailField('a Google resource calendar id (...@resource.calendar.google.com)')
      .optional()
      .describe('Google resource calendar id'),
    exchange: emailField('an Exchange room mailbox address').optional().describe('Exchange room mailbox'),
  })
  .describe('A meeting room mapping');

const direction = enumField(['one-way', 'two-way'])
  .default('one-way')
  .describe('one-way (Feishu -> spoke) | two-way');

const sync = z
  .strictObject({
    direction: z
      .strictObject({ google: direction, exchange: direction })
      .prefault({})
      .describe('Per spoke: one-way (Feishu -> spoke) | two-way'),
    window: z
      .strictObject({
        past_days: intField(0).prefault(30).describe('Days before today to sync'),
        future_days: intField(1).prefault(365).describe('Days after today to sync'),
      })
      .prefault({})
      .describe('The time window that is synced and reconciled'),
    fields: z
      .array(enumField(SYNC_FIELDS), { error: `a list of: ${SYNC_FIELDS.join(', ')}` })
      .refine((list) => new Set(list).size === list.length, { error: 'a list without duplicates' })
      .default([...SYNC_FIELDS])
      .describe('Fields that are synced (time, recurrence and status always are)'),
    private_events: enumField(['copy', 'busy-only', 'skip'])
      .default('busy-only')
      .describe('Private events: copy | busy-only | skip'),
    invitations: enumField(['none', 'send']).default('none').describe('none | send (mail to real attendees)'),
    conflicts: enumField(['feishu-wins', 'spoke-wins', 'newest-wins', 'report'])
      .default('feishu-wins')
      .describe('Both sides changed: feishu-wins | spoke-wins | newest-wins | report (hold for review)'),
    max_deletes_per_run: intField(0)
      .prefault(200)
      .describe('Guard: above this many deletes the run stops and reports'),
  })
  .describe('Sync policy');

const reconcile = z
  .strictObject({
    schedule: cronField()
      .default('0 3 * * *')
      .describe('Cron (5 fields) for reconciliation inside `feisync serve`'),
    repair: boolField().prefault(true).describe('true: repair differences; false: report only'),
  })
  .describe('Scheduled reconciliation');

const server = z
  .strictObject({
    host: nonEmpty('a host name or IP address').default('127.0.0.1').describe('Address to listen on'),
    port: intField(0, 65535).prefault(8080).describe('Port to listen on'),
    public_url: urlField()
      .optional()
      .describe('Where Feishu, Google and Graph reach the webhooks (needed for events.mode webhook)'),
    admins: z
      .array(nonEmpty('a Feishu e-mail or open_id'), { error: 'a list of Feishu e-mails or open_ids' })
      .default([])
      .describe('Feishu users (e-mail or open_id) allowed to sign in to the console'),
    metrics_token: z
      .string({ error: 'a string' })
      .default('')
      .describe('When set, /metrics wants "Authorization: Bearer <token>"'),
  })
  .describe('`feisync serve`');

const database = z
  .strictObject({
    url: z
      .union([z.literal(''), z.url({ protocol: /^postgres(ql)?$/ })], {
        error: 'a postgres:// URL, or empty for the embedded database',
      })
      .default('')
      .describe('postgres://... ; empty: embedded PGlite in data_dir'),
    data_dir: nonEmpty('a directory path').default('./.feisync').describe('Folder for the embedded database'),
  })
  .describe('Storage');

const wave = z
  .strictObject({
    name: nonEmpty('a wave name')
      .regex(/^[A-Za-z0-9._-]+$/, { error: 'a wave name of letters, digits, dot, dash or underscore' })
      .describe('The wave name used by `feisync migrate plan|cutover|rollback WAVE`'),
    users: z
      .array(nonEmpty('a Feishu e-mail, open_id (ou_...) or user_id'), {
        error: 'a list of Feishu users (as in users[].feishu)',
      })
      .min(1, { error: 'a list with at least one user' })
      .optional()
      .describe('The Feishu users of the wave (as in users[].feishu)'),
    rule: z
      .strictObject({ feishu_domain: domainField().describe('Feishu e-mail domain of the wave') })
      .optional()
      .describe('Or: every user of this Feishu e-mail domain'),
    target: enumField(['google', 'exchange']).describe('The spoke the wave moves to: google | exchange'),
    cutover: z
      .string({ error: 'an ISO 8601 date-time with an offset, e.g. 2027-01-15T18:00:00+08:00' })
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/, {
        error: 'an ISO 8601 date-time with an offset, e.g. 2027-01-15T18:00:00+08:00',
      })
      .optional()
      .describe('Optional cutover time; `feisync migrate cutover` runs it by hand'),
  })
  .describe('A wave of users moved from Feishu to one spoke');

const migration = z
  .strictObject({
    waves: z.array(wave).default([]).describe('Waves of the migration, in order'),
  })
  .describe('A migration from Feishu to a spoke, in waves (optional)');

export const configSchema = z
  .strictObject({
    feishu,
    google: google.optional(),
    exchange: exchange.optional(),
    users: z
      .array(
        z.union([explicitUser, ruleUser], {
          error:
            'a user mapping {feishu, google?, exchange?, calendars?} or a rule {rule: {feishu_domain, ...}}',
        }),
      )
      .default([])
      .describe('User mappings'),
    rooms: z.array(room).default([]).describe('Meeting room mappings'),
    sync: sync.prefault({}),
    reconcile: reconcile.prefault({}),
    server: server.prefault({}),
    migration: migration.prefault({}),
    database: database.prefault({}),
    secret_key: secretKeyField().describe('32 bytes base64; encrypts stored tokens'),
  })
  .superRefine(crossChecks)
  .describe('Feisync configuration');

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
