import type { BridgeError } from '../core/index.ts';
import type { CalendarRef } from './connector.ts';

/**
 * What a spoke's change feed does not say about its series: which occurrences were deleted one by
 * one. Graph's `calendarView/delta` names a deleted occurrence by its instance id only (and v1.0 has
 * no `cancelledOccurrences`), so a reverse read that meets a removal no link knows asks here about
 * the series it links.
 */
export interface SeriesReader {
  /**
   * For each series (the provider's id of its master): the original starts (Unix seconds) within
   * [window.from, window.to) that the series' own rule gives but the provider no longer lists (the
   * occurrences deleted on their own), ascending. A master that is gone, or no longer a series, maps
   * to []; one that could not be read, to its BridgeError. Reads are batched where the provider can.
   */
  deletedOccurrences(
    calendar: CalendarRef,
    masters: string[],
    window: { from: number; to: number },
  ): Promise<Map<string, number[] | BridgeError>>;
}
