// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the config file's own env syntax, not a template
// `${NAME}` / `${NAME:-default}` environment interpolation inside string scalars. `$${` yields a literal `${`.

export type Env = Record<string, string | undefined>;

export type InterpolationResult =
  | { ok: true; value: string; used: boolean }
  | { ok: false; expected: string; found: string; message: string };

const REF = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const INNER = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces every reference. Like the shell, `${NAME:-default}` uses the default when NAME is unset or
 * empty; `${NAME}` with NAME unset is an error naming the variable. `used` tells whether any reference
 * (or escape) was present, so the caller can treat the value as coming from the environment.
 */
export function interpolate(text: string, env: Env): InterpolationResult {
  if (!text.includes('${')) return { ok: true, value: text, used: false };
  let failure: InterpolationResult | undefined;
  const value = text.replace(REF, (match: string, inner: string | undefined) => {
    if (failure) return '';
    if (match === '$${') return '${';
    const m = inner === undefined ? null : INNER.exec(inner);
    if (!m) {
      failure = {
        ok: false,
        expected: '${NAME} or ${NAME:-default}',
        found: inner === undefined ? 'an unclosed ${' : 'a malformed variable reference',
        message: 'malformed variable reference (expected ${NAME} or ${NAME:-default})',
      };
      return '';
    }
    const [, name, fallback] = m;
    const current = env[name];
    if (fallback !== undefined) return current === undefined || current === '' ? fallback : current;
    if (current === undefined) {
      failure = {
        ok: false,
        expected: `environment variable ${name} to be set`,
        found: `${name} is not set`,
        message: `environment variable ${name} is not set and has no default (use \${${name}:-default} for one)`,
      };
      return '';
    }
    return current;
  });
  return failure ?? { ok: true, value, used: true };
}
