/**
 * The catalog must cover every event the source documents (seeds) name. The parsers are
 * strict on purpose: anything that looks like an event name but is not a well-formed type is
 * reported, and minimum counts catch a seed whose format changed so that names vanish.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOG } from "../src/core/catalog/definitions.js";
import { EVENT_TYPES, isEventType } from "../src/core/catalog/catalog.js";
import { NEXTAUTH_EVENTS } from "../src/core/formats/nextauth.js";

const SEEDS = path.resolve(process.cwd(), "../shared/seeds");

function readSeed(number: string): string {
  const files = readdirSync(SEEDS).filter((f) => f.startsWith(`${number}_`));
  expect(files, `exactly one seed ${number}_* in ${SEEDS}`).toHaveLength(1);
  return readFileSync(path.join(SEEDS, files[0]!), "utf8");
}

const TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
/** One token with a dot: what an event name looks like, well-formed or not. */
const LOOKS_LIKE_TYPE = /^[^\s]+\.[^\s]+$/;

interface Parsed {
  names: Set<string>;
  /** Tokens that look like event names but are not valid type names; must stay empty. */
  malformed: string[];
}

function collect(candidates: Iterable<string>): Parsed {
  const parsed: Parsed = { names: new Set(), malformed: [] };
  for (const raw of candidates) {
    const text = raw.trim().replace(/^`(.*)`$/, "$1");
    if (!LOOKS_LIKE_TYPE.test(text)) continue;
    if (TYPE_NAME.test(text)) parsed.names.add(text);
    else parsed.malformed.push(text);
  }
  return parsed;
}

const matches = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => m[1]!);

