/**
 * The part every emulator shares: an HTTP server on 127.0.0.1, a router for the provider's real
 * paths, and the control API of EMULATORS.md under `/_emulator/` (reset, seed, state, request log,
 * faults, clock). A provider emulator supplies only its routes and its state.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface EmRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  params: Record<string, string>;
  body: Buffer;
  text(): string;
  /** The body parsed as JSON; `{}` when empty. Throws a 400 EmResponse when it is not JSON. */
  json<T = any>(): T;
}

export interface EmResponse {
  status: number;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  /** A batch's count of requests it carried: logged with it (not sent). */
  items?: number;
  /** A batch's requests, each as `METHOD path`: logged with it (not sent). */
  parts?: string[];
  /** Whom a batch was sent as, when its paths do not say (Google's `primary`): logged (not sent). */
  who?: string;
}

export type Handler = (req: EmRequest) => EmResponse | Promise<EmResponse>;

export interface Provider {
  /** Empty every store (the kit clears faults, log and clock itself). */
  reset(): void;
  /** Add objects in the provider's own JSON shape. */
  seed(body: any): void;
  /** Everything stored, in the provider's own JSON shape. */
  state(): unknown;
  /** Provider-specific control calls, by name: `POST /_emulator/<name>`. */
  control?: Record<string, Handler>;
  /** The provider's API. Return undefined for "no such route" (404). */
  handle(req: EmRequest): EmResponse | undefined | Promise<EmResponse | undefined>;
}

export interface LogEntry {
  seq: number;
  method: string;
  path: string;
  query: string;
  status: number;
  ms: number;
  /** When the request arrived (ms since the epoch), for timelines. */
  at: number;
  /** A batch request's count of the requests it carried. */
  items?: number;
  /** A batch request's requests, each as `METHOD path` (no query). */
  parts?: string[];
  /** Whom a batch request was sent as, when its paths do not say. */
  who?: string;
}

interface FaultRule {
  match: { method?: string; path: string };
  times?: number;
  probability?: number;
  action:
    | { status: number; body?: unknown; headers?: Record<string, string> }
    | { delayMs: number }
    | { drop: true };
}

/** Time as the emulator sees it: the real clock plus an offset moved by `POST /_emulator/clock`. */
export class Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

export interface Running {
  url: string;
  server: Server;
  clock: Clock;
  log: LogEntry[];
  close(): Promise<void>;
}

export class HttpError {
  constructor(readonly response: EmResponse) {}
}

/** Throw from a handler to answer at once with this response. */
export const fail = (status: number, body: unknown, headers?: Record<string, string>): never => {
  throw new HttpError({ status, body, headers });
};

/** A request for a handler; `badJson` answers a body that is not JSON (each API words it its own way). */
export function emRequest(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
  badJson: () => never,
): EmRequest {
  return {
    method,
    path: url.pathname,
    query: url.searchParams,
    headers,
    params: {},
    body,
    text: () => body.toString('utf8'),
    json: () => {
      if (body.length === 0) return {};
      try {
        return JSON.parse(body.toString('utf8'));
      } catch {
        return badJson();
      }
    },
  };
}

export async function startServer(
  provider: Provider,
  options: { port?: number; host?: string; seed?: unknown; clock?: Clock } = {},
): Promise<Running> {
  const clock = options.clock ?? new Clock();
  const log: LogEntry[] = [];
  let faults: FaultRule[] = [];
  const sockets = new Set<Socket>();

  const control: Record<string, Handler> = {
    'POST reset': () => {
      provider.reset();
      faults = [];
      log.length = 0;
      clock.offsetMs = 0;
      return { status: 200, body: { ok: true } };
    },
    'POST seed': (req) => {
      provider.seed(req.json());
      return { status: 200, body: { ok: true } };
    },
    'GET state': () => ({ status: 200, body: provider.state() }),
    'GET requests': (req) => {
      const since = Number(req.query.get('since') ?? 0);
      return { status: 200, body: log.filter((e) => e.seq > since) };
    },
    'POST faults': (req) => {
      const rules = req.json<FaultRule | FaultRule[]>();
      faults.push(...(Array.isArray(rules) ? rules : [rules]));
      return { status: 200, body: { ok: true, count: faults.length } };
    },
    'DELETE faults': () => {
      faults = [];
      return { status: 200, body: { ok: true } };
    },
    'POST clock': (req) => {
      clock.offsetMs += Number(req.json().advanceSeconds ?? 0) * 1000;
      return { status: 200, body: { ok: true, now: clock.now() } };
    },
  };
  for (const [name, handler] of Object.entries(provider.control ?? {})) control[`POST ${name}`] = handler;

  const server = createServer(async (raw, res) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of raw) chunks.push(c as Buffer);
    const url = new URL(raw.url ?? '/', 'http://emulator');
    const body = Buffer.concat(chunks);
    const req = emRequest(raw.method ?? 'GET', url, raw.headers, body, () =>
      fail(400, { error: 'body is not JSON' }),
    );
    const isControl = req.path.startsWith('/_emulator/');
    let out: EmResponse;
    try {
      if (isControl) {
        const handler = control[`${req.method} ${req.path.slice('/_emulator/'.length)}`];
        out = handler ? await handler(req) : { status: 404, body: { error: 'no such control call' } };
      } else {
        const fault = takeFault(faults, req);
        if (fault && 'drop' in fault) {
          raw.socket.destroy();
          log.push(entry(log, req, 0, started));
          return;
        }
        if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
        out =
          fault && 'status' in fault
            ? fault
            : ((await provider.handle(req)) ?? {
                status: 404,
                body: { error: `no route ${req.method} ${req.path}` },
              });
      }
    } catch (e) {
      out = e instanceof HttpError ? e.response : { status: 500, body: { error: String(e) } };
    }
    if (!isControl)
      log.push({
        ...entry(log, req, out.status, started),
        ...(out.items ? { items: out.items, parts: out.parts } : {}),
        ...(out.who ? { who: out.who } : {}),
      });
    send(res, out);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Longer than any client's idle timeout (undici 4 s, axios agents), so the client always closes an
  // idle connection first: when both timers fire together (an event loop blocked for seconds, as by
  // the schema engine at open), a request written onto a socket the server is closing gets ECONNRESET.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  if (options.seed) provider.seed(options.seed);
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    server,
    clock,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function takeFault(faults: FaultRule[], req: EmRequest): FaultRule['action'] | undefined {
  for (const rule of faults) {
    if (rule.times !== undefined && rule.times <= 0) continue;
    if (rule.match.method && rule.match.method.toUpperCase() !== req.method) continue;
    if (!new RegExp(rule.match.path).test(req.path)) continue;
    if (rule.probability !== undefined && Math.random() >= rule.probability) continue;
    if (rule.times !== undefined) rule.times -= 1;
    return rule.action;
  }
  return undefined;
}

const entry = (log: LogEntry[], req: EmRequest, status: number, started: number): LogEntry => ({
  seq: log.length + 1,
  method: req.method,
  path: req.path,
  query: req.query.toString(),
  status,
  ms: Math.round((performance.now() - started) * 10) / 10,
  at: Math.round(performance.timeOrigin + started),
});

function send(res: import('node:http').ServerResponse, out: EmResponse) {
  const headers: Record<string, string> = { ...out.headers };
  let payload: string | Buffer | undefined;
  if (out.body === undefined || out.body === null) payload = undefined;
  else if (typeof out.body === 'string' || Buffer.isBuffer(out.body)) payload = out.body;
  else {
    payload = JSON.stringify(out.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(out.status, headers);
  res.end(payload);
}
