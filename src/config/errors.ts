// ConfigError: every problem found in a configuration file, each with file:line:col and a dotted path.

export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the problem is not inside the file (e.g. the file cannot be read). */
  line: number;
  /** 1-based; 0 together with line 0. */
  col: number;
  /** Dotted path, e.g. `users.0.google`; '' for the whole document. */
  path: string;
  /** What was expected, e.g. `an integer from 0 to 65535`. */
  expected: string;
  /** What was found; for secrets and env-derived values only the type/shape, never the value. */
  found: string;
  /** One-line human message (without location and path). */
  message: string;
}

/** `users.0.google` -> `users[0].google`. */
export function displayPath(path: string): string {
  if (path === '') return '';
  return path
    .split('.')
    .map((seg, i) => (/^\d+$/.test(seg) ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join('');
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : `${issue.file}:`;
  const path = displayPath(issue.path);
  return path ? `${where} ${path}: ${issue.message}` : `${where} ${issue.message}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
    const first = sorted[0];
    const more = sorted.length > 1 ? ` (and ${sorted.length - 1} more)` : '';
    super(first ? `invalid configuration: ${formatIssue(first)}${more}` : 'invalid configuration');
    this.issues = sorted;
  }

  /** One line per issue, in file order. */
  format(): string {
    return this.issues.map(formatIssue).join('\n');
  }
}
