import type { InstanceKey } from './event.ts';

/** `uid_originalTime`, exactly Feishu's event_id. */
export function formatKey(key: InstanceKey): string {
  return `${key.uid}_${key.originalTime}`;
}

/**
 * Parses `uid_originalTime`. A uid may itself contain `_`, so the split is at the last one.
 * Throws on anything that is not a non-empty uid followed by a non-negative integer.
 */
export function parseKey(text: string): InstanceKey {
  const at = text.lastIndexOf('_');
  const uid = text.slice(0, at);
  const time = text.slice(at + 1);
  if (at <= 0 || !/^\d+$/.test(time)) throw new Error(`not an instance key (uid_originalTime): ${text}`);
  return { uid, originalTime: Number(time) };
}

export const sameKey = (a: InstanceKey, b: InstanceKey) =>
  a.uid === b.uid && a.originalTime === b.originalTime;
