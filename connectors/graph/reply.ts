/** reply: the mailbox owner's answer to an invitation (`accept`, `decline`, `tentativelyAccept`). */
import type { BridgeError, Rsvp } from '../../src/core/index.ts';
import type { CalendarRef, RemoteRef, WriteOptions, WriteResult } from '../../src/ports/connector.ts';
import type { GraphClient } from './client.ts';

const ACTION: Record<Exclude<Rsvp, 'needs-action'>, string> = {
  accepted: 'accept',
  declined: 'decline',
  tentative: 'tentativelyAccept',
};

export function graphReply(client: GraphClient) {
  return async (
    cal: CalendarRef,
    ref: RemoteRef,
    rsvp: Exclude<Rsvp, 'needs-action'>,
    options: WriteOptions = {},
  ): Promise<WriteResult> => {
    const url = `/users/${encodeURIComponent(cal.owner)}/events/${encodeURIComponent(ref.id)}/${ACTION[rsvp]}`;
    try {
      await client.run(cal.owner, 'reply', (api) =>
        api.api(url).post({ sendResponse: options.notify === true }),
      );
      return { ok: true };
    } catch (e) {
      return { ok: false, error: e as BridgeError };
    }
  };
}
