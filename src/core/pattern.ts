/**
 * Type patterns used by handlers, subscriptions and queries:
 * `user.created` exact; `user.*` one segment; `authentication.**` one or more segments;
 * `*` in any position matches one segment; `**` may only come last.
 */
import { InvalidPatternError } from "./errors.js";
import type { EventType } from "./catalog/catalog.js";

const SEGMENT = /^[a-z0-9_]+$/;

export function assertValidPattern(pattern: string): void {
  if (typeof pattern !== "string" || pattern.length === 0 || pattern.length > 200) throw new InvalidPatternError(String(pattern));
  const segments = pattern.split(".");
  segments.forEach((s, i) => {
    if (s === "*" || SEGMENT.test(s)) return;
    if (s === "**" && i === segments.length - 1) return;
    throw new InvalidPatternError(pattern);
  });
}

/** Compiles a pattern into a predicate over type names. Throws InvalidPatternError. */
export function compilePattern(pattern: string): (type: string) => boolean {
  assertValidPattern(pattern);
  if (!pattern.includes("*")) return (type) => type === pattern;
  const source = pattern
    .split(".")
    .map((s) => (s === "**" ? "[a-z0-9_]+(?:\\.[a-z0-9_]+)*" : s === "*" ? "[a-z0-9_]+" : s))
    .join("\\.");
  const re = new RegExp(`^${source}$`);
  return (type) => re.test(type);
}

/** True when any of the patterns matches. */
export function compilePatterns(patterns: readonly string[]): (type: string) => boolean {
  const fns = patterns.map(compilePattern);
  return (type) => fns.some((f) => f(type));
}

type Segments<S extends string> = S extends `${infer H}.${infer T}` ? [H, ...Segments<T>] : [S];
type MatchSeg<P extends string[], T extends string[]> = P extends ["**"]
  ? T extends [string, ...string[]] ? true : false
  : P extends [infer PH extends string, ...infer PT extends string[]]
    ? T extends [infer TH extends string, ...infer TT extends string[]]
      ? PH extends "*" ? MatchSeg<PT, TT> : PH extends TH ? MatchSeg<PT, TT> : false
      : false
    : T extends [] ? true : false;

/** The catalog types a pattern matches, computed at compile time: `on("user.*", e => ...)` is typed. */
export type TypesMatching<P extends string> = string extends P
  ? EventType
  : { [K in EventType]: MatchSeg<Segments<P>, Segments<K>> extends true ? K : never }[EventType];
