/** Progress of `feisync sync`: a bar per user and a total on a terminal, JSON lines otherwise. */
import cliProgress from 'cli-progress';
import type { SyncOptions } from './sync-run.ts';

export function syncProgress(jsonLines: boolean): {
  hooks: Pick<SyncOptions, 'onStart' | 'onProgress'>;
  stop(): void;
} {
  const started = performance.now();
  const events = new Map<string, number>();
  const total = () => [...events.values()].reduce((a, b) => a + b, 0);
  const rate = () => Math.round(total() / Math.max(0.001, (performance.now() - started) / 1000));
  if (jsonLines) {
    let last = 0;
    return {
      hooks: {
        onStart: (i) => process.stdout.write(`${JSON.stringify({ type: 'start', ...i })}\n`),
        onProgress: (p) => {
          events.set(p.calendar, p.events);
          const now = performance.now();
          if (!p.calendarDone && now - last < 1000) return;
          last = now;
          process.stdout.write(
            `${JSON.stringify({ type: 'progress', user: p.user, calendar: p.calendar, events: p.events, done: p.calendarDone, total: total(), perSecond: rate() })}\n`,
          );
        },
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
  const bars = new Map<string, cliProgress.SingleBar>();
  const perUser = new Map<string, { done: number; cals: Set<string> }>();
  return {
    hooks: {
      onStart: (i) => {
        all = multi.create(i.calendars, 0, { name: 'total'.padEnd(24), events: 0, rate: 0 });
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
    },
    stop: () => multi.stop(),
  };
}
