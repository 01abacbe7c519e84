/**
 * `feisync serve --config FILE --port N` as the CLI runs it, with one difference: the connectors'
 * own pacing is off (`unthrottled`), so the memory runs of `npm run bench -- serve` (emulator limits
 * off) take minutes at 80,000 events instead of the hours the documented quotas would need. Started
 * by test/bench/serve.ts in a child process; prints the same `{"serving": URL}` line as the CLI.
 */
import { startService } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config/index.ts';

const [configFile, port] = process.argv.slice(2);
// BENCH_SERVE_MEMLOG=1: one line a second on stderr with the process's memory split (the bench keeps the log)
if (process.env.BENCH_SERVE_MEMLOG) {
  const { readFileSync } = await import('node:fs');
  const mb = (n: number) => Math.round(n / 2 ** 20);
  const t0 = Date.now();
  setInterval(() => {
    const m = process.memoryUsage();
    const rss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
    const line = {
      memlog: (Date.now() - t0) / 1000,
      rss: mb(rss),
      heapUsed: mb(m.heapUsed),
      heapTotal: mb(m.heapTotal),
    };
    process.stderr.write(
      `${JSON.stringify({ ...line, external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) })}\n`,
    );
  }, 1000).unref();
  // and every 15 s the largest mappings (smaps): wasm memories, JIT code, malloc arenas
  setInterval(() => {
    const maps: { head: string; rss: number; size: number }[] = [];
    for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line))
        maps.push({
          head: line.split(/\s+/).slice(1, 2).concat(line.split(/\s+/).slice(5)).join(' '),
          rss: 0,
          size: 0,
        });
      else if (line.startsWith('Rss:')) maps[maps.length - 1].rss = Number(line.split(/\s+/)[1]) >> 10;
      else if (line.startsWith('Size:')) maps[maps.length - 1].size = Number(line.split(/\s+/)[1]) >> 10;
    }
    maps.sort((a, b) => b.rss - a.rss);
    process.stderr.write(
      `${JSON.stringify({ smaps: (Date.now() - t0) / 1000, top: maps.slice(0, 14).map((m) => `${m.rss}/${m.size} ${m.head}`) })}\n`,
    );
  }, 15_000).unref();
}
const service = await startService(loadConfig(configFile), configFile, {
  port: Number(port),
  unthrottled: true,
});
process.stdout.write(`${JSON.stringify({ serving: service.url })}\n`);
// BENCH_SERVE_HEAPPROF=FILE: sample allocations of objects a full GC collected (promoted garbage)
// and live ones until the stop, written as a .heapprofile (Chrome DevTools' format)
const heapProfile = process.env.BENCH_SERVE_HEAPPROF;
let session: import('node:inspector').Session | undefined;
const post = (method: string, params?: object) =>
  new Promise<any>((resolve, reject) =>
    session!.post(method, params, (e, r) => (e ? reject(e) : resolve(r))),
  );
if (heapProfile) {
  const { Session } = await import('node:inspector');
  session = new Session();
  session.connect();
  await post('HeapProfiler.startSampling', {
    samplingInterval: 64 * 1024,
    includeObjectsCollectedByMajorGC: true,
  });
}
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
// BENCH_SERVE_HEAPSNAPSHOT=FILE: a heap snapshot at the stop (what the service still holds)
if (process.env.BENCH_SERVE_HEAPSNAPSHOT)
  (await import('node:v8')).writeHeapSnapshot(process.env.BENCH_SERVE_HEAPSNAPSHOT);
if (heapProfile) {
  const { profile } = await post('HeapProfiler.stopSampling');
  (await import('node:fs')).writeFileSync(heapProfile, JSON.stringify(profile));
}
await service.close();
