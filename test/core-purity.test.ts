/**
 * src/core stays free of I/O (CONVENTIONS "Core without I/O"): no Node built-ins but crypto,
 * no drivers or servers, no reaching into adapters, no timer-driven loops. It talks to the
 * world only through the ports it defines. Source is read with the TypeScript parser, so
 * comments and strings never count, and type-only or dynamic imports do.
 */
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = process.cwd();
const CORE = path.resolve(ROOT, "src/core");

const ALLOWED_BUILTINS = new Set(["crypto"]);
const BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, "")));
const FORBIDDEN_PACKAGES = ["better-sqlite3", "pg", "undici", "nats", "@nats-io/*", "pino", "hono", "fastify"];
const TIMERS = new Set(["setTimeout", "setInterval", "setImmediate"]);
const GLOBAL_OBJECTS = new Set(["globalThis", "global", "window", "self"]);

function matchesPackage(specifier: string, pkg: string): boolean {
  if (pkg.endsWith("/*")) return specifier.startsWith(pkg.slice(0, -1));
  return specifier === pkg || specifier.startsWith(`${pkg}/`);
}

/** Why `specifier`, imported from `file`, is not allowed in the core; undefined if it is. */
function importViolation(specifier: string, file: string): string | undefined {
  const bare = specifier.replace(/^node:/, "");
  const builtin = specifier.startsWith("node:") || BUILTINS.has(bare) || BUILTINS.has(bare.split("/")[0]!);
  if (builtin) return ALLOWED_BUILTINS.has(bare) ? undefined : "Node built-in";
  const pkg = FORBIDDEN_PACKAGES.find((p) => matchesPackage(specifier, p));
  if (pkg) return `driver/server package ${pkg}`;
  if (matchesPackage(specifier, "authbus")) return "package self-import, escapes src/core";
  if (specifier.startsWith(".") || path.isAbsolute(specifier)) {
    const rel = path.relative(CORE, path.resolve(path.dirname(file), specifier));
    if (rel.startsWith("..") || path.isAbsolute(rel)) return "escapes src/core";
  }
  return undefined;
}

/** Calls of the global timers: `setTimeout(...)`, `globalThis.setInterval(...)`. An injected clock's methods are fine. */
function timerCalls(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const direct = ts.isIdentifier(callee) && TIMERS.has(callee.text);
      const viaGlobal =
        ts.isPropertyAccessExpression(callee) &&
        TIMERS.has(callee.name.text) &&
        ts.isIdentifier(callee.expression) &&
        GLOBAL_OBJECTS.has(callee.expression.text);
      if (direct || viaGlobal) {
        const { line } = source.getLineAndCharacterOfPosition(callee.getStart(source));
        found.push(`line ${line + 1}: ${callee.getText(source)}()`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every violation in one file's text, as `<file>: <what>`. */
function checkSource(file: string, text: string): string[] {
  const shown = path.relative(ROOT, file);
  const out: string[] = [];
  for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
    const why = importViolation(fileName, file);
    if (why) out.push(`${shown}: imports "${fileName}" (${why})`);
  }
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  for (const call of timerCalls(source)) out.push(`${shown}: calls a timer at ${call} (time-based loops belong outside src/core)`);
  return out;
}

function coreSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return coreSources(full);
    return /\.[cm]?tsx?$/.test(entry.name) && !/\.test\.[cm]?tsx?$/.test(entry.name) ? [full] : [];
  });
}

describe("src/core purity", () => {
  it("imports no I/O module, driver or adapter, and runs no timers", () => {
    const files = coreSources(CORE);
    expect(files.length, `no sources found under ${CORE}`).toBeGreaterThanOrEqual(5);
    const violations = files.sort().flatMap((f) => checkSource(f, readFileSync(f, "utf8")));
    expect(violations).toEqual([]);
  });
});

describe("the purity check itself", () => {
  const file = path.join(CORE, "formats", "example.ts");
  const check = (text: string) => checkSource(file, text).map((v) => v.replace(/^[^:]+: /, ""));

  it("flags built-ins (prefixed or bare), drivers and escapes, however imported", () => {
    expect(
      check(`
        import { readFileSync } from "node:fs";
        import type { Server } from "http";
        export * from "fs/promises";
        const t = await import("node:timers/promises");
        import Database from "better-sqlite3";
        import { Pool } from "pg/lib/index.js";
        import { connect } from "@nats-io/transport-node";
        import { Hono } from "hono/tiny";
        import { SqliteStore } from "../../stores/sqlite/sqlite-store.js";
        import "authbus";
      `),
    ).toEqual([
      'imports "node:fs" (Node built-in)',
      'imports "http" (Node built-in)',
      'imports "fs/promises" (Node built-in)',
      'imports "node:timers/promises" (Node built-in)',
      'imports "better-sqlite3" (driver/server package better-sqlite3)',
      'imports "pg/lib/index.js" (driver/server package pg)',
      'imports "@nats-io/transport-node" (driver/server package @nats-io/*)',
      'imports "hono/tiny" (driver/server package hono)',
      'imports "../../stores/sqlite/sqlite-store.js" (escapes src/core)',
      'imports "authbus" (package self-import, escapes src/core)',
    ]);
  });

  it("allows crypto, TypeBox, packages with similar names and imports within src/core", () => {
    expect(
      check(`
        import { createHmac } from "node:crypto";
        import { randomUUID } from "crypto";
        import { Type } from "@sinclair/typebox";
        import pgFormat from "pg-format";
        import type { Envelope } from "../envelope.js";
        import { x } from "./native.js";
        // import fs from "node:fs"; setTimeout(() => {}, 1)
        const doc = "see node:fs and setInterval(f) in the docs";
      `),
    ).toEqual([]);
  });

  it("flags global timer calls but not an injected clock's methods", () => {
    expect(
      check(`
        setTimeout(() => {}, 10);
        const h = globalThis.setInterval(tick, 1000);
        setImmediate(run);
        clock.setTimeout(() => {}, 10);
      `),
    ).toEqual([
      "calls a timer at line 2: setTimeout() (time-based loops belong outside src/core)",
      "calls a timer at line 3: globalThis.setInterval() (time-based loops belong outside src/core)",
      "calls a timer at line 4: setImmediate() (time-based loops belong outside src/core)",
    ]);
  });
});
