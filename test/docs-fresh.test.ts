import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderErrorsReference, renderEventsReference } from "../scripts/generate-docs.js";

const REFERENCE = path.resolve(process.cwd(), "docs/reference");

describe.each([
  ["events.md", renderEventsReference],
  ["errors.md", renderErrorsReference],
])("docs/reference/%s", (file, render) => {
  it("matches what scripts/generate-docs.ts produces from the source", () => {
    const generated = render();
    let committed: string;
    try {
      committed = readFileSync(path.join(REFERENCE, file), "utf8");
    } catch {
      throw new Error(`docs/reference/${file} is missing: run npm run docs:events`);
    }
    expect(committed, `docs/reference/${file} is stale: run npm run docs:events`).toBe(generated);
  });
});
