/**
 * The tenancy port: apps (tenants), their API keys (stored hashed) and the HTTP hooks registered
 * through the server, which must outlive the process. SQLite implements it now.
 */
import type { Page } from "./deliveries.js";

export type KeyScope = "admin" | "ingest" | "read";

export interface AppRecord {
  id: string;
  created_at: string;
}

export interface ApiKeyRecord {
  id: string;
  app_id: string;
  scope: KeyScope;
  name: string | null;
  /** The first characters of the key, enough to recognise it in a list; never enough to use it. */
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export interface StoredHook {
  id: string;
  app_id: string;
  type: string;
  url: string;
  timeout_ms: number | null;
  fail_open: boolean;
  shadow: boolean;
  created_at: string;
}

export interface TenancyStore {
  /** False when the app already exists. */
  createApp(id: string, nowMs: number): Promise<boolean>;
  getApp(id: string): Promise<AppRecord | undefined>;
  listApps(): Promise<AppRecord[]>;

  /** `hash` is the SHA-256 of the key (hex). */
  insertKey(key: ApiKeyRecord, hash: string): Promise<void>;
  /** The key with this hash and its stored hash (for the constant-time comparison). */
  findKeyByHash(hash: string): Promise<{ key: ApiKeyRecord; hash: string } | undefined>;
  listKeys(app_id: string, opts: { cursor?: string; limit: number }): Promise<Page<ApiKeyRecord>>;
  /** False when the app has no such key (already revoked keys answer true). */
  revokeKey(app_id: string, id: string, nowMs: number): Promise<boolean>;
  /** Makes the key with this hash an active key of `app_id` with `scope` (creating it when absent). */
  upsertKeyByHash(key: ApiKeyRecord, hash: string): Promise<ApiKeyRecord>;
  countActiveKeys(app_id: string, scope: KeyScope): Promise<number>;

  insertHook(hook: StoredHook, secret: string): Promise<void>;
  /** Every stored hook of the app in registration order, with its secret. */
  allHooks(app_id: string): Promise<(StoredHook & { secret: string })[]>;
  listHooks(app_id: string, opts: { cursor?: string; limit: number }): Promise<Page<StoredHook>>;
  deleteHook(app_id: string, id: string): Promise<boolean>;
}
