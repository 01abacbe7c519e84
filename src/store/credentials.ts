/**
 * Stored credentials, encrypted at rest with AES-256-GCM under the config `secret_key` (32 bytes, base64).
 *
 * Sealed layout (one Buffer, stored as is in `Credential.blob`):
 *   byte 0        format version (1)
 *   bytes 1..12   IV, 12 random bytes per message
 *   bytes 13..28  GCM authentication tag (16 bytes)
 *   bytes 29..    ciphertext (same length as the plaintext)
 * The version byte is bound as additional authenticated data, so it cannot be altered either.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { PrismaClient } from './db.ts';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER = 1 + IV_BYTES + TAG_BYTES;

/** The key from the config's base64 `secret_key`; throws unless it decodes to exactly 32 bytes. */
export function parseSecretKey(base64: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) {
    throw new Error(`secret_key must be 32 bytes encoded as base64 (got ${key.length} bytes)`);
  }
  return key;
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new Error(`AES-256-GCM needs a 32-byte key, got ${key.length} bytes`);
}

export function encrypt(key: Buffer, plaintext: Buffer): Buffer {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const version = Buffer.from([VERSION]);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(version);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([version, iv, cipher.getAuthTag(), body]);
}

export function decrypt(key: Buffer, sealed: Buffer | Uint8Array): Buffer {
  checkKey(key);
  const data = Buffer.from(sealed);
  if (data.length < HEADER) throw new Error('credential decryption failed: sealed data is too short');
  if (data[0] !== VERSION) throw new Error(`credential decryption failed: unknown format version ${data[0]}`);
  const iv = data.subarray(1, 1 + IV_BYTES);
  const tag = data.subarray(1 + IV_BYTES, HEADER);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(data.subarray(0, 1));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(data.subarray(HEADER)), decipher.final()]);
  } catch {
    throw new Error(
      'credential decryption failed: wrong secret_key (FEISYNC_SECRET_KEY changed?) or corrupted data',
    );
  }
}

/** Same shape as the Feishu connector's UserTokens (structural; the store does not import connectors). */
export interface StoredUserTokens {
  accessToken: string;
  refreshToken: string;
  /** ms since epoch */
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

export interface UserTokenStoreOptions {
  /** Credential.provider; default 'feishu'. */
  provider?: string;
  now?: () => number;
}

/**
 * The Feishu connector's UserTokenStore on the Credential table: one row per user (subject = open_id),
 * the token JSON sealed with `encrypt`. A lapsed user's tokens are not handed out (`load` answers
 * undefined, so no refresh is attempted with a refresh token known to be dead) until a new consent is
 * saved, which clears the mark.
 */
export class PrismaUserTokenStore {
  private readonly provider: string;
  private readonly now: () => number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly key: Buffer,
    options: UserTokenStoreOptions = {},
  ) {
    checkKey(key);
    this.provider = options.provider ?? 'feishu';
    this.now = options.now ?? Date.now;
  }

  async load(openId: string): Promise<StoredUserTokens | undefined> {
    const row = await this.prisma.credential.findUnique({
      where: { provider_subject: { provider: this.provider, subject: openId } },
    });
    if (!row || row.status === 'lapsed') return undefined;
    const parsed = JSON.parse(decrypt(this.key, row.blob).toString('utf8')) as StoredUserTokens;
    return parsed;
  }

  async save(openId: string, tokens: StoredUserTokens): Promise<void> {
    const plain: StoredUserTokens = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessExpiresAt: tokens.accessExpiresAt,
      refreshExpiresAt: tokens.refreshExpiresAt,
    };
    const blob = new Uint8Array(encrypt(this.key, Buffer.from(JSON.stringify(plain), 'utf8')));
    const data = {
      blob,
      expiresAt: new Date(tokens.accessExpiresAt),
      refreshExpiresAt: new Date(tokens.refreshExpiresAt),
      status: 'ok',
    };
    await this.prisma.credential.upsert({
      where: { provider_subject: { provider: this.provider, subject: openId } },
      create: { provider: this.provider, subject: openId, ...data },
      update: data,
    });
  }

  /** The refresh was refused: the user must consent again. No-op for an unknown user. */
  async markLapsed(openId: string): Promise<void> {
    await this.prisma.credential.updateMany({
      where: { provider: this.provider, subject: openId },
      data: { status: 'lapsed' },
    });
  }

  /** Users marked lapsed or whose refresh token has expired, sorted. */
  async lapsed(): Promise<string[]> {
    const rows = await this.prisma.credential.findMany({
      where: {
        provider: this.provider,
        OR: [{ status: 'lapsed' }, { refreshExpiresAt: { lte: new Date(this.now()) } }],
      },
      select: { subject: true },
      orderBy: { subject: 'asc' },
    });
    return rows.map((r) => r.subject);
  }

  /** Every user who ever consented (has stored tokens), lapsed ones included, sorted. */
  async subjects(): Promise<string[]> {
    const rows = await this.prisma.credential.findMany({
      where: { provider: this.provider },
      select: { subject: true },
      orderBy: { subject: 'asc' },
    });
    return rows.map((r) => r.subject);
  }

  /** Drop a user's tokens (consent withdrawn). */
  async remove(openId: string): Promise<void> {
    await this.prisma.credential.deleteMany({ where: { provider: this.provider, subject: openId } });
  }
}
