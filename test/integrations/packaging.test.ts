/** Issue 7.4: the integration libraries are optional peers, so installing authbus alone pulls none of them. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports: Record<string, { types: string; import: string }>;
};

describe("integration packaging", () => {
  for (const lib of ["@auth/core", "next-auth", "better-auth"]) {
    it(`${lib} is an optional peer dependency, never a dependency`, () => {
      expect(pkg.dependencies?.[lib]).toBeUndefined();
      expect(pkg.peerDependencies?.[lib]).toBeTruthy();
      expect(pkg.peerDependenciesMeta?.[lib]?.optional).toBe(true);
    });
  }

  for (const entry of ["authjs", "nextauth-v4", "better-auth"]) {
    it(`exports ./${entry} from its built entry point`, () => {
      expect(pkg.exports[`./${entry}`]).toEqual({ types: `./dist/integrations/${entry}/index.d.ts`, import: `./dist/integrations/${entry}/index.js` });
      expect(existsSync(path.join(root, `src/integrations/${entry}/index.ts`))).toBe(true);
    });
  }

  it("the main entry point imports no integration library", () => {
    const index = readFileSync(path.join(root, "src/index.ts"), "utf8");
    expect(index).not.toMatch(/@auth\/core|next-auth|better-auth|integrations\//);
  });
});
