/**
 * Every list answers `{data, next_cursor}`; cursors are opaque to clients (base64url of a tagged
 * position) so the position can change representation without breaking them.
 */
import { InvalidQueryError } from "../core/errors.js";

export function limitOf(query: Record<string, string>, fallback = 100): number {
  if (query.limit === undefined) return fallback;
  const n = Number(query.limit);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidQueryError("limit must be an integer from 1 to 1000");
  return n;
}

export function encodeTagged(tag: string, value: string | number): string {
  return Buffer.from(`${tag}:${value}`).toString("base64url");
}

export function decodeTagged(tag: string, cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, "base64url").toString();
  if (!text.startsWith(`${tag}:`) || text.length === tag.length + 1) throw new InvalidQueryError("cursor is not one this API returned");
  return text.slice(tag.length + 1);
}

export function decodeSeqCursor(cursor: string | undefined): number | undefined {
  const v = decodeTagged("s", cursor);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new InvalidQueryError("cursor is not one this API returned");
  return Number(v);
}

export function intOf(query: Record<string, string>, name: string): number | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidQueryError(`${name} must be a non-negative integer`);
  return n;
}

/** `a,b` or repeated parameters, already joined by validatedQuery. */
export function listOf(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  return items.length > 0 ? items : undefined;
}
