import { InvalidQueryError } from "./errors.js";
import type { Page } from "./ports/deliveries.js";

/** Opaque list cursors, the same format as the SQLite store's, so a client cannot tell the stores apart. */
export const encodeCursor = (pos: number) => Buffer.from(`p:${pos}`).toString("base64url");

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const m = /^p:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!m) throw new InvalidQueryError("cursor is not one this API returned");
  return Number(m[1]);
}

/** `rows` was fetched with LIMIT limit + 1: the extra row says whether there is a next page. */
export function toPage<R extends { pos: number }, T>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const data = rows.slice(0, limit);
  return { data: data.map(map), next_cursor: rows.length > limit ? encodeCursor(data[data.length - 1]!.pos) : null };
}

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
