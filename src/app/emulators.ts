/** Starts the three emulators together (for `feisync emulators`, the demo and the benchmarks). */
import { startFeishuEmulator } from '../../connectors/feishu/emulator/index.ts';
import { startGoogleEmulator } from '../../connectors/google/emulator/index.ts';
import { startGraphEmulator } from '../../connectors/graph/emulator/index.ts';

export interface Emulators {
  feishu: string;
  google: string;
  graph: string;
  close(): Promise<void>;
}

export async function startEmulators(
  options: {
    seed?: { feishu?: object; google?: object; graph?: object };
    ports?: { feishu?: number; google?: number; graph?: number };
    host?: string;
    /** Switch the documented rate limits off (benchmarks of our own code, the demo). */
    unlimited?: boolean;
  } = {},
): Promise<Emulators> {
  const host = options.host ?? '127.0.0.1';
  const [feishu, google, graph] = await Promise.all([
    startFeishuEmulator({ host, port: options.ports?.feishu ?? 0, seed: options.seed?.feishu }),
    startGoogleEmulator({ host, port: options.ports?.google ?? 0, seed: options.seed?.google }),
    startGraphEmulator({ host, port: options.ports?.graph ?? 0, seed: options.seed?.graph }),
  ]);
  const all = { feishu: feishu.url, google: google.url, graph: graph.url };
  if (options.unlimited) {
    await Promise.all(Object.values(all).map((url) => control(url, 'limits', { enabled: false })));
  }
  return {
    ...all,
    close: async () => void (await Promise.all([feishu.close(), google.close(), graph.close()])),
  };
}

/** POST a control call to an emulator; throws on a non-2xx answer. */
export async function control(url: string, name: string, body: unknown = {}): Promise<any> {
  const r = await fetch(`${url}/_emulator/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`emulator ${name} answered ${r.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}
