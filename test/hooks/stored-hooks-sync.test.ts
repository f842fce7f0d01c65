import { afterAll, describe, expect, it } from "vitest";
import { HookDeniedError } from "../../src/index.js";
import { createRuntime } from "../../src/runtime.js";
import type { InternalAppBus } from "../../src/app-bus.js";
import { until, user } from "../helpers.js";
import { dropSchema, PG_URL, uniqueSchema } from "../stores/pg-helpers.js";
import { json, startHookServer } from "./hook-server.js";

const schema = uniqueSchema("authbus_hooksync");
afterAll(() => dropSchema(schema));

const payload = () => ({ user: user("u1"), identities: [{ id: "i1", type: "login_id" }] });

describe("stored HTTP hooks across processes on one database", () => {
  it("a hook registered through one runtime is enforced by another within seconds, and its deletion too", async () => {
    const server = await startHookServer(json({ is_allowed: false, reason: "blocked" }));
    const open = () => createRuntime({ database: PG_URL, postgres: { schema }, allowPrivateNetworks: true, delivery: { enabled: false } });
    const a = open();
    const b = open();
    try {
      const busA = a.forApp("default") as InternalAppBus;
      const busB = b.forApp("default") as InternalAppBus;
      await busB.storedHooks.loaded;
      await expect(busB.before("user.pre_create", payload())).resolves.toBeDefined();

      const hook = await busA.storedHooks.create({ type: "user.pre_create", url: server.url });
      await expect(busA.before("user.pre_create", payload())).rejects.toBeInstanceOf(HookDeniedError);
      await until(async () => (await busB.before("user.pre_create", payload()).then(() => false, (e: unknown) => e instanceof HookDeniedError)), 10_000, "B enforces A's hook");

      await busA.storedHooks.delete(hook.id);
      await expect(busA.before("user.pre_create", payload())).resolves.toBeDefined();
      await until(async () => (await busB.before("user.pre_create", payload()).then(() => true, () => false)), 10_000, "B drops the deleted hook");
    } finally {
      await a.close();
      await b.close();
      await server.close();
    }
  });
});
