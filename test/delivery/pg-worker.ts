/**
 * A delivery worker process for the multi-worker tests: delivers every subscription of a
 * PostgreSQL schema until killed. Prints "ready" once the engine runs.
 */
import { createAuthbus } from "../../src/index.js";

const [url, schema, leaseMs] = process.argv.slice(2) as [string, string, string];
const bus = createAuthbus({
  database: url,
  postgres: { schema },
  allowPrivateNetworks: true,
  delivery: { maxInFlight: 32, leaseMs: Number(leaseMs) },
  onError: (e, info) => console.error(`worker ${process.pid}: ${info.handler}: ${e instanceof Error ? e.message : String(e)}`),
});
process.on("SIGTERM", () => void bus.close().then(() => process.exit(0)));
process.stdout.write("ready\n");
