/**
 * What the public routes hold against hostile traffic: a body cap answered with 413 before the body is
 * buffered (Fastify checks `content-length` first and stops a chunked body at the cap), short header
 * and body timeouts, a bound on requests in flight, and a per-address limit on the consent start.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface WebLimits {
  /** Largest request body in bytes (Feishu deliveries are a few KB). Default 256 KiB. */
  bodyLimit: number;
  /** A client must finish its request headers within this. Default 5 s. */
  headersTimeoutMs: number;
  /** ...and its whole request (headers and body) within this. Default 10 s. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** Requests handled at once; more are answered 429 with Retry-After. Default 256. */
  maxInFlight: number;
  /** Consent starts per client address and minute. Default 10. */
  consentPerMinute: number;
}

export const DEFAULT_LIMITS: WebLimits = {
  bodyLimit: 256 * 1024,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxInFlight: 256,
  consentPerMinute: 10,
};

/** Node's HTTP server with the timeouts set, checked every half second (Node's default is 30 s). */
export function serverFactory(limits: WebLimits) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(500, limits.headersTimeoutMs),
      },
      handler,
    );
    // a socket that says nothing at all is closed as well
    server.setTimeout(limits.requestTimeoutMs);
    return server;
  };
}

/** Probes that must answer even when the server is saturated. */
const UNBOUNDED = new Set(['/healthz', '/readyz']);

/** Counts requests in flight and refuses those above the bound before their body is read. */
export function boundInFlight(web: FastifyInstance, max: number): { inFlight(): number } {
  let n = 0;
  web.addHook('onRequest', async (req, reply) => {
    if (UNBOUNDED.has(req.url.split('?')[0])) return;
    if (n >= max) {
      reply.header('retry-after', '1').header('connection', 'close');
      return reply.code(429).send({ error: 'too many requests in flight: retry shortly' });
    }
    n++;
    let done = false;
    const release = () => {
      if (!done) n--;
      done = true;
    };
    reply.raw.once('close', release);
    reply.raw.once('finish', release);
  });
  return { inFlight: () => n };
}

/**
 * A token bucket per key (client address): `perMinute` tokens, refilled continuously. The table is
 * bounded: when full, the fullest (least recently limited) buckets are dropped first.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perMinute: number,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for the key; answers the seconds to wait when there is none. */
  take(key: string): number {
    const t = this.now();
    const rate = this.perMinute / 60_000;
    const b = this.buckets.get(key) ?? { tokens: this.perMinute, at: t };
    b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * rate);
    b.at = t;
    this.buckets.delete(key);
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) {
      // Map order is least recently touched first
      for (const k of this.buckets.keys()) {
        this.buckets.delete(k);
        if (this.buckets.size <= this.maxKeys) break;
      }
    }
    return 0;
  }
}
