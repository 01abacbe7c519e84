/** The Feishu webhook endpoint (`POST /webhooks/feishu`): verify, de-duplicate, hand the hint on, ack. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Deduplicator, type HintHandler, handleWebhook } from '../../connectors/feishu/events.ts';

export interface WebhookServer {
  url: string;
  server: Server;
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
  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/webhooks/feishu') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [
        k.toLowerCase(),
        Array.isArray(v) ? v.join(',') : (v ?? ''),
      ]),
    );
    const answer = await handleWebhook(
      { headers, body: Buffer.concat(chunks).toString('utf8') },
      { encryptKey: options.encryptKey, verificationToken: options.verificationToken, dedup: options.dedup },
      options.onHint,
    );
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/webhooks/feishu`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
