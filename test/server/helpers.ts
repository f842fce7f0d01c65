import { afterEach } from "vitest";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { createServer, type AuthbusServer } from "../../src/server/server.js";
import { createLogger } from "../../src/server/logger.js";
import type { KeyScope } from "../../src/core/ports/tenancy.js";
import { tempDbPath } from "../helpers.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

export interface TestServer {
  url: string;
  dbPath: string;
  runtime: Runtime;
  server: AuthbusServer;
  /** Creates the app when needed and a key in it. */
  key(app: string, scope: KeyScope): Promise<string>;
  /** fetch against the server with JSON defaults: `body` objects are serialised, a key becomes a bearer header. */
  call(method: string, path: string, init?: { key?: string; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any; text: string }>;
}

/** A real server on a loopback port over a fresh database; closed after the test. */
export async function startTestServer(o: { metricsKey?: string; authFailureLimit?: { max: number; windowMs: number }; delivery?: boolean } = {}): Promise<TestServer> {
  const dbPath = tempDbPath();
  const runtime = createRuntime({ database: `sqlite:${dbPath}`, allowPrivateNetworks: true, delivery: { enabled: o.delivery !== false, leaseMs: 1000 } });
  const server = createServer(runtime, { logger: createLogger({ level: "silent" }), metricsKey: o.metricsKey, authFailureLimit: o.authFailureLimit, shutdownGraceMs: 1000 });
  open.push(runtime, server);
  const { port } = await server.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    dbPath,
    runtime,
    server,
    async key(app, scope) {
      await runtime.apps.ensure(app);
      return (await runtime.keys.create(app, scope)).key;
    },
    async call(method, path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key) headers.authorization = `Bearer ${init.key}`;
      let body: string | Uint8Array | undefined = init.raw;
      if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["content-type"] ??= "application/json";
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
  };
}

export const userPayload = (id: string) => ({ user: { id, standard_attributes: { email: `${id}@example.com` } }, identities: [] });
