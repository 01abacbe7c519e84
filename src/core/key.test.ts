import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatKey, parseKey } from './key.ts';

describe('instance key', () => {
  it('formats as Feishu event ids do', () => {
    expect(formatKey({ uid: '7f2c9b1e-aaaa', originalTime: 0 })).toBe('7f2c9b1e-aaaa_0');
    expect(formatKey({ uid: 'abc', originalTime: 1735689600 })).toBe('abc_1735689600');
  });

  it('splits at the last underscore, since a uid may contain one', () => {
    expect(parseKey('a_b_c_1735689600')).toEqual({ uid: 'a_b_c', originalTime: 1735689600 });
    expect(parseKey('x__0')).toEqual({ uid: 'x_', originalTime: 0 });
  });

  it('rejects what is not uid_originalTime', () => {
    for (const bad of ['', 'abc', '_0', 'abc_', 'abc_12a', 'abc_-1', 'abc_1.5']) {
      expect(() => parseKey(bad), bad).toThrow(/not an instance key/);
    }
  });

  it('round-trips any uid and time', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat(), (uid, originalTime) => {
        expect(parseKey(formatKey({ uid, originalTime }))).toEqual({ uid, originalTime });
      }),
    );
  });
});
