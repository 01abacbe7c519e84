/**
 * A server with only the Feishu webhook route, under the same limits as `serve`'s (tests that drive
 * the intake without the whole service use it).
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { Deduplicator, HintHandler } from '../../connectors/feishu/events.ts';
import { boundInFlight, DEFAULT_LIMITS, serverFactory } from './limits.ts';
import { feishuWebhook } from './public.ts';

export interface WebhookServer {
  /** The webhook's full URL. */
  url: string;
  close(): Promise<void>;
}

export async function startWebhookServer(options: {
  host?: string;
  port?: number;
  encryptKey?: string;
  verificationToken?: string;
  dedup?: Deduplicator;
  /** Must return quickly: queue the work, do not do it here. */
  onHint: HintHandler;
}): Promise<WebhookServer> {
  const web = Fastify({ bodyLimit: DEFAULT_LIMITS.bodyLimit, serverFactory: serverFactory(DEFAULT_LIMITS) });
  boundInFlight(web, DEFAULT_LIMITS.maxInFlight);
  await feishuWebhook(web, { enabled: true, ...options });
  await web.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const { address, port } = web.server.address() as AddressInfo;
  return { url: `http://${address}:${port}/webhooks/feishu`, close: () => web.close() };
}
