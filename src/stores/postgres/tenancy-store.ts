import type { ApiKeyRecord, KeyScope, StoredHook, TenancyStore } from "../../core/ports/tenancy.js";
import type { PgDb } from "./connection.js";
import { decodeCursor, iso, toPage } from "../../core/paging.js";

interface KeyRow {
  pos: number;
  id: string;
  app_id: string;
  scope: KeyScope;
  name: string | null;
  hash: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
}

interface HookRow {
  pos: number;
  id: string;
  app_id: string;
  type: string;
  url: string;
  secret: string;
  timeout_ms: number | null;
  fail_open: boolean;
  shadow: boolean;
  created_at: number;
}

const toKey = (r: KeyRow): ApiKeyRecord => ({
  id: r.id, app_id: r.app_id, scope: r.scope, name: r.name, prefix: r.prefix, created_at: iso(r.created_at), revoked_at: r.revoked_at === null ? null : iso(r.revoked_at),
});

const toHook = (r: HookRow): StoredHook => ({
  id: r.id, app_id: r.app_id, type: r.type, url: r.url, timeout_ms: r.timeout_ms, fail_open: r.fail_open, shadow: r.shadow, created_at: iso(r.created_at),
});

/** Apps, API keys (hashes only) and stored hooks on PostgreSQL: the same rows and rules as on SQLite. */
export function createPgTenancyStore(db: PgDb): TenancyStore {
  const s = db.s;
  return {
    async createApp(id, nowMs) {
      return (await db.exec(`INSERT INTO ${s}.apps (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [id, nowMs])) === 1;
    },
    async getApp(id) {
      const [r] = await db.query<{ id: string; created_at: number }>(`SELECT id, created_at FROM ${s}.apps WHERE id = $1`, [id]);
      return r && { id: r.id, created_at: iso(r.created_at) };
    },
    async listApps() {
      // COLLATE "C": byte order, as SQLite sorts, whatever the database's collation.
      return (await db.query<{ id: string; created_at: number }>(`SELECT id, created_at FROM ${s}.apps ORDER BY id COLLATE "C"`)).map((r) => ({ id: r.id, created_at: iso(r.created_at) }));
    },

    async insertKey(k, hash) {
      await db.exec(`INSERT INTO ${s}.api_keys (id, app_id, scope, name, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        k.id, k.app_id, k.scope, k.name, hash, k.prefix, Date.parse(k.created_at),
      ]);
    },
    async findKeyByHash(hash) {
      const [r] = await db.query<KeyRow>(`SELECT * FROM ${s}.api_keys WHERE hash = $1`, [hash]);
      return r && { key: toKey(r), hash: r.hash };
    },
    async listKeys(app_id, opts) {
      const rows = await db.query<KeyRow>(`SELECT * FROM ${s}.api_keys WHERE app_id = $1 AND pos > $2 ORDER BY pos LIMIT $3`, [app_id, decodeCursor(opts.cursor), opts.limit + 1]);
      return toPage(rows, opts.limit, toKey);
    },
    async revokeKey(app_id, id, nowMs) {
      return (await db.exec(`UPDATE ${s}.api_keys SET revoked_at = coalesce(revoked_at, $3) WHERE app_id = $1 AND id = $2`, [app_id, id, nowMs])) > 0;
    },
    async upsertKeyByHash(k, hash) {
      const [r] = await db.query<KeyRow>(
        `INSERT INTO ${s}.api_keys (id, app_id, scope, name, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (hash) DO UPDATE SET app_id = excluded.app_id, scope = excluded.scope, revoked_at = NULL RETURNING *`,
        [k.id, k.app_id, k.scope, k.name, hash, k.prefix, Date.parse(k.created_at)],
      );
      return toKey(r!);
    },
    async countActiveKeys(app_id, scope) {
      const [r] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.api_keys WHERE app_id = $1 AND scope = $2 AND revoked_at IS NULL`, [app_id, scope]);
      return r!.n;
    },

    async insertHook(h, secret) {
      await db.exec(`INSERT INTO ${s}.hooks (id, app_id, type, url, secret, timeout_ms, fail_open, shadow, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        h.id, h.app_id, h.type, h.url, secret, h.timeout_ms, h.fail_open, h.shadow, Date.parse(h.created_at),
      ]);
    },
    async allHooks(app_id) {
      return (await db.query<HookRow>(`SELECT * FROM ${s}.hooks WHERE app_id = $1 ORDER BY pos`, [app_id])).map((r) => ({ ...toHook(r), secret: r.secret }));
    },
    async listHooks(app_id, opts) {
      const rows = await db.query<HookRow>(`SELECT * FROM ${s}.hooks WHERE app_id = $1 AND pos > $2 ORDER BY pos LIMIT $3`, [app_id, decodeCursor(opts.cursor), opts.limit + 1]);
      return toPage(rows, opts.limit, toHook);
    },
    async deleteHook(app_id, id) {
      return (await db.exec(`DELETE FROM ${s}.hooks WHERE app_id = $1 AND id = $2`, [app_id, id])) > 0;
    },
  };
}
