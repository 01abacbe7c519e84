/** A small tenant for tests, the demo and benchmarks. */
export const APP_ID = 'cli_a1b2c3d4e5f60718';
export const APP_SECRET = 'secret-1';
export const ENCRYPT_KEY = 'encrypt-key-1';
export const VERIFICATION_TOKEN = 'verify-token-1';

export const CAL = {
  alice: 'feishu.cn_alice@group.calendar.feishu.cn',
  bob: 'feishu.cn_bob@group.calendar.feishu.cn',
  team: 'feishu.cn_team@group.calendar.feishu.cn',
  room: 'feishu.cn_room1@resource.calendar.feishu.cn',
};

export function sampleSeed(app: Record<string, unknown> = {}) {
  return {
    apps: [
      {
        app_id: APP_ID,
        app_secret: APP_SECRET,
        encrypt_key: ENCRYPT_KEY,
        verification_token: VERIFICATION_TOKEN,
        ...app,
      },
    ],
    users: [
      {
        open_id: 'ou_alice',
        user_id: 'u_alice',
        union_id: 'on_alice',
        email: 'alice@example.com',
        name: 'Alice',
      },
      { open_id: 'ou_bob', user_id: 'u_bob', union_id: 'on_bob', email: 'bob@example.com', name: 'Bob' },
    ],
    rooms: [{ room_id: 'omm_room1', name: 'Room 1', third_party: true }],
    calendars: [
      { calendar_id: CAL.alice, owner_open_id: 'ou_alice', type: 'primary', summary: 'Alice' },
      { calendar_id: CAL.bob, owner_open_id: 'ou_bob', type: 'primary', summary: 'Bob' },
      { calendar_id: CAL.team, owner_open_id: 'ou_alice', type: 'shared', summary: 'Team' },
      { calendar_id: CAL.room, type: 'resource', summary: 'Room 1' },
    ],
    acl: [
      { calendar_id: CAL.alice, app_id: APP_ID, role: 'writer' },
      { calendar_id: CAL.team, app_id: APP_ID, role: 'reader' },
    ],
    events: [
      {
        calendar_id: CAL.alice,
        event_id: 'single-1_0',
        summary: 'Planning',
        start_time: { timestamp: '1767240000', timezone: 'Asia/Shanghai' },
        end_time: { timestamp: '1767243600', timezone: 'Asia/Shanghai' },
        attendees: [
          { type: 'user', user_id: 'ou_bob', display_name: 'Bob', rsvp_status: 'accept' },
          { type: 'resource', room_id: 'omm_room1', display_name: 'Room 1', rsvp_status: 'accept' },
        ],
      },
      {
        calendar_id: CAL.alice,
        event_id: 'series-1_0',
        summary: 'Daily',
        recurrence: 'FREQ=DAILY;INTERVAL=1;COUNT=5',
        start_time: { timestamp: '1767229200', timezone: 'Asia/Shanghai' },
        end_time: { timestamp: '1767231000', timezone: 'Asia/Shanghai' },
      },
    ],
  };
}
