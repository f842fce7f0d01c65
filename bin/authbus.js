#!/usr/bin/env node
// The `authbus` executable. In a clone (src/ present, devDependencies installed) it runs the
// TypeScript source through tsx, so `npx authbus` works right after `npm install` and never runs
// a stale build; in the published package (dist/ only) it runs the build.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
const built = new URL("../dist/cli/main.js", import.meta.url);

async function loadTsx() {
  try {
    return await import("tsx/esm/api");
  } catch {
    return undefined;
  }
}

const tsx = existsSync(source) ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write("error: authbus is not built: run npm install (for tsx) or npm run build\n");
  process.exit(1);
}
