/**
 * Test kit: a tiny HTTP receiver on 127.0.0.1 (port 0) that hands each delivery to a ChangeFeed's
 * `parse` as a raw PushRequest and answers what parse says (a parse error answers 400). It records the
 * notifications and replies, so tests can watch an emulator's deliveries come back through `parse`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Notification, PushParse, PushRequest } from '../../src/ports/index.ts';

export interface PushReceiver {
  url: string;
  notifications: Notification[];
  replies: { status: number; body?: string }[];
  /** Waits (bounded) until `cond` holds; throws after `ms`. */
  until(cond: () => boolean, ms?: number): Promise<void>;
  clear(): void;
  close(): Promise<void>;
}

export async function startPushReceiver(
  parse: (req: PushRequest) => PushParse,
  path = '/webhooks',
): Promise<PushReceiver> {
  const notifications: Notification[] = [];
  const replies: { status: number; body?: string }[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let out: PushParse;
    try {
      out = parse({
        method: req.method ?? 'POST',
        query: url.searchParams,
        headers,
        body: Buffer.concat(chunks),
      });
    } catch {
      replies.push({ status: 400 });
      res.writeHead(400).end();
      return;
    }
    notifications.push(...out.notifications);
    replies.push({ status: out.reply.status, body: out.reply.body });
    res
      .writeHead(out.reply.status, out.reply.contentType ? { 'content-type': out.reply.contentType } : {})
      .end(out.reply.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return {
    url,
    notifications,
    replies,
    async until(cond, ms = 5000) {
      for (let waited = 0; !cond(); waited += 20) {
        if (waited >= ms) throw new Error('push receiver: timed out waiting');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    clear() {
      notifications.length = 0;
      replies.length = 0;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
