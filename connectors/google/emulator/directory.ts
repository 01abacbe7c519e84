/** Admin SDK Directory: resources.calendars.list (meeting rooms). */
import type { EmRequest, EmResponse } from '../../emulator/index.ts';
import type { Principal } from './auth.ts';
import { decodeToken, encodeToken, pageSize } from './calendar.ts';
import { gfail } from './errors.ts';
import type { GoogleState } from './state.ts';

export function directory(state: GoogleState, who: Principal, req: EmRequest): EmResponse {
  // Only administrators may read the resource directory; seeded users count as admins unless
  // `isAdmin: false` says otherwise.
  if (state.users.get(who.sub.toLowerCase())?.isAdmin === false) {
    return gfail(403, 'forbidden', 'Not Authorized to access this resource/api');
  }
  // The maximum page size is not documented; 500 is the stricter of the values seen.
  const size = pageSize(req, 100, 500);
  const offset = req.query.get('pageToken') ? decodeToken<{ o: number }>(req.query.get('pageToken')!).o : 0;
  const items = state.resources
    .slice(offset, offset + size)
    .map((r) => ({ etag: `"${r.resourceId}"`, ...r }));
  const body: Record<string, unknown> = {
    kind: 'admin#directory#resources#calendars#calendarResourcesList',
    etag: `"${state.resources.length}"`,
    items,
  };
  if (offset + size < state.resources.length) body.nextPageToken = encodeToken({ o: offset + size });
  return { status: 200, body };
}
