/** Event ids Feisync chooses: base32hex (a-v, 0-9) of sha-256, so a repeated create collides (409). */
import { createHash } from 'node:crypto';
import type { CanonicalEvent } from '../../src/core/index.ts';
import type { OriginTag } from '../../src/ports/index.ts';
import { basicDate, basicUtc } from './time.ts';

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

/**
 * Built from character codes in one step: appending a character at a time makes a chain of 52
 * linked string pieces (about 1.7 KB) that V8 keeps as such while the id is only stored and sent,
 * and a sync holds thousands of ids at once.
 */
export function base32hex(bytes: Uint8Array): string {
  const codes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      codes.push(ALPHABET.charCodeAt((value >>> (bits - 5)) & 31));
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) codes.push(ALPHABET.charCodeAt((value << (5 - bits)) & 31));
  return String.fromCharCode(...codes);
}

/**
 * The id of the event written for a tag (52 characters). Deleted ids stay reserved on Google, so a
 * re-creation after a delete moves to the next generation.
 */
export function eventIdFor(tag: OriginTag, generation = 0): string {
  const seed = `${tag.pair}:${tag.key}${generation ? `#${generation}` : ''}`;
  return base32hex(createHash('sha256').update(seed).digest());
}

/**
 * The instance id of an exception of `masterId`: `{masterId}_{originalStart UTC basic}` for timed
 * events, `{masterId}_{YYYYMMDD}` for all-day ones. The all-day date is read from the original
 * start in Unix seconds, shifted by 12 h, so a local midnight anywhere from UTC-12 to UTC+12 lands
 * on its own date.
 */
export function instanceIdFor(masterId: string, ev: CanonicalEvent): string {
  const ms = ev.key.originalTime * 1000;
  if ('date' in ev.start)
    return `${masterId}_${basicDate(new Date(ms + 12 * 3_600_000).toISOString().slice(0, 10))}`;
  return `${masterId}_${basicUtc(ms)}`;
}
