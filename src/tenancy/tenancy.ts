/**
 * Apps (tenants) and their API keys. A key is shown once, when created; the database keeps only
 * its SHA-256, so a leaked database does not leak usable keys. Keys are 32 random bytes, so an
 * unsalted fast hash is enough: there is no dictionary to attack.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { uuidv7 } from "../core/ids.js";
import { InvalidAppError, InvalidOptionsError, InvalidQueryError, NotFoundError } from "../core/errors.js";
import type { Page } from "../core/ports/deliveries.js";
import type { ApiKeyRecord, AppRecord, KeyScope, TenancyStore } from "../core/ports/tenancy.js";

export const KEY_SCOPES: readonly KeyScope[] = ["admin", "ingest", "read"];
export const APP_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** A bootstrap key chosen by the operator must at least not be guessable by brute force. */
export const MIN_KEY_LENGTH = 16;

export interface Principal {
  app_id: string;
  scope: KeyScope;
  key_id: string;
}

export interface CreatedKey {
  id: string;
  key: string;
  scope: KeyScope;
  name: string | null;
  app_id: string;
  prefix: string;
  created_at: string;
}

export interface AppsApi {
  /** Creates an app; InvalidAppError when the id is malformed or taken. */
  create(id: string): Promise<AppRecord>;
  /** Creates the app when it does not exist yet. */
  ensure(id: string): Promise<AppRecord>;
  get(id: string): Promise<AppRecord | undefined>;
  list(): Promise<AppRecord[]>;
}

export interface KeysApi {
  /** A new random key (`abk_...`); its value is in the answer and nowhere else, ever. */
  create(app_id: string, scope: KeyScope, name?: string | null): Promise<CreatedKey>;
  list(app_id: string, opts?: { cursor?: string; limit?: number }): Promise<Page<ApiKeyRecord>>;
  /** NotFoundError when the app has no such key. */
  revoke(app_id: string, id: string): Promise<void>;
  /** Who the key is, or undefined for an unknown or revoked key. */
  authenticate(key: string): Promise<Principal | undefined>;
  /** Makes exactly this value an active key of the app with the scope (AUTHBUS_ADMIN_KEY). */
  ensure(app_id: string, scope: KeyScope, value: string, name: string): Promise<ApiKeyRecord>;
  countActive(app_id: string, scope: KeyScope): Promise<number>;
}

export function generateApiKey(): string {
  return `abk_${randomBytes(32).toString("base64url")}`;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

const prefixOf = (key: string) => key.slice(0, Math.min(10, Math.floor(key.length / 3)));

export function createTenancy(store: TenancyStore, now: () => number): { apps: AppsApi; keys: KeysApi } {
  const assertAppId = (id: unknown): string => {
    if (typeof id !== "string" || !APP_ID_PATTERN.test(id)) throw new InvalidAppError(`App id ${JSON.stringify(String(id)).slice(0, 80)} is malformed: use 1 to 63 of a-z, 0-9, _ and -, starting with a letter or digit`);
    return id;
  };
  const assertScope = (scope: unknown): KeyScope => {
    if (!KEY_SCOPES.includes(scope as KeyScope)) throw new InvalidQueryError(`scope must be one of ${KEY_SCOPES.join(", ")}`);
    return scope as KeyScope;
  };
  const record = (app_id: string, scope: KeyScope, name: string | null, key: string): ApiKeyRecord => ({
    id: `key_${uuidv7().replace(/-/g, "")}`,
    app_id,
    scope,
    name,
    prefix: prefixOf(key),
    created_at: new Date(now()).toISOString(),
    revoked_at: null,
  });

  const apps: AppsApi = {
    async create(id) {
      assertAppId(id);
      if (!(await store.createApp(id, now()))) throw new InvalidAppError(`App ${id} already exists`);
      return (await store.getApp(id))!;
    },
    async ensure(id) {
      assertAppId(id);
      await store.createApp(id, now());
      return (await store.getApp(id))!;
    },
    get: (id) => store.getApp(id),
    list: () => store.listApps(),
  };

  const keys: KeysApi = {
    async create(app_id, scope, name = null) {
      assertScope(scope);
      if (!(await store.getApp(app_id))) throw new NotFoundError("app", app_id);
      const key = generateApiKey();
      const r = record(app_id, scope, name, key);
      await store.insertKey(r, hashApiKey(key));
      return { id: r.id, key, scope, name: r.name, app_id, prefix: r.prefix, created_at: r.created_at };
    },
    async list(app_id, opts = {}) {
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidQueryError("limit must be an integer from 1 to 1000");
      return store.listKeys(app_id, { cursor: opts.cursor, limit });
    },
    async revoke(app_id, id) {
      if (!(await store.revokeKey(app_id, id, now()))) throw new NotFoundError("key", id);
    },
    async authenticate(key) {
      if (typeof key !== "string" || key.length === 0 || key.length > 512) return undefined;
      const hash = hashApiKey(key);
      const found = await store.findKeyByHash(hash);
      // The lookup is by hash (no timing signal about the key itself); the comparison is
      // constant-time anyway so that no future lookup strategy can turn into an oracle.
      if (!found || !timingSafeEqual(Buffer.from(found.hash, "hex"), Buffer.from(hash, "hex"))) return undefined;
      if (found.key.revoked_at !== null) return undefined;
      return { app_id: found.key.app_id, scope: found.key.scope, key_id: found.key.id };
    },
    async ensure(app_id, scope, value, name) {
      assertScope(scope);
      if (value.length < MIN_KEY_LENGTH) throw new InvalidOptionsError([{ pointer: "/adminKey", message: `a bootstrap admin key (AUTHBUS_ADMIN_KEY) must be at least ${MIN_KEY_LENGTH} characters` }]);
      await apps.ensure(app_id);
      return store.upsertKeyByHash(record(app_id, scope, name, value), hashApiKey(value));
    },
    countActive: (app_id, scope) => store.countActiveKeys(app_id, scope),
  };
  return { apps, keys };
}
