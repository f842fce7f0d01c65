import type Database from "better-sqlite3";
import type { ApiKeyRecord, AppRecord, KeyScope, StoredHook, TenancyStore } from "../../core/ports/tenancy.js";
import { decodeCursor, encodeCursor } from "../../core/paging.js";

interface KeyRow {
  pos: number;
  id: string;
  app_id: string;
  scope: string;
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
  fail_open: number;
  shadow: number;
  created_at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function toKey(r: KeyRow): ApiKeyRecord {
  return { id: r.id, app_id: r.app_id, scope: r.scope as KeyScope, name: r.name, prefix: r.prefix, created_at: iso(r.created_at), revoked_at: r.revoked_at === null ? null : iso(r.revoked_at) };
}

function toHook(r: HookRow): StoredHook {
  return { id: r.id, app_id: r.app_id, type: r.type, url: r.url, timeout_ms: r.timeout_ms, fail_open: r.fail_open === 1, shadow: r.shadow === 1, created_at: iso(r.created_at) };
}

/**
 * Apps, keys and stored hooks on the main connection: these writes are rare (operators), and the
 * key lookup on every request is one indexed read, cheaper than a round trip to the writer thread.
 */
export function createSqliteTenancyStore(db: Database.Database): TenancyStore {
  const byHash = db.prepare("SELECT * FROM api_keys WHERE hash = ?");
  const page = <R extends { pos: number }, T>(rows: R[], limit: number, map: (r: R) => T) => {
    const data = rows.slice(0, limit);
    return { data: data.map(map), next_cursor: rows.length > limit ? encodeCursor(data[data.length - 1]!.pos) : null };
  };

  return {
    async createApp(id, nowMs) {
      return db.prepare("INSERT INTO apps (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING").run(id, nowMs).changes === 1;
    },
    async getApp(id) {
      const r = db.prepare("SELECT id, created_at FROM apps WHERE id = ?").get(id) as { id: string; created_at: number } | undefined;
      return r && ({ id: r.id, created_at: iso(r.created_at) } satisfies AppRecord);
    },
    async listApps() {
      return (db.prepare("SELECT id, created_at FROM apps ORDER BY id").all() as { id: string; created_at: number }[]).map((r) => ({ id: r.id, created_at: iso(r.created_at) }));
    },

    async insertKey(k, hash) {
      db.prepare("INSERT INTO api_keys (id, app_id, scope, name, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
        k.id, k.app_id, k.scope, k.name, hash, k.prefix, Date.parse(k.created_at),
      );
    },
    async findKeyByHash(hash) {
      const r = byHash.get(hash) as KeyRow | undefined;
      return r && { key: toKey(r), hash: r.hash };
    },
    async listKeys(app_id, opts) {
      const rows = db.prepare("SELECT * FROM api_keys WHERE app_id = ? AND pos > ? ORDER BY pos LIMIT ?").all(app_id, decodeCursor(opts.cursor), opts.limit + 1) as KeyRow[];
      return page(rows, opts.limit, toKey);
    },
    async revokeKey(app_id, id, nowMs) {
      const found = db.prepare("SELECT 1 FROM api_keys WHERE app_id = ? AND id = ?").get(app_id, id);
      if (!found) return false;
      db.prepare("UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE app_id = ? AND id = ?").run(nowMs, app_id, id);
      return true;
    },
    async upsertKeyByHash(k, hash) {
      const tx = db.transaction(() => {
        db.prepare(
          `INSERT INTO api_keys (id, app_id, scope, name, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (hash) DO UPDATE SET app_id = excluded.app_id, scope = excluded.scope, revoked_at = NULL`,
        ).run(k.id, k.app_id, k.scope, k.name, hash, k.prefix, Date.parse(k.created_at));
        return toKey(byHash.get(hash) as KeyRow);
      });
      return tx.immediate();
    },
    async countActiveKeys(app_id, scope) {
      return db.prepare("SELECT count(*) FROM api_keys WHERE app_id = ? AND scope = ? AND revoked_at IS NULL").pluck().get(app_id, scope) as number;
    },

    async insertHook(h, secret) {
      db.prepare("INSERT INTO hooks (id, app_id, type, url, secret, timeout_ms, fail_open, shadow, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").run(
        h.id, h.app_id, h.type, h.url, secret, h.timeout_ms, h.fail_open ? 1 : 0, h.shadow ? 1 : 0, Date.parse(h.created_at),
      );
    },
    async allHooks(app_id) {
      return (db.prepare("SELECT * FROM hooks WHERE app_id = ? ORDER BY pos").all(app_id) as HookRow[]).map((r) => ({ ...toHook(r), secret: r.secret }));
    },
    async listHooks(app_id, opts) {
      const rows = db.prepare("SELECT * FROM hooks WHERE app_id = ? AND pos > ? ORDER BY pos LIMIT ?").all(app_id, decodeCursor(opts.cursor), opts.limit + 1) as HookRow[];
      return page(rows, opts.limit, toHook);
    },
    async deleteHook(app_id, id) {
      return db.prepare("DELETE FROM hooks WHERE app_id = ? AND id = ?").run(app_id, id).changes > 0;
    },
  };
}
