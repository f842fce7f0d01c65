/**
 * The dashboard's files: `index.html` and hashed assets built by Vite into `dist/dashboard/`
 * (`npm run build:dashboard`). They are read from disk on each request rather than cached, so a
 * rebuild is served without a restart; the files are small and the browser caches the assets.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** `src/server/` in a clone and `dist/server/` in the package both sit two levels under the root. */
export const DASHBOARD_DIR = fileURLToPath(new URL("../../dist/dashboard/", import.meta.url));

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
};

// Everything the page loads comes from this origin; the API key never leaves it.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export const DASHBOARD_NOT_BUILT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authbus: dashboard not built</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh; background: #f6f7f9; color: #1d2330; }
  main { max-width: 36rem; padding: 2rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
  code { background: #e8eaef; padding: .1rem .3rem; border-radius: 4px; }
</style>
</head>
<body>
<main>
  <h1>The dashboard has not been built</h1>
  <p>The server and its API are running, but <code>dist/dashboard/</code> is missing. In a clone, run
  <code>npm run build:dashboard</code> (or <code>npm start</code>, which builds it first) and reload.</p>
  <p>The HTTP API is described by <a href="/openapi.json"><code>/openapi.json</code></a>;
  health is at <a href="/healthz"><code>/healthz</code></a>.</p>
</main>
</body>
</html>
`;

/** `GET /`: the built page, never cached (it names the current hashed assets); 503 with an explanation when not built. */
export async function dashboardIndex(dir = DASHBOARD_DIR): Promise<Response> {
  try {
    const html = await readFile(path.join(dir, "index.html"));
    return new Response(html, { status: 200, headers: { "content-type": TYPES[".html"]!, "cache-control": "no-store", ...SECURITY_HEADERS } });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    return new Response(DASHBOARD_NOT_BUILT, { status: 503, headers: { "content-type": TYPES[".html"]!, "cache-control": "no-store", "retry-after": "5" } });
  }
}

/** `GET /assets/{file}`: a hashed asset, cached for a year (its name changes when its content does). */
export async function dashboardAsset(file: string, dir = DASHBOARD_DIR): Promise<Response | undefined> {
  // One path segment of safe characters: nothing outside the assets folder can be named.
  if (!/^[\w.-]+$/.test(file) || file.startsWith(".")) return undefined;
  const type = TYPES[path.extname(file)];
  if (!type) return undefined;
  try {
    const body = await readFile(path.join(dir, "assets", file));
    return new Response(body, { status: 200, headers: { "content-type": type, "cache-control": "public, max-age=31536000, immutable", ...SECURITY_HEADERS } });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
