/** The dashboard's place: a self-contained page (no external resources) until the dashboard exists. */
export const DASHBOARD_PLACEHOLDER = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authbus</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh; background: #f6f7f9; color: #1d2330; }
  main { max-width: 36rem; padding: 2rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
  code { background: #e8eaef; padding: .1rem .3rem; border-radius: 4px; }
</style>
</head>
<body>
<main>
  <h1>Authbus dashboard — coming soon</h1>
  <p>The server is running. The HTTP API is described by <a href="/openapi.json"><code>/openapi.json</code></a>;
  health is at <a href="/healthz"><code>/healthz</code></a> and <a href="/readyz"><code>/readyz</code></a>.</p>
</main>
</body>
</html>
`;
