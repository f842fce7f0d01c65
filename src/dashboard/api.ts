/**
 * The API client: every call carries the key as a bearer token and every failure becomes an
 * ApiError holding the problem+json title and detail, so pages can say what went wrong in words.
 */
import type { Delivery, DeliveryAttempt, Subscription, SubscriptionHealth } from "../core/ports/deliveries.js";
import type { StoredHook } from "../core/ports/tenancy.js";
import type { StatsBucket, SubscriptionStats } from "../delivery/subscriptions-api.js";

// The API's shapes are the ports' own (type-only imports: nothing of the server is bundled).
export type { Delivery, Subscription };
export type Health = SubscriptionHealth;
export type Attempt = DeliveryAttempt;
export type Hook = StoredHook;

const KEY_STORAGE = "authbus.key";

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}
export function storeKey(key: string | null): void {
  // sessionStorage: the key lives as long as this tab, never written to disk for other tabs or sessions.
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

export interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  status?: number;
  errors?: { pointer: string; message: string }[];
}

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/** A sentence for the user; 401 and 403 explained in terms of the key. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return "The API key was not accepted: it is wrong, incomplete or revoked. Sign in again with a valid key.";
    if (e.status === 403) return `This key may not do that: ${e.problem.detail ?? "it lacks the scope"}. Admin keys can do everything; read keys can only look.`;
    const head = e.problem.title ?? `Request failed (HTTP ${e.status})`;
    const detail = e.problem.detail && e.problem.detail !== head ? `: ${e.problem.detail}` : "";
    const issues = e.problem.errors?.length ? ` (${e.problem.errors.map((i) => `${i.pointer || "/"} ${i.message}`).join("; ")})` : "";
    return `${head}${detail}${issues}`;
  }
  if (e instanceof TypeError) return `The server could not be reached (${e.message}). Is authbus still running?`;
  return e instanceof Error ? e.message : String(e);
}

let onUnauthorized: (() => void) | undefined;
/** Called when a call answers 401 (the key was revoked while signed in). */
export function setUnauthorizedHandler(f: (() => void) | undefined): void {
  onUnauthorized = f;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; key?: string; signal?: AbortSignal } = {}): Promise<T> {
  const key = init.key ?? storedKey();
  const headers: Record<string, string> = { accept: "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: init.signal });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const problem = (typeof data === "object" && data !== null ? data : { title: `HTTP ${res.status}`, detail: text.slice(0, 200) }) as Problem;
    if (res.status === 401 && init.key === undefined) onUnauthorized?.();
    throw new ApiError(res.status, problem);
  }
  return data as T;
}

export const qs = (params: Record<string, string | number | undefined | null>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : "";
};

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Envelope {
  id: string;
  seq: number;
  subject_seq: number | null;
  type: string;
  payload: Record<string, unknown>;
  context: { app_id: string; timestamp: number; user_id?: string; [k: string]: unknown };
}
export type Bucket = StatsBucket;
/** `GET /v1/subscriptions/{id}/stats`: the library's stats with the window in seconds. */
export type Stats = Omit<SubscriptionStats, "since" | "until" | "bucket_ms"> & { window_seconds: number; bucket_seconds: number };
export interface HookAnswer {
  hook_id: string;
  kind: string;
  outcome: "allow" | "deny" | "error";
  shadow: boolean;
  fail_open?: true;
  title?: string;
  reason?: string;
  error?: string;
  latency_ms: number;
}
export interface Decision {
  id: string;
  event_id: string;
  type: string;
  decision: "allow" | "deny";
  denied_by?: string;
  reason?: string;
  hooks: HookAnswer[];
  latency_ms: number;
  at: string;
}
export interface CatalogEntry {
  type: string;
  kind: "blocking" | "non_blocking";
  description: string;
  schema: unknown;
}

/** Every page of a list, up to `max` items (the API pages in ascending order). */
export async function allPages<T>(path: string, max = 5000, signal?: AbortSignal): Promise<{ data: T[]; truncated: boolean }> {
  const out: T[] = [];
  let cursor: string | null = null;
  const sep = path.includes("?") ? "&" : "?";
  for (;;) {
    const page: Page<T> = await api<Page<T>>(`${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { signal });
    out.push(...page.data);
    if (!page.next_cursor) return { data: out, truncated: false };
    if (out.length >= max) return { data: out, truncated: true };
    cursor = page.next_cursor;
  }
}
