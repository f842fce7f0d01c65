/**
 * `node --import tsx src/server/main.ts` (or dist/server/main.js): `authbus serve` configured from
 * AUTHBUS_* variables only, for tests and containers until the CLI wraps serve().
 */
import { serve, serveOptionsFromEnv } from "./serve.js";

try {
  await serve(serveOptionsFromEnv(process.env));
} catch (e) {
  process.stderr.write(`authbus serve: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
