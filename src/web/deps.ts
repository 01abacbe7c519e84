/** What the web layer needs from `serve`. */
import type { Deduplicator, HintHandler } from '../../connectors/feishu/events.ts';
import type { App } from '../app/compose.ts';
import type { createConsent } from '../app/consent.ts';
import type { Metrics } from '../app/metrics.ts';
import type { ConsoleDeps } from './console/types.ts';
import type { WebLimits } from './limits.ts';
import type { PushHandler } from './public.ts';

export interface WebDeps {
  app: App;
  metrics: Metrics;
  dedup: Deduplicator;
  consent: ReturnType<typeof createConsent>;
  /** Queue the work of one accepted event; resolves once it is stored. */
  onHint: HintHandler;
  /** After a consent is stored. */
  onConsent(openId: string): Promise<void>;
  /** Why the service is not ready, or undefined when it is. */
  notReady(): Promise<string | undefined>;
  /** Whether Feishu webhooks are expected (events.mode webhook). */
  webhooks: boolean;
  /** Base URL the outside world reaches us at (config server.public_url), for OAuth callbacks. */
  publicUrl?: string;
  /** Provider webhooks by path, e.g. `{'/webhooks/google': handler}`: see `mountPush`. */
  push?: Record<string, PushHandler>;
  limits: WebLimits;
  /** The operator console at `/` (left out: no console, only the JSON admin routes). */
  console?: ConsoleDeps;
}
