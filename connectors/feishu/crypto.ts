/**
 * Feishu event-delivery crypto, as documented (reference §4): the body `{"encrypt": b64}` holds
 * IV(16) ‖ AES-256-CBC(PKCS#7) ciphertext under key = SHA-256(encrypt_key); the signature header is
 * hex(sha256(timestamp + nonce + encrypt_key + raw body)).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const keyOf = (encryptKey: string) => createHash('sha256').update(encryptKey).digest();

export function encryptPayload(encryptKey: string, plaintext: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', keyOf(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** Throws when the text is not a valid ciphertext under this key. */
export function decryptPayload(encryptKey: string, b64: string): string {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length < 32 || raw.length % 16 !== 0) throw new Error('ciphertext has a bad length');
  const decipher = createDecipheriv('aes-256-cbc', keyOf(encryptKey), raw.subarray(0, 16));
  return Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]).toString('utf8');
}

export function signDelivery(timestamp: string, nonce: string, encryptKey: string, body: string): string {
  return createHash('sha256')
    .update(timestamp + nonce + encryptKey + body)
    .digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
