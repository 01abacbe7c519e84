/**
 * Progress of `feisync sync`: a bar per user and a total on a terminal, JSON lines otherwise. Two
 * stages (busy time first): the events onto the spokes (calendars and events so far), then their
 * attendees (events done of those to read).
 */
import cliProgress from 'cli-progress';
import type { SyncOptions } from './sync-run.ts';

type Hooks = Pick<SyncOptions, 'onStart' | 'onProgress' | 'onAttendees' | 'onStage'>;

export function syncProgress(jsonLines: boolean): { hooks: Hooks; stop(): void } {
  const started = performance.now();
  const events = new Map<string, number>();
  const attendees = new Map<string, { done: number; of: number }>();
  const total = () => [...events.values()].reduce((a, b) => a + b, 0);
  const read = () => [...attendees.values()].reduce((a, b) => a + b.done, 0);
  const toRead = () => [...attendees.values()].reduce((a, b) => a + b.of, 0);
  const rate = () => Math.round(total() / Math.max(0.001, (performance.now() - started) / 1000));
  if (jsonLines) {
    let last = 0;
    const write = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
    const due = (final: boolean) => {
      const now = performance.now();
      if (!final && now - last < 1000) return false;
      last = now;
      return true;
    };
    return {
      hooks: {
        onStart: (i) => write({ type: 'start', ...i }),
        onProgress: (p) => {
          events.set(p.calendar, p.events);
          if (!due(p.calendarDone)) return;
          const { user, calendar, events: n, calendarDone: done } = p;
          write({
            type: 'progress',
            stage: 'events',
            user,
            calendar,
            events: n,
            done,
            total: total(),
            perSecond: rate(),
          });
        },
        onAttendees: (p) => {
          attendees.set(p.calendar, { done: p.done, of: p.of });
          if (!due(p.calendarDone)) return;
          const { user, calendar, done: n, of, calendarDone: done } = p;
          write({
            type: 'progress',
            stage: 'attendees',
            user,
            calendar,
            read: n,
            of,
            done,
            total: total(),
            totalRead: read(),
            totalOf: toRead(),
          });
        },
        onStage: (s) => write({ type: 'stage', ...s, seconds: Math.round(s.seconds * 10) / 10 }),
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: ' {name} [{bar}] {value}/{total} calendars | {events} events | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let all: cliProgress.SingleBar | undefined;
  let att: cliProgress.SingleBar | undefined;
  const bars = new Map<string, cliProgress.SingleBar>();
  const perUser = new Map<string, { done: number; cals: Set<string> }>();
  return {
    hooks: {
      onStart: (i) => {
        all = multi.create(i.calendars, 0, { name: 'events on spokes'.padEnd(24), events: 0, rate: 0 });
      },
      onProgress: (p) => {
        events.set(p.calendar, p.events);
        const u = perUser.get(p.user) ?? { done: 0, cals: new Set<string>() };
        perUser.set(p.user, u);
        u.cals.add(p.calendar);
        if (p.calendarDone) u.done += 1;
        let bar = bars.get(p.user);
        if (!bar) {
          bar = multi.create(1, 0, { name: p.user.slice(0, 24).padEnd(24), events: 0, rate: 0 });
          bars.set(p.user, bar);
        }
        const userEvents = [...u.cals].reduce((a, c) => a + (events.get(c) ?? 0), 0);
        bar.setTotal(Math.max(u.cals.size, 1));
        bar.update(u.done, { events: userEvents, rate: rate() });
        all?.update(
          [...perUser.values()].reduce((a, x) => a + x.done, 0),
          { events: total(), rate: rate() },
        );
      },
      onAttendees: (p) => {
        attendees.set(p.calendar, { done: p.done, of: p.of });
        att ??= multi.create(
          0,
          0,
          { name: 'attendees'.padEnd(24) },
          { format: ' {name} [{bar}] {value}/{total} events | ETA {eta_formatted}' },
        );
        att.setTotal(Math.max(toRead(), 1));
        att.update(read());
      },
    },
    stop: () => multi.stop(),
  };
}
