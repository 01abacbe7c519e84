/**
 * A generated tenant on the three emulators, composed into an App whose users have consented (their
 * Feishu user tokens stored, as `serve`'s consent pages would): the setup most end-to-end tests share.
 */
import { type App, compose } from '../../src/app/compose.ts';
import { writeDemoFiles } from '../../src/app/demo/run.ts';
import type { Tenant } from '../../src/app/demo/tenant.ts';
import { control, type Emulators, startEmulators } from '../../src/app/emulators.ts';
import { loadConfig } from '../../src/config/index.ts';

/** Every user of the tenant consents: their tokens go into the app's encrypted store. */
export async function consentAll(app: App, em: Emulators, tenant: Tenant): Promise<void> {
  for (const u of tenant.users) {
    const grant = await control(em.feishu, 'user-token', {
      app_id: tenant.seeds.feishu.apps[0].app_id,
      open_id: u.openId,
    });
    await app.userTokens.adopt(u.openId, grant);
  }
}

/** Emulators seeded with the tenant, its config written to `dir`, the app composed and consented. */
export async function openWorld(
  tenant: Tenant,
  dir: string,
): Promise<{ em: Emulators; app: App; configFile: string }> {
  const em = await startEmulators({ seed: tenant.seeds, unlimited: true });
  Object.assign(process.env, { FEISHU_URL: em.feishu, GOOGLE_URL: em.google, GRAPH_URL: em.graph });
  const configFile = writeDemoFiles(dir, tenant);
  const app = await compose(loadConfig(configFile), configFile, { unthrottled: true });
  await consentAll(app, em, tenant);
  return { em, app, configFile };
}
