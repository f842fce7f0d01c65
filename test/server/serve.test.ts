import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { serve, serveOptionsFromEnv } from "../../src/server/serve.js";
import { createLogger } from "../../src/server/logger.js";
import { tempDbPath } from "../helpers.js";

async function run(database: string, extra: Parameters<typeof serve>[0] = {}) {
  const stdout = new PassThrough();
  let printed = "";
  stdout.on("data", (c: Buffer) => (printed += c.toString()));
  const s = await serve({ port: 0, host: "127.0.0.1", database, handleSignals: false, stdout, logger: createLogger({ level: "silent" }), ...extra });
  return { s, printed: () => printed };
}

describe("serve()", () => {
  it("creates and prints an admin key once when the app has none, then never again", async () => {
    const database = `sqlite:${tempDbPath()}`;
    const first = await run(database);
    try {
      expect(first.printed()).toMatch(/^Authbus is listening on http:\/\/127\.0\.0\.1:\d+\n/);
      const key = /Admin key for app "default" \(shown only this once; keep it\): (abk_\S+)/.exec(first.printed())?.[1];
      expect(key).toBe(first.s.bootstrapKey);
      const r = await fetch(`${first.s.url}/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { data: unknown }).data).toMatchObject([{ scope: "admin", name: "bootstrap" }]);
    } finally {
      await first.s.close();
    }
    const second = await run(database);
    try {
      expect(second.printed()).not.toContain("Admin key");
      expect(second.s.bootstrapKey).toBeUndefined();
    } finally {
      await second.s.close();
    }
  });

  it("AUTHBUS_ADMIN_KEY makes exactly that value an admin key of AUTHBUS_APP_ID, re-enabling it if it was revoked", async () => {
    const database = `sqlite:${tempDbPath()}`;
    const adminKey = "operator-chosen-key-42";
    const a = await run(database, { appId: "tenant-1", adminKey });
    const auth = { authorization: `Bearer ${adminKey}` };
    try {
      expect(a.printed()).not.toContain("Admin key");
      const keys = (await (await fetch(`${a.s.url}/v1/keys`, { headers: auth })).json()) as { data: { id: string }[] };
      expect(keys.data).toMatchObject([{ scope: "admin", name: "AUTHBUS_ADMIN_KEY" }]);
      expect((await fetch(`${a.s.url}/v1/keys/${keys.data[0]!.id}`, { method: "DELETE", headers: auth })).status).toBe(204);
      expect((await fetch(`${a.s.url}/v1/keys`, { headers: auth })).status).toBe(401);
    } finally {
      await a.s.close();
    }
    const b = await run(database, { appId: "tenant-1", adminKey });
    try {
      expect((await fetch(`${b.s.url}/v1/keys`, { headers: auth })).status).toBe(200);
    } finally {
      await b.s.close();
    }
    await expect(run(`sqlite:${tempDbPath()}`, { adminKey: "short" })).rejects.toMatchObject({ code: "invalid_options" });
  });

  it("reads its configuration from AUTHBUS_* variables", () => {
    expect(
      serveOptionsFromEnv({
        AUTHBUS_PORT: "9000",
        AUTHBUS_DATABASE_URL: "sqlite:/tmp/x.db",
        AUTHBUS_ALLOW_PRIVATE_NETWORKS: "1",
        AUTHBUS_APP_ID: "acme",
        AUTHBUS_ADMIN_KEY: "k".repeat(20),
        AUTHBUS_METRICS_KEY: "m",
        AUTHBUS_NATS_URL: "nats://localhost:4222",
      }),
    ).toEqual({ port: 9000, database: "sqlite:/tmp/x.db", allowPrivateNetworks: true, appId: "acme", adminKey: "k".repeat(20), metricsKey: "m", natsUrl: "nats://localhost:4222" });
    expect(serveOptionsFromEnv({})).toEqual({});
    expect(() => serveOptionsFromEnv({ AUTHBUS_PORT: "http" })).toThrow(/AUTHBUS_PORT/);
  });
});
