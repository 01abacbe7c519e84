/**
 * The tenant's whole directory, for domain rules. `find_by_department` lists a department's direct
 * members only, so the walk is: one paged listing of every department under the root
 * (`departments/0/children` with `fetch_child=true`, 50 a page), then the direct members of the
 * root and of each department (50 a page), a few departments at a time. A user who sits in several
 * departments is listed once. Every request goes through `api.call`, under its API's rate budget.
 */
import type { Api } from './client.ts';

export interface DirectoryUser {
  openId: string;
  email: string;
}

/** Departments whose members are read at the same time (the rate limiter still paces them). */
const PARALLEL = 4;

/** open_department_ids of every live department under the root, the root ("0") first. */
async function departments(api: Api): Promise<string[]> {
  const out = ['0'];
  let page_token: string | undefined;
  do {
    const r = await api.call('contact.department_children', () =>
      api.sdk.contact.v3.department.children({
        path: { department_id: '0' },
        params: {
          department_id_type: 'open_department_id',
          fetch_child: true,
          page_size: 50,
          ...(page_token ? { page_token } : {}),
        },
      }),
    );
    for (const d of r.data?.items ?? [])
      if (d.open_department_id && !d.status?.is_deleted) out.push(d.open_department_id);
    page_token = r.data?.has_more ? r.data.page_token : undefined;
  } while (page_token);
  return [...new Set(out)];
}

/** The department's direct members that have an e-mail. */
async function members(api: Api, department_id: string): Promise<DirectoryUser[]> {
  const out: DirectoryUser[] = [];
  let page_token: string | undefined;
  do {
    const r = await api.call('contact.find_by_department', () =>
      api.sdk.contact.v3.user.findByDepartment({
        params: {
          department_id,
          department_id_type: 'open_department_id',
          user_id_type: 'open_id',
          page_size: 50,
          ...(page_token ? { page_token } : {}),
        },
      }),
    );
    for (const u of r.data?.items ?? [])
      if (u.open_id && u.email) out.push({ openId: u.open_id, email: u.email });
    page_token = r.data?.has_more ? r.data.page_token : undefined;
  } while (page_token);
  return out;
}

/** Everyone in the tenant's department tree, each once, in department order. */
export async function listDirectory(api: Api): Promise<DirectoryUser[]> {
  const ids = await departments(api);
  const found: DirectoryUser[][] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      found[i] = await members(api, ids[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  const seen = new Map<string, DirectoryUser>();
  for (const u of found.flat()) if (!seen.has(u.openId)) seen.set(u.openId, u);
  return [...seen.values()];
}
