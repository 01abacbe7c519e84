import { fail } from '../../emulator/index.ts';

/** Google's JSON error body: `{error: {errors: [{domain, reason, message, ...}], code, message}}`. */
export function errorBody(
  code: number,
  reason: string,
  message: string,
  extra: { domain?: string; location?: string; locationType?: string } = {},
) {
  const { domain = 'global', ...rest } = extra;
  return { error: { errors: [{ domain, reason, message, ...rest }], code, message } };
}

export const gfail = (
  code: number,
  reason: string,
  message: string,
  extra?: { domain?: string; location?: string; locationType?: string },
  headers?: Record<string, string>,
): never => fail(code, errorBody(code, reason, message, extra), headers);

export const badRequest = (message: string, reason = 'invalid', location?: string): never =>
  gfail(400, reason, message, location ? { location, locationType: 'parameter' } : {});

export const notFound = (): never => gfail(404, 'notFound', 'Not Found');
