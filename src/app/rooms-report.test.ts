import { describe, expect, it } from 'vitest';
import { BridgeError } from '../core/index.ts';
import type { CalendarConnector } from '../ports/index.ts';
import { checkRoomDirectories, formatConfigRooms, roomSections } from './rooms-report.ts';

const rooms = [
  {
    feishu: 'omm_1',
    name: 'Room 1',
    google: 'r1@resource.calendar.google.com',
    exchange: 'room1@contoso.com',
  },
  { feishu: 'omm_3', exchange: 'room3@contoso.com' },
];
/** A spoke whose directory holds these addresses (or cannot be read). */
const spoke = (kind: 'google' | 'graph', emails: string[] | Error): CalendarConnector => ({
  kind,
  listChanges: () => (async function* () {})(),
  write: async () => [],
  listCalendars: async () => [],
  listRooms: async () => {
    if (emails instanceof Error) throw emails;
    return emails.map((email) => ({ email: email.toUpperCase(), name: email }));
  },
});

describe('room directories', () => {
  it('lists config rooms a spoke directory lacks (addresses compared without case), and unread directories', async () => {
    const check = await checkRoomDirectories(
      { rooms },
      {
        google: spoke('google', new BridgeError('config', 'set google.admin')),
        graph: spoke('graph', ['room1@contoso.com']),
      },
    );
    expect(check).toEqual({
      checked: ['graph'],
      missing: [{ roomId: 'omm_3', spoke: 'graph', room: 'room3@contoso.com' }],
      errors: [{ spoke: 'google', error: 'set google.admin' }],
    });
    expect(formatConfigRooms({ rooms }, check)).toBe(
      [
        'Rooms table (2)',
        '  omm_1 (Room 1) -> google r1@resource.calendar.google.com, exchange room1@contoso.com',
        '  omm_3 -> exchange room3@contoso.com  NOT IN THE EXCHANGE DIRECTORY',
        '  directories read: exchange',
        '  google directory not read: set google.admin',
      ].join('\n'),
    );
    const sections = roomSections(undefined, check);
    expect(sections.map((s) => s.rows)).toEqual([
      [
        ['omm_3', '-', 'graph', 'room3@contoso.com'],
        ['?', '-', 'google', 'directory not read: set google.admin'],
      ],
    ]);
  });

  it('reports connectors that cannot be built, and says when it stayed offline', async () => {
    const check = await checkRoomDirectories({ rooms }, () => {
      throw new Error('google.credentials_file: cannot read');
    });
    expect(check.errors).toEqual([{ spoke: 'config', error: 'google.credentials_file: cannot read' }]);
    expect(formatConfigRooms({ rooms: rooms.slice(0, 1) })).toContain('run with --online');
  });
});
