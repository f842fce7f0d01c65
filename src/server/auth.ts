/**
 * Bearer keys and scopes, and a brake on guessing: a client address with too many failed
 * authentications in a window is refused (429) until the window ends, whatever key it sends.
 * The limiter lives in memory, per server: enough against one client hammering one process.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { ForbiddenError, RateLimitedError } from "../core/errors.js";
import type { Principal } from "../tenancy/tenancy.js";
import type { Access, Method } from "./route-table.js";

export interface AuthFailureLimit {
  /** Failures allowed per window and address. Default 20. */
  max: number;
  /** Default 60 000 ms. */
  windowMs: number;
}

export interface FailureLimiter {
  /** Throws RateLimitedError while the address is over the limit. */
  check(address: string): void;
  fail(address: string): void;
}

const MAX_TRACKED = 10_000;

export function createFailureLimiter(limit: AuthFailureLimit, now: () => number = Date.now): FailureLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const current = (address: string) => {
    const w = windows.get(address);
    if (w && w.resetAt <= now()) {
      windows.delete(address);
      return undefined;
    }
    return w;
  };
  return {
    check(address) {
      const w = current(address);
      if (w && w.count >= limit.max) throw new RateLimitedError(Math.max(1, Math.ceil((w.resetAt - now()) / 1000)));
    },
    fail(address) {
      const w = current(address);
      if (w) {
        w.count++;
        return;
      }
      if (windows.size >= MAX_TRACKED) {
        // Bounded memory under a spray of addresses: drop expired windows, then the oldest.
        for (const [k, v] of windows) if (v.resetAt <= now()) windows.delete(k);
        if (windows.size >= MAX_TRACKED) windows.delete(windows.keys().next().value!);
      }
      windows.set(address, { count: 1, resetAt: now() + limit.windowMs });
    },
  };
}

/** The key of `Authorization: Bearer <key>`, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/** Which scopes may use a route: `read` routes are GETs, `ingest` ones are POST /v1/events and evaluate. */
export function assertScope(principal: Principal, access: Access, method: Method): void {
  const ok = principal.scope === "admin" || (access === "read" && principal.scope === "read" && method === "GET") || (access === "ingest" && principal.scope === "ingest");
  if (!ok) {
    const need = access === "admin" ? "an admin key" : access === "read" ? "a read or admin key" : "an ingest or admin key";
    throw new ForbiddenError(`This request needs ${need}; this key's scope is ${principal.scope}`);
  }
}

/** Constant-time comparison of two secrets of any length (both are hashed to equal lengths first). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

