/**
 * The operator console, server-rendered (no build step, no script): every page needs a signed-in
 * admin, every action a CSRF token from our own origin (auth.ts).
 *   GET  /                  overview: users and consent, pairs, lag, runs, failures, a chart of the day
 *   GET  /rooms             bookings by room, unmapped rooms, rooms missing on a spoke
 *   GET  /reconcile         the latest parity report; POST /actions/reconcile {mode} runs one now
 *   GET  /dead-letters      failed jobs; POST /actions/retry {queue, id} puts one back on its queue
 *   GET  /waves             migration waves: progress per wave and user
 *   GET  /conflicts         two-way conflicts (when a conflicts store is connected);
 *                           POST /actions/conflicts/resolve {id, keep}
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { latestReconcileReport } from '../../app/reconcile-run.ts';
import { checkRoomDirectories, type RoomDirectoryCheck, roomSections } from '../../app/rooms-report.ts';
import { readStatus } from '../../app/status.ts';
import type { Auth } from '../auth.ts';
import type { WebDeps } from '../deps.ts';
import { page } from '../page.ts';
import { sendPage } from '../public.ts';
import { chartSvg, syncedPerHour } from './chart.ts';
import { CONSOLE_CSS } from './style.ts';
import type { ConsoleDeps } from './types.ts';
import * as views from './views.ts';

export type { ConflictsProvider, ConflictVersion, ConflictView, ConsoleDeps } from './types.ts';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/rooms', label: 'Rooms' },
  { href: '/reconcile', label: 'Reconciliation' },
  { href: '/dead-letters', label: 'Dead letters' },
  { href: '/conflicts', label: 'Conflicts' },
  { href: '/waves', label: 'Waves' },
];

export async function consoleRoutes(
  web: FastifyInstance,
  deps: WebDeps,
  auth: Auth,
  base: () => string,
  ops: ConsoleDeps,
): Promise<void> {
  const { app } = deps;
  const status = () =>
    readStatus(app.db.prisma, {
      bossSchema: app.db.bossSchema,
      rooms: app.config.rooms,
      waves: app.config.migration.waves,
    });
  const notices = new Map<string, string>();
  let directory: { at: number; check: RoomDirectoryCheck } | undefined;

  const render = (req: FastifyRequest, reply: FastifyReply, path: string, title: string, body: string[]) => {
    const s = auth.admin(req)!;
    const notice =
      typeof (req.query as any)?.done === 'string' ? notices.get((req.query as any).done) : undefined;
    return sendPage(
      reply,
      200,
      page(title, body, {
        nav: NAV.map((n) => ({ ...n, current: n.href === path })),
        admin: { name: s.name, csrf: auth.sealer.csrf(s) },
        notice,
      }),
    );
  };
  const csrfOf = (req: FastifyRequest) => auth.sealer.csrf(auth.admin(req)!);
  let noticeId = 0;
  const done = (reply: FastifyReply, to: string, message: string) => {
    const id = String(++noticeId);
    notices.set(id, message);
    if (notices.size > 200) notices.delete(notices.keys().next().value!);
    return reply.redirect(`${to}?done=${id}`, 303);
  };

  web.get('/assets/console.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(CONSOLE_CSS),
  );

  await web.register(async (pages) => {
    pages.addHook('onRequest', auth.guard('page'));
    pages.get('/', async (req, reply) => {
      const [s, buckets, pulls] = await Promise.all([
        status(),
        syncedPerHour(app.db.prisma),
        app.db.prisma.syncRun.findMany({
          where: { kind: 'pull', finishedAt: { not: null } },
          orderBy: { id: 'desc' },
          take: 500,
          select: { finishedAt: true, report: true },
        }),
      ]);
      const lastPull = new Map<string, Date>();
      for (const p of pulls) {
        const cal = (p.report as { calendar?: unknown } | null)?.calendar;
        if (typeof cal === 'string' && !lastPull.has(cal) && p.finishedAt) lastPull.set(cal, p.finishedAt);
      }
      const body = views.overview({
        status: s,
        resolution: ops.resolution(),
        chart: chartSvg(buckets),
        consentBase: deps.publicUrl ?? base(),
        lastPull,
        now: Date.now(),
      });
      return render(req, reply, '/', 'Overview', body);
    });
    pages.get('/rooms', async (req, reply) => {
      if (app.config.rooms.length && (!directory || Date.now() - directory.at > 5 * 60_000)) {
        directory = { at: Date.now(), check: await checkRoomDirectories(app.config, app.spokes) };
      }
      const s = await status();
      return render(
        req,
        reply,
        '/rooms',
        'Rooms',
        views.rooms(s, roomSections(s.roomSummary, directory?.check)),
      );
    });
    pages.get('/waves', async (req, reply) =>
      render(req, reply, '/waves', 'Migration waves', views.waves((await status()).migration)),
    );
    pages.get('/reconcile', async (req, reply) => {
      const report = await latestReconcileReport(app);
      return render(
        req,
        reply,
        '/reconcile',
        'Reconciliation',
        views.reconcile(report, csrfOf(req), ops.reconciling()),
      );
    });
    pages.get('/dead-letters', async (req, reply) =>
      render(req, reply, '/dead-letters', 'Dead letters', views.deadLetters(await status(), csrfOf(req))),
    );
    pages.get('/conflicts', async (req, reply) => {
      const list = ops.conflicts ? await ops.conflicts.list() : undefined;
      return render(req, reply, '/conflicts', 'Conflicts', views.conflicts(list, csrfOf(req)));
    });
  });

  const action = { preHandler: auth.action };
  const field = (req: FastifyRequest, name: string) => {
    const v = (req.body as Record<string, unknown> | undefined)?.[name];
    return typeof v === 'string' ? v : '';
  };
  web.post('/actions/retry', action, async (req, reply) => {
    const queue = field(req, 'queue');
    const id = field(req, 'id');
    if (!queue || !/^[0-9a-f-]{36}$/i.test(id))
      return reply.code(400).send({ error: 'queue and job id needed' });
    await ops.retry(queue, id);
    req.log.info({ admin: auth.admin(req)?.sub, queue, job: id }, 'dead letter retried');
    return done(reply, '/dead-letters', `Job ${id} is back on the ${queue} queue.`);
  });
  web.post('/actions/reconcile', action, async (req, reply) => {
    const mode = field(req, 'mode');
    if (mode !== 'dry-run' && mode !== 'repair')
      return reply.code(400).send({ error: 'mode: dry-run or repair' });
    await ops.reconcile(mode);
    req.log.info({ admin: auth.admin(req)?.sub, mode }, 'reconciliation started from the console');
    return done(reply, '/reconcile', `Reconciliation (${mode}) started: reload for its report.`);
  });
  web.post('/actions/conflicts/resolve', action, async (req, reply) => {
    if (!ops.conflicts) return reply.code(404).send({ error: 'no conflicts store is connected' });
    const id = field(req, 'id');
    const keep = field(req, 'keep');
    if (!id || !keep) return reply.code(400).send({ error: 'id and keep needed' });
    await ops.conflicts.resolve(id, keep);
    req.log.info({ admin: auth.admin(req)?.sub, conflict: id, keep }, 'conflict resolved');
    return done(reply, '/conflicts', `Conflict resolved: kept ${keep}.`);
  });
}
