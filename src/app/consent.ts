/**
 * Feishu user consent for `feisync serve`: `/oauth/feishu/start?user=...` sends the user to Feishu's
 * consent page with a signed, expiring `state`; the callback checks the state, redeems the code, checks
 * that the person who consented is the user who was asked, and stores the tokens (encrypted).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/index.ts';
import type { App } from './compose.ts';

const STATE_LIFE_MS = 10 * 60_000;

export class ConsentError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Explicit = Extract<Config['users'][number], { feishu: string }>;

export function createConsent(app: App, key: Buffer) {
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

  /** The config user named by any of their addresses, and their Feishu open id. */
  async function lookup(user: string): Promise<{ entry: Explicit; openId: string }> {
    const entry = app.config.users.find(
      (u): u is Explicit => 'feishu' in u && [u.feishu, u.google, u.exchange].includes(user),
    );
    if (!entry) throw new ConsentError(404, `${user} is not a user of the configuration`);
    const openId = entry.feishu.startsWith('ou_')
      ? entry.feishu
      : (await app.feishu.lookupUsersByEmail([entry.feishu])).get(entry.feishu);
    if (!openId) throw new ConsentError(404, `no Feishu user ${entry.feishu}`);
    return { entry, openId };
  }

  return {
    /** The URL of Feishu's consent page for this user. */
    async start(user: string, callbackUrl: string): Promise<string> {
      const { openId } = await lookup(user);
      const payload = `${openId}.${Date.now() + STATE_LIFE_MS}`;
      return app.userTokens.authorizeUrl(callbackUrl, `${payload}.${sign(payload)}`);
    },

    /** Completes a consent; answers the Feishu open id whose tokens were stored. */
    async finish(code: string | null, state: string | null): Promise<{ openId: string }> {
      if (!code || !state) throw new ConsentError(400, 'the callback needs code and state');
      const [openId, expires, mac] = state.split('.');
      const want = Buffer.from(sign(`${openId}.${expires}`));
      const got = Buffer.from(mac ?? '');
      if (got.length !== want.length || !timingSafeEqual(got, want)) {
        throw new ConsentError(400, 'the consent link was not issued by this server');
      }
      if (Number(expires) < Date.now()) throw new ConsentError(400, 'the consent link expired: start again');
      const { openId: who, grant } = await app.userTokens.redeem(code);
      if (who !== openId) {
        throw new ConsentError(403, 'a different Feishu user completed the consent than the one asked');
      }
      await app.userTokens.adopt(who, grant);
      return { openId: who };
    },
  };
}
