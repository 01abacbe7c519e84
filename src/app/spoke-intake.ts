/**
 * Intake of spoke push notifications (`POST /webhooks/google`, `POST /webhooks/graph`), as a plain
 * function of the raw request so any HTTP layer can mount it. Each notification must name a stored
 * subscription, present its secret (Google channel token, Graph clientState) and not be expired;
 * accepted ones are stored as jobs before the answer goes out, so nothing is lost if we stop.
 * Graph's validation handshake is answered with its token; Google's `sync` message needs no work.
 */
import { BridgeError } from '../core/index.ts';
import type { PushRequest } from '../ports/index.ts';
import { PrismaSubscriptionStore } from '../store/spoke-subscriptions.ts';
import type { Spoke } from '../sync/pair.ts';
import type { App } from './compose.ts';

export interface PushAnswer {
  status: number;
  contentType?: string;
  body?: string;
}

export interface SpokeJob {
  /** A two-way pair of the spoke calendar (its group is pulled). */
  pairId: string;
  /** pull: read the changes; renew: renew the subscription, then read; resubscribe: subscribe anew, then read. */
  action: 'pull' | 'renew' | 'resubscribe';
  subscription?: string;
  /** When the notification arrived (ms), for the latency metric. */
  receivedAt?: number;
}

export interface IntakeDeps {
  app: App;
  spoke: Spoke;
  /** Stores one job; resolves once it is stored. */
  queue(job: SpokeJob): Promise<void>;
  now?: () => number;
  /** One outcome per notification (accepted, refused: why), for metrics and logs. */
  onOutcome?(outcome: string, detail?: string): void;
}

const refuse = (status: number, error: string): PushAnswer => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify({ error }),
});

export function spokeIntake(deps: IntakeDeps): (req: PushRequest) => Promise<PushAnswer> {
  const store = new PrismaSubscriptionStore(deps.app.db.prisma);
  const now = deps.now ?? Date.now;
  return async (req) => {
    const feed = deps.app.spokes[deps.spoke]?.feed;
    if (!feed) return refuse(404, `${deps.spoke} push notifications are not configured`);
    let parsed: ReturnType<typeof feed.parse>;
    try {
      parsed = feed.parse(req);
    } catch (e) {
      if (e instanceof BridgeError && e.kind === 'invalid') {
        deps.onOutcome?.('malformed', e.message);
        return refuse(400, e.message);
      }
      throw e;
    }
    let accepted = 0;
    let refused: PushAnswer | undefined;
    for (const n of parsed.notifications) {
      // Google's first message of a channel may come before the watch call has answered (not stored yet)
      if (n.kind === 'sync') {
        accepted += 1;
        deps.onOutcome?.('accepted', n.kind);
        continue;
      }
      const stored = await store.get(n.subscriptionId);
      let why: string | undefined;
      if (!stored || stored.spoke !== deps.spoke) why = 'unknown subscription';
      else if (n.secret !== stored.secret) why = 'wrong secret';
      else if (stored.sub.expiresAt <= now() && n.kind !== 'removed' && n.kind !== 'reauthorize')
        why = 'expired subscription';
      if (why || !stored) {
        deps.onOutcome?.('refused', why);
        refused = refuse(why === 'wrong secret' ? 401 : 404, why ?? 'unknown subscription');
        continue;
      }
      accepted += 1;
      deps.onOutcome?.('accepted', n.kind);
      const action = n.kind === 'reauthorize' ? 'renew' : n.kind === 'removed' ? 'resubscribe' : 'pull';
      await deps.queue({ pairId: stored.pairId, action, subscription: stored.sub.id, receivedAt: now() });
    }
    if (refused && accepted === 0) return refused;
    return parsed.reply;
  };
}
