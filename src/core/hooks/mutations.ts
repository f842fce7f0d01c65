/**
 * Applying a hook's mutations to the payload the next hook (and finally the caller) sees.
 * Named objects are replaced as a whole, as Authgear does; reserved JWT claims keep their values.
 * Nothing is changed in place: payloads handed to hooks are frozen, so each step builds new objects.
 */
import type { ValidationIssue } from "../errors.js";
import { escapePointer } from "../validate.js";
import type { ParsedResponse } from "./response.js";

/**
 * Claims the issuer owns (RFC 7519 registered claims and the OIDC ones about the authentication).
 * A hook may not set, change or remove them: changing `sub`, `aud` or `exp` would mint a token the
 * authorization server never decided to issue.
 */
export const RESERVED_JWT_CLAIMS: readonly string[] = Object.freeze(["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "nonce", "acr", "amr", "azp", "sid"]);
const RESERVED = new Set(RESERVED_JWT_CLAIMS);

type Obj = Record<string, unknown>;
export type MutationResult = { ok: true; payload: unknown } | { ok: false; issues: ValidationIssue[] };

export function applyMutations(payload: unknown, mutations: ParsedResponse["mutations"]): MutationResult {
  if (!mutations) return { ok: true, payload };
  let next = payload as Obj;
  const user = mutations.user;
  if (user && (user.standard_attributes !== undefined || user.custom_attributes !== undefined)) {
    const current = (next.user ?? {}) as Obj;
    next = {
      ...next,
      user: {
        ...current,
        ...(user.standard_attributes !== undefined ? { standard_attributes: user.standard_attributes } : {}),
        ...(user.custom_attributes !== undefined ? { custom_attributes: user.custom_attributes } : {}),
      },
    };
  }
  if (mutations.jwt) {
    const jwt = (next.jwt ?? {}) as Obj;
    const current = (jwt.payload ?? {}) as Obj;
    const merged = mergeJwtPayload(current, mutations.jwt.payload);
    if (!merged.ok) return merged;
    next = { ...next, jwt: { ...jwt, payload: merged.payload } };
  }
  return { ok: true, payload: next };
}

/**
 * The new claims set: the hook's, with every reserved claim as it was. A reserved claim the hook
 * leaves out keeps its value (hooks often return only what they add); one it sets to a different
 * value, or adds where there was none, makes the answer invalid, because silently keeping ours
 * would hide the hook author's mistake.
 */
export function mergeJwtPayload(current: Obj, proposed: Obj): MutationResult {
  const issues: ValidationIssue[] = [];
  const out: Obj = {};
  for (const [k, v] of Object.entries(proposed)) {
    if (RESERVED.has(k)) {
      if (!Object.prototype.hasOwnProperty.call(current, k)) issues.push({ pointer: `/mutations/jwt/payload/${escapePointer(k)}`, message: `reserved claim ${k} cannot be set` });
      else if (!jsonEqual(current[k], v)) issues.push({ pointer: `/mutations/jwt/payload/${escapePointer(k)}`, message: `reserved claim ${k} cannot be changed` });
      continue;
    }
    out[k] = v;
  }
  if (issues.length > 0) return { ok: false, issues };
  for (const k of RESERVED_JWT_CLAIMS) if (Object.prototype.hasOwnProperty.call(current, k)) out[k] = current[k];
  return { ok: true, payload: out };
}

/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Obj)[k], (b as Obj)[k]));
}

/** Freezes a JSON value in depth, so an in-process hook that edits the event instead of answering fails loudly. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