/** Seed 002 (Authgear): `- [name](#anchor)` list items and `#### name` headings. */
function parseAuthgear(text: string) {
  const listed = collect(matches(text, /^\s*[-*+]\s+\[([^\]]+)\]\(#[^)]*\)/gm));
  const headed = collect(matches(text, /^####\s+(.+?)\s*$/gm));
  // The `### Blocking Events` / `### Non-blocking Events` section a heading sits in gives its kind.
  const kindOf = new Map<string, string>();
  let section = "";
  for (const line of text.split(/\r?\n/)) {
    const h3 = /^###\s+(.+?)\s*$/.exec(line);
    if (h3) section = /^non-blocking/i.test(h3[1]!) ? "non_blocking" : /^blocking/i.test(h3[1]!) ? "blocking" : "";
    const h4 = /^####\s+(\S+)\s*$/.exec(line);
    if (h4 && TYPE_NAME.test(h4[1]!)) kindOf.set(h4[1]!, section);
  }
  return {
    names: new Set([...listed.names, ...headed.names]),
    malformed: [...listed.malformed, ...headed.malformed],
    headings: headed.names,
    kindOf,
  };
}

/** Seed 004 (Auth0): `<code>name</code>` inside the tables, and `### name` headings. */
function parseAuth0(text: string): Parsed {
  const tables = matches(text, /<table\b[^>]*>([\s\S]*?)<\/table>/g).join("\n");
  const coded = collect(matches(tables, /<code>([^<]*)<\/code>/g));
  const headed = collect(matches(text, /^###\s+(.+?)\s*$/gm));
  return { names: new Set([...coded.names, ...headed.names]), malformed: [...coded.malformed, ...headed.malformed] };
}

/** Seeds 000/001/003 (NextAuth): `### signIn`, `### signIn[](url ...)`, `### signIn[#](#signin ...)`. */
function parseNextAuth(text: string): Parsed {
  const parsed: Parsed = { names: new Set(), malformed: [] };
  for (const heading of matches(text, /^###\s+(.+?)\s*$/gm)) {
    const name = heading.split("[")[0]!.trim();
    if (/^[a-z][A-Za-z]*$/.test(name)) parsed.names.add(name);
    else parsed.malformed.push(heading);
  }
  return parsed;
}

/**
 * Auth0 names that SPEC §2 deliberately keeps out of the catalog: the `auth0` rendering emits
 * them for canonical Authgear types (`user.updated` for profile, identity, disable/re-enable and
 * promotion changes). Each entry names the canonical type it chiefly stands for.
 */
const AUTH0_RENDERING_ONLY: Record<string, string> = {
  "user.updated": "user.profile.updated",
};

describe("seed 002 (Authgear event list)", () => {
  const seed = parseAuthgear(readSeed("002"));

  it("parses every listed event name", () => {
    expect(seed.malformed).toEqual([]);
    expect(seed.names.size).toBeGreaterThanOrEqual(44);
    expect(seed.headings.size).toBeGreaterThanOrEqual(44);
  });

  it("has every name in the catalog, as an Authgear type of the seed's kind", () => {
    expect([...seed.names].filter((n) => !isEventType(n))).toEqual([]);
    const wrong = [...seed.names]
      .filter(isEventType)
      .filter((n) => CATALOG[n].source !== "authgear" || (seed.kindOf.has(n) && CATALOG[n].kind !== seed.kindOf.get(n)))
      .map((n) => `${n}: seed says ${seed.kindOf.get(n)}, catalog has ${CATALOG[n].kind}/${CATALOG[n].source}`);
    expect(wrong).toEqual([]);
    expect([...seed.kindOf.values()].filter((k) => k === "")).toEqual([]);
  });
});

describe("seed 004 (Auth0 event types)", () => {
  const seed = parseAuth0(readSeed("004"));

  it("parses every listed event name", () => {
    expect(seed.malformed).toEqual([]);
    expect(seed.names.size).toBeGreaterThanOrEqual(13);
  });

  it("has every name in the catalog, or rendered from a catalog type (SPEC §2)", () => {
    const missing = [...seed.names].filter((n) => !isEventType(n) && !(n in AUTH0_RENDERING_ONLY));
    expect(missing).toEqual([]);
  });

  it("keeps the rendering-only exceptions current", () => {
    for (const [auth0Name, canonical] of Object.entries(AUTH0_RENDERING_ONLY)) {
      expect(seed.names.has(auth0Name), `${auth0Name} is no longer in seed 004`).toBe(true);
      expect(isEventType(canonical), `${canonical} (for ${auth0Name}) is not in the catalog`).toBe(true);
    }
  });
});

describe("seeds 000/001/003 (NextAuth events)", () => {
  const perSeed = ["000", "001", "003"].map((n) => [n, parseNextAuth(readSeed(n))] as const);
  const union = new Set(perSeed.flatMap(([, p]) => [...p.names]));

  it("parses every event heading", () => {
    for (const [n, parsed] of perSeed) {
      expect(parsed.malformed, `seed ${n}`).toEqual([]);
      expect(parsed.names.size, `seed ${n}`).toBeGreaterThanOrEqual(6);
    }
    expect(union.size).toBeGreaterThanOrEqual(7);
    expect(union.has("error")).toBe(true);
  });

  it("maps every NextAuth event to a catalog type", () => {
    const unmapped = [...union].filter((n) => !Object.prototype.hasOwnProperty.call(NEXTAUTH_EVENTS, n));
    expect(unmapped).toEqual([]);
    const dangling = Object.entries(NEXTAUTH_EVENTS).filter(([, type]) => !isEventType(type));
    expect(dangling).toEqual([]);
  });
});

describe("catalog composition (SPEC §1)", () => {
  const count = (pred: (t: (typeof EVENT_TYPES)[number]) => boolean) => EVENT_TYPES.filter(pred).length;

  it("has Authgear's 5 blocking and 39 non-blocking types", () => {
    expect(count((t) => CATALOG[t].source === "authgear" && CATALOG[t].kind === "blocking")).toBe(5);
    expect(count((t) => CATALOG[t].source === "authgear" && CATALOG[t].kind === "non_blocking")).toBe(39);
  });

  it("has Auth0's 10 organization types", () => {
    expect(count((t) => t.startsWith("organization."))).toBe(10);
  });

  it("has the NextAuth-only types", () => {
    expect(isEventType("user.session.accessed")).toBe(true);
    expect(isEventType("auth.error")).toBe(true);
  });
});
