/**
 * The directory (contact v3): the department tree, each department's direct members, and user ids by
 * e-mail. Tenant tokens only, as if the app's contact scope were "all members" (user tokens would
 * bring per-user visibility, which Feisync never relies on: the stricter reading refuses them).
 *
 * Seed (optional, in the API's own shape): `departments: [{open_department_id, department_id?,
 * parent_department_id, name}]`, where the root is the implicit department "0" and a top-level
 * department has parent "0"; users' `department_ids: [open_department_id]` are the departments they
 * sit in directly (several allowed). A user without `department_ids` sits in the root, so older
 * seeds keep one flat directory.
 *
 * - `GET /open-apis/contact/v3/departments/:department_id/children`: direct children, or every
 *   descendant with `fetch_child=true` (parents listed before their children).
 * - `GET /open-apis/contact/v3/users/find_by_department`: the department's direct members only
 *   (documented: "获取部门直属用户列表"); a sub-department's members are not in its parent's list.
 * Both take `department_id_type` (`open_department_id`, the default, or `department_id`), and
 * page_size 1-50 (default 10; else 400 / 40011) with opaque page tokens (else 400 / 40012). An
 * unknown department answers 403 / 40004 "no dept authority" (the docs name no code for it; an
 * unknown id cannot be in the app's scope).
 */
import type { EmRequest, Router } from '../../emulator/index.ts';
import { authorize, type Ctx, ferr, ok } from './auth.ts';
import type { Department } from './store.ts';

type IdType = 'open_department_id' | 'department_id';

function idType(req: EmRequest): IdType {
  const t = req.query.get('department_id_type') ?? 'open_department_id';
  if (t !== 'open_department_id' && t !== 'department_id')
    return ferr(400, 99992402, 'field validation failed: department_id_type');
  return t;
}

const customId = (d: Department) => d.department_id ?? d.open_department_id;

/** The open_department_id of the department named by `id` in the given id type ("0": the root). */
function resolveDept(ctx: Ctx, id: string | null, type: IdType): string {
  if (id === '0') return '0';
  const d = [...ctx.store.departments.values()].find(
    (x) => (type === 'department_id' ? customId(x) : x.open_department_id) === id,
  );
  if (!d) return ferr(403, 40004, 'no dept authority error');
  return d.open_department_id;
}

/** As department_id_type asks: the open id, or the custom id ("0" stays "0"). */
function shown(ctx: Ctx, openId: string, type: IdType): string {
  if (openId === '0' || type === 'open_department_id') return openId;
  return customId(ctx.store.departments.get(openId)!);
}

function size(req: EmRequest): number {
  const raw = req.query.get('page_size');
  if (raw === null || raw === '') return 10;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 50) return ferr(400, 40011, 'page size is invalid');
  return n;
}

/** One page of `all`, with an opaque token bound to the listing (`scope`). */
function page<T>(req: EmRequest, scope: string, all: T[]) {
  const n = size(req);
  const token = req.query.get('page_token');
  let from = 0;
  if (token) {
    let parsed: { s?: string; o?: number } = {};
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {}
    if (parsed.s !== scope || !Number.isInteger(parsed.o) || parsed.o! < 0)
      return ferr(400, 40012, 'page token is invalid error');
    from = parsed.o!;
  }
  const more = from + n < all.length;
  return {
    items: all.slice(from, from + n),
    has_more: more,
    ...(more
      ? { page_token: Buffer.from(JSON.stringify({ s: scope, o: from + n })).toString('base64url') }
      : {}),
  };
}

export function contactRoutes(router: Router, ctx: Ctx) {
  const { store } = ctx;
  router.on('GET', '/open-apis/contact/v3/departments/:department_id/children', (req) => {
    authorize(ctx, req, 'contact.department_children', ['tenant']);
    const type = idType(req);
    const root = resolveDept(ctx, req.params.department_id, type);
    const deep = req.query.get('fetch_child') === 'true';
    const all = [...store.departments.values()].sort((a, b) =>
      a.open_department_id.localeCompare(b.open_department_id),
    );
    // Breadth first, so that parents come before their children.
    const out: Department[] = [];
    for (let level = [root]; level.length > 0; ) {
      const next = all.filter((d) => level.includes(d.parent_department_id));
      out.push(...next);
      level = deep ? next.map((d) => d.open_department_id) : [];
    }
    const listing = page(req, `children:${root}:${deep}`, out);
    return ok({
      ...listing,
      items: listing.items.map((d) => ({
        name: d.name,
        i18n_name: { zh_cn: '', ja_jp: '', en_us: '' },
        parent_department_id: shown(ctx, d.parent_department_id, type),
        department_id: customId(d),
        open_department_id: d.open_department_id,
        member_count: [...store.users.values()].filter((u) =>
          store.departmentsOf(u).includes(d.open_department_id),
        ).length,
        status: { is_deleted: false },
      })),
    });
  });

  router.on('GET', '/open-apis/contact/v3/users/find_by_department', (req) => {
    authorize(ctx, req, 'contact.find_by_department', ['tenant']);
    const type = idType(req);
    const dept = resolveDept(ctx, req.query.get('department_id'), type);
    const members = [...store.users.values()]
      .filter((u) => store.departmentsOf(u).includes(dept))
      .sort((a, b) => a.open_id.localeCompare(b.open_id));
    const listing = page(req, `members:${dept}`, members);
    return ok({
      ...listing,
      items: listing.items.map((u) => ({
        open_id: u.open_id,
        user_id: u.user_id,
        union_id: u.union_id,
        name: u.name,
        email: u.email,
        mobile: '',
        status: {
          is_frozen: false,
          is_resigned: false,
          is_activated: true,
          is_exited: false,
          is_unjoin: false,
        },
        department_ids: store.departmentsOf(u).map((id) => shown(ctx, id, type)),
      })),
    });
  });

  router.on('POST', '/open-apis/contact/v3/users/batch_get_id', (req) => {
    authorize(ctx, req, 'contact.batch_get_id', ['tenant']);
    const idType = req.query.get('user_id_type') ?? 'open_id';
    const emails: string[] = req.json().emails ?? [];
    if (emails.length > 50) return ferr(400, 99992402, 'field validation failed: emails at most 50');
    const users = [...store.users.values()];
    return ok({
      user_list: emails.map((email) => {
        const u = users.find((x) => x.email.toLowerCase() === email.toLowerCase());
        const id = u && (idType === 'user_id' ? u.user_id : idType === 'union_id' ? u.union_id : u.open_id);
        return id ? { user_id: id, email } : { email };
      }),
    });
  });
}
