/** Exit codes of the CLI contract (CONFIG.md). */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** An error the user caused (bad flag, bad config, missing file): printed without a stack, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
