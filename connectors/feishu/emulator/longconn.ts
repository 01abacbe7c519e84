/**
 * The long connection: `POST /callback/ws/endpoint` hands out a ws:// URL with a one-time ticket; the
 * websocket speaks `pbbp2.Frame` (ping -> pong with the client config, event frames -> ack frames).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Router } from '../../emulator/index.ts';
import { decodeFrame, encodeFrame, header } from './frames.ts';
import type { Push } from './push.ts';
import { newId, type Store } from './store.ts';

const SERVICE_ID = 33;

export interface ClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

export class LongConnections {
  private wss = new WebSocketServer({ noServer: true });
  private tickets = new Map<string, string>();
  private conns = new Map<string, Set<WebSocket>>();
  /** Every frame a client sent, decoded, for tests (pings and acks). */
  received: { app_id: string; type?: string; message_id?: string; payload?: string }[] = [];
  config: ClientConfig = {
    PingInterval: 120,
    ReconnectCount: -1,
    ReconnectInterval: 120,
    ReconnectNonce: 30,
  };

  constructor(
    private store: Store,
    private push: Push,
  ) {
    push.ws = { send: (app_id, d) => this.send(app_id, d.event_id, d.body) };
  }

  routes(router: Router) {
    router.on('POST', '/callback/ws/endpoint', (req) => {
      const { AppID, AppSecret } = req.json();
      const app = this.store.apps.get(AppID);
      if (!app || app.app_secret !== AppSecret)
        return { status: 200, body: { code: 514, msg: 'auth failed' } };
      const ticket = newId(16);
      this.tickets.set(ticket, AppID);
      // device_id/service_id must not be the first query parameter: the SDK runs qs.parse on the whole URL.
      const url = `ws://${req.headers.host}/ws/v2?fpid=1&device_id=${newId(8)}&service_id=${SERVICE_ID}&access_key=${newId(8)}&ticket=${ticket}`;
      return { status: 200, body: { code: 0, msg: 'ok', data: { URL: url, ClientConfig: this.config } } };
    });
  }

  attach(server: Server) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const ticket = url.searchParams.get('ticket') ?? '';
      const app_id = this.tickets.get(ticket);
      if (url.pathname !== '/ws/v2' || !app_id) {
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      this.tickets.delete(ticket);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(app_id, ws));
    });
  }

  private open(app_id: string, ws: WebSocket) {
    const set = this.conns.get(app_id) ?? new Set();
    this.conns.set(app_id, set);
    set.add(ws);
    ws.on('close', () => set.delete(ws));
    ws.on('error', () => set.delete(ws));
    ws.on('message', (data: Buffer) => {
      let f: ReturnType<typeof decodeFrame>;
      try {
        f = decodeFrame(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer));
      } catch {
        return;
      }
      const type = header(f, 'type');
      const payload = f.payload?.toString('utf8');
      this.received.push({ app_id, type, message_id: header(f, 'message_id'), payload });
      if (f.method === 0 && type === 'ping') {
        const pong = {
          SeqID: 0,
          LogID: 0,
          service: f.service,
          method: 0,
          headers: [{ key: 'type', value: 'pong' }],
          payload: Buffer.from(JSON.stringify(this.config)),
        };
        ws.send(encodeFrame(pong));
      } else if (f.method === 1 && type === 'event') {
        let code = 0;
        try {
          code = Number(JSON.parse(payload ?? '{}').code ?? 0);
        } catch {
          code = 0;
        }
        this.push.acked(header(f, 'message_id') ?? '', code);
      }
    });
    this.push.connected(app_id);
  }

  private send(app_id: string, message_id: string, body: Record<string, any>): boolean {
    const open = [...(this.conns.get(app_id) ?? [])].filter((w) => w.readyState === w.OPEN);
    if (open.length === 0) return false;
    // Cluster mode: each message goes to one random client.
    const ws = open[Math.floor(Math.random() * open.length)];
    const frame = {
      SeqID: 0,
      LogID: 0,
      service: SERVICE_ID,
      method: 1,
      headers: [
        { key: 'type', value: 'event' },
        { key: 'message_id', value: message_id },
        { key: 'sum', value: '1' },
        { key: 'seq', value: '0' },
        { key: 'trace_id', value: newId(8) },
      ],
      payload: Buffer.from(JSON.stringify(body)),
    };
    ws.send(encodeFrame(frame));
    return true;
  }

  connectionCount(app_id: string) {
    return this.conns.get(app_id)?.size ?? 0;
  }

  close() {
    for (const set of this.conns.values()) for (const ws of set) ws.terminate();
    this.conns.clear();
    this.wss.close();
  }

  reset() {
    for (const set of this.conns.values()) for (const ws of set) ws.terminate();
    this.conns.clear();
    this.tickets.clear();
    this.received = [];
  }
}
