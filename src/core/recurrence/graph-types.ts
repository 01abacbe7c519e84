/** Microsoft Graph `patternedRecurrence` shapes (v1.0), as sent and received. */

export type GraphDay = 'sunday' | 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday';
export type GraphIndex = 'first' | 'second' | 'third' | 'fourth' | 'last';
export type GraphPatternType =
  | 'daily'
  | 'weekly'
  | 'absoluteMonthly'
  | 'relativeMonthly'
  | 'absoluteYearly'
  | 'relativeYearly';

export interface GraphPattern {
  type: GraphPatternType;
  interval: number;
  daysOfWeek?: GraphDay[];
  dayOfMonth?: number;
  month?: number;
  index?: GraphIndex;
  firstDayOfWeek?: GraphDay;
}

export interface GraphRange {
  type: 'endDate' | 'noEnd' | 'numbered';
  /** `YYYY-MM-DD`, the local date of the series start. */
  startDate: string;
  /** `YYYY-MM-DD`, inclusive. */
  endDate?: string;
  numberOfOccurrences?: number;
  /** Windows zone name (IANA when the zone has no Windows equivalent). */
  recurrenceTimeZone: string;
}

export interface GraphRecurrence {
  pattern: GraphPattern;
  range: GraphRange;
}

export interface GraphConversion {
  recurrence: GraphRecurrence | null;
  exact: boolean;
  reason?: string;
}

/** Graph day names indexed by RFC weekday number (0 = Monday). */
export const GRAPH_DAYS: readonly GraphDay[] = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
];

export const GRAPH_INDEX: Readonly<Record<number, GraphIndex>> = {
  1: 'first',
  2: 'second',
  3: 'third',
  4: 'fourth',
  [-1]: 'last',
};

/**
 * Exchange moves an absolute day that a month lacks (the 29th-31st) to that month's last day
 * (Outlook: "Some months have fewer than 31 days. For these months, the occurrence will fall on the
 * last day of the month."). Not stated in the Graph reference, so unconfirmed: we take the
 * stricter reading, treat such RRULEs as inexact in toGraphRecurrence, and have
 * fromGraphRecurrence write the clamping form (BYMONTHDAY=28..d;BYSETPOS=-1). Flip this to treat
 * Graph as skipping such months like RFC 5545 does.
 */
export const GRAPH_CLAMPS_MONTH_END = true;
