/**
 * The parts of an Auth.js (`@auth/core`) or NextAuth v4 configuration the integration touches,
 * typed structurally so that one implementation serves both libraries without importing either.
 */
import type { HookDeniedError } from "../../../index.js";
import type { EventSinkOptions } from "../event-sink.js";
import type { RequestLike } from "../request-context.js";

// The libraries' own signatures vary between versions; the wrapper only forwards arguments.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFn = (...args: any[]) => any;

export interface FamilyUser {
  id?: string;
  name?: string | null;
  email?: string | null;
  image?: string | null;
  emailVerified?: Date | null;
  [key: string]: unknown;
}

export interface FamilyAccount {
  provider: string;
  type: string;
  providerAccountId: string;
  userId?: string;
  [key: string]: unknown;
}

export type FamilyAdapter = Record<string, AnyFn | undefined>;

export interface FamilyConfig {
  providers?: unknown[];
  adapter?: FamilyAdapter;
  callbacks?: Record<string, AnyFn | undefined>;
  events?: Record<string, AnyFn | undefined>;
  logger?: Record<string, AnyFn | undefined>;
  session?: { strategy?: "jwt" | "database" };
  [key: string]: unknown;
}

/** What differs between Auth.js and NextAuth v4. */
export interface Flavor {
  /** The error thrown from `callbacks.jwt` when a hook denies (the library answers AccessDenied). */
  denied(error: HookDeniedError): Error;
  /** Whether the library itself logs this error thrown by `authorize` (and so records it as `auth.error`). */
  logsAuthorizeError(error: unknown): boolean;
  /** The library's own `callbacks.session`, used when the app has none and Authbus wraps it. */
  defaultSession(params: { session: Record<string, unknown> }): unknown;
  /** Wraps the app's logger so that library errors are reported through `report`. */
  wrapLogger(logger: Record<string, AnyFn | undefined> | undefined, report: (error: { name: string; message: string; code?: string }) => void): Record<string, AnyFn>;
}

export interface WithAuthbusOptions extends EventSinkOptions {
  /**
   * Record `user.session.accessed` on every session read (NextAuth's `session` event). Off by
   * default: it fires on every page that reads the session.
   */
  sessionAccessed?: boolean;
  /** The request being handled, when the config is built per request (NextAuth v5 lazy init). */
  request?: RequestLike;
  /** Credentials fields tried, in order, as the login id of a failed sign-in. Default email, username, login, identifier, phone. */
  loginIdFields?: readonly string[];
  /** How long a created user waits for its linked account before `user.created` is recorded without it. Default 2000 ms. */
  createdFlushMs?: number;
}
