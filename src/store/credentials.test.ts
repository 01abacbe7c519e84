import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserTokenProvider, type UserTokenStore } from '../../connectors/feishu/user-tokens.ts';
import { decrypt, encrypt, PrismaUserTokenStore, parseSecretKey } from './credentials.ts';
import { type Database, openDatabase } from './db.ts';

const key = randomBytes(32);
const tokens = {
  accessToken: 'u-ACCESS-secret-text-1234',
  refreshToken: 'ur-REFRESH-secret-text-5678',
  accessExpiresAt: 1_900_000_000_000,
  refreshExpiresAt: 1_902_000_000_000,
};

let db: Database;
beforeAll(async () => {
  db = await openDatabase({ inMemory: true });
});
afterAll(() => db.close());

describe('encrypt / decrypt', () => {
  it('round-trips, uses a fresh IV each time, and documents its layout by length', () => {
    const plain = Buffer.from('飞书 token ✓', 'utf8');
    const a = encrypt(key, plain);
    const b = encrypt(key, plain);
    expect(a.length).toBe(1 + 12 + 16 + plain.length);
    expect(a[0]).toBe(1);
    expect(a.equals(b)).toBe(false);
    expect(decrypt(key, a).equals(plain)).toBe(true);
    expect(decrypt(key, new Uint8Array(b)).toString('utf8')).toBe('飞书 token ✓');
  });

  it('refuses a wrong key, tampered data and bad key sizes with clear errors', () => {
    const sealed = encrypt(key, Buffer.from('hello'));
    expect(() => decrypt(randomBytes(32), sealed)).toThrow(/wrong secret_key/);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => decrypt(key, tampered)).toThrow(/decryption failed/);
    expect(() => decrypt(key, sealed.subarray(0, 10))).toThrow(/too short/);
    expect(() => encrypt(randomBytes(16), Buffer.from('x'))).toThrow(/32-byte key/);
    expect(parseSecretKey(key.toString('base64')).equals(key)).toBe(true);
    expect(() => parseSecretKey(randomBytes(24).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('PrismaUserTokenStore', () => {
  it('round-trips tokens, fills the expiry columns, and never stores the token text in clear', async () => {
    const store = new PrismaUserTokenStore(db.prisma, key);
    const shaped: UserTokenStore = store; // satisfies the Feishu connector's interface structurally
    expect(await shaped.load('ou_alice')).toBeUndefined();
    await shaped.save('ou_alice', tokens);
    expect(await store.load('ou_alice')).toEqual(tokens);

    const row = await db.prisma.credential.findUniqueOrThrow({
      where: { provider_subject: { provider: 'feishu', subject: 'ou_alice' } },
    });
    expect(row.expiresAt?.getTime()).toBe(tokens.accessExpiresAt);
    expect(row.refreshExpiresAt?.getTime()).toBe(tokens.refreshExpiresAt);
    expect(row.status).toBe('ok');
    const raw = Buffer.from(row.blob);
    for (const text of [tokens.accessToken, tokens.refreshToken, 'secret-text', 'accessToken']) {
      expect(raw.includes(Buffer.from(text))).toBe(false);
      expect(raw.toString('latin1')).not.toContain(text);
    }

    const next = { ...tokens, accessToken: 'u-NEW', refreshToken: 'ur-NEW' };
    await store.save('ou_alice', next);
    expect(await store.load('ou_alice')).toEqual(next);
    expect(await db.prisma.credential.count()).toBe(1);
  });

  it('fails loudly when read back under another key', async () => {
    await new PrismaUserTokenStore(db.prisma, key).save('ou_keyed', tokens);
    const other = new PrismaUserTokenStore(db.prisma, randomBytes(32));
    await expect(other.load('ou_keyed')).rejects.toThrow(/wrong secret_key/);
    expect(() => new PrismaUserTokenStore(db.prisma, randomBytes(31))).toThrow(/32-byte key/);
  });

  it('lists consented users and lapsed ones (marked or refresh token expired); a new consent clears the mark', async () => {
    const now = 1_901_000_000_000;
    const store = new PrismaUserTokenStore(db.prisma, key, { provider: 'feishu-t', now: () => now });
    await store.save('ou_ok', tokens);
    await store.save('ou_refused', tokens);
    await store.save('ou_expired', { ...tokens, refreshExpiresAt: now - 1 });
    await store.markLapsed('ou_refused');
    await store.markLapsed('ou_unknown');

    expect(await store.subjects()).toEqual(['ou_expired', 'ou_ok', 'ou_refused']);
    expect(await store.lapsed()).toEqual(['ou_expired', 'ou_refused']);
    expect(await store.load('ou_refused')).toBeUndefined();

    await store.save('ou_refused', tokens);
    expect(await store.lapsed()).toEqual(['ou_expired']);
    expect(await store.load('ou_refused')).toEqual(tokens);
    await store.remove('ou_expired');
    expect(await store.subjects()).toEqual(['ou_ok', 'ou_refused']);
  });

  it('serves the Feishu user-token provider as its store (valid token read without a refresh)', async () => {
    const store = new PrismaUserTokenStore(db.prisma, key, { provider: 'feishu-p' });
    const provider = createUserTokenProvider({
      appId: 'cli_x',
      appSecret: 's',
      domain: 'http://127.0.0.1:9',
      store,
      now: () => 1_800_000_000_000,
    });
    await provider.adopt('ou_bob', { access_token: 'u-bob', refresh_token: 'ur-bob', expires_in: 7200 });
    expect(await provider.get('ou_bob')).toBe('u-bob');
    expect(await store.load('ou_bob')).toMatchObject({
      refreshToken: 'ur-bob',
      accessExpiresAt: 1_800_000_000_000 + 7_200_000,
    });
  });
});
