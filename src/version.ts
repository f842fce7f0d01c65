import { readFileSync } from "node:fs";

/**
 * The package version (webhook `user-agent`, OpenAPI `info.version`). The path is the same from
 * src/ and dist/: both sit one level below the package root.
 */
export function readAuthbusVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new Error("package.json has no version");
  return pkg.version;
}
