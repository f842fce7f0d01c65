import { uuidv7 } from "../../core/ids.js";
import { describe, expect, it } from "vitest";
import type { ApiKeyRecord, StoredHook } from "../../core/ports/tenancy.js";
import type { MakeStore } from "../store-conformance.js";
import { withStore } from "./fixture.js";

const AT = "2023-11-14T22:13:20.000Z";

function key(app_id: string, scope: ApiKeyRecord["scope"], over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return { id: uuidv7(), app_id, scope, name: null, prefix: "abk_1234", created_at: AT, revoked_at: null, ...over };
}

function hook(app_id: string, over: Partial<StoredHook> = {}): StoredHook {
  return { id: uuidv7(), app_id, type: "user.pre_create", url: "https://example.com/hook", timeout_ms: null, fail_open: false, shadow: false, created_at: AT, ...over };
}

export function describeTenancyStore(makeStore: MakeStore): void {
  describe("TenancyStore (when the store has one)", () => {
    it("apps: created once, listed by id", () =>
      withStore(makeStore, async ({ store: { tenancy } }) => {
        if (!tenancy) return;
        expect(await tenancy.createApp("beta", Date.parse(AT))).toBe(true);
        expect(await tenancy.createApp("beta", Date.now())).toBe(false);
        expect(await tenancy.createApp("alpha", Date.parse(AT))).toBe(true);
        expect(await tenancy.getApp("beta")).toEqual({ id: "beta", created_at: AT });
        expect(await tenancy.getApp("gamma")).toBeUndefined();
        expect((await tenancy.listApps()).map((a) => a.id)).toEqual(["alpha", "beta"]);
      }));

    it("keys: stored by hash, listed per app with paging, revoked, upserted by hash, counted", () =>
      withStore(makeStore, async ({ store: { tenancy } }) => {
        if (!tenancy) return;
        await tenancy.createApp("a", Date.parse(AT));
        await tenancy.createApp("b", Date.parse(AT));
        const k1 = key("a", "admin", { name: "ops" });
        const k2 = key("a", "read");
        const k3 = key("b", "ingest");
        await tenancy.insertKey(k1, "h1");
        await tenancy.insertKey(k2, "h2");
        await tenancy.insertKey(k3, "h3");
        expect(await tenancy.findKeyByHash("h1")).toEqual({ key: k1, hash: "h1" });
        expect(await tenancy.findKeyByHash("nope")).toBeUndefined();
        const p1 = await tenancy.listKeys("a", { limit: 1 });
        expect(p1.data).toEqual([k1]);
        expect(await tenancy.listKeys("a", { limit: 1, cursor: p1.next_cursor! })).toEqual({ data: [k2], next_cursor: null });
        expect(await tenancy.countActiveKeys("a", "admin")).toBe(1);

        expect(await tenancy.revokeKey("b", k1.id, Date.parse(AT) + 1000)).toBe(false);
        expect(await tenancy.revokeKey("a", k1.id, Date.parse(AT) + 1000)).toBe(true);
        expect(await tenancy.revokeKey("a", k1.id, Date.parse(AT) + 9000)).toBe(true);
        expect((await tenancy.findKeyByHash("h1"))!.key.revoked_at).toBe("2023-11-14T22:13:21.000Z");
        expect(await tenancy.countActiveKeys("a", "admin")).toBe(0);

        // Upsert by hash: re-activates (and may move) an existing key, keeps its id; creates a missing one.
        const again = await tenancy.upsertKeyByHash(key("b", "admin"), "h1");
        expect(again).toMatchObject({ id: k1.id, app_id: "b", scope: "admin", revoked_at: null });
        const fresh = key("a", "admin", { name: "bootstrap" });
        expect(await tenancy.upsertKeyByHash(fresh, "h9")).toEqual(fresh);
        expect(await tenancy.countActiveKeys("a", "admin")).toBe(1);
        expect(await tenancy.countActiveKeys("b", "admin")).toBe(1);
      }));

    it("stored hooks: registration order, secrets only from allHooks, paging, delete per app", () =>
      withStore(makeStore, async ({ store: { tenancy } }) => {
        if (!tenancy) return;
        const h1 = hook("a", { timeout_ms: 2000, fail_open: true });
        const h2 = hook("a", { type: "oidc.jwt.pre_create", shadow: true });
        const h3 = hook("b");
        await tenancy.insertHook(h1, "whsec_1");
        await tenancy.insertHook(h2, "whsec_2");
        await tenancy.insertHook(h3, "whsec_3");
        expect(await tenancy.allHooks("a")).toEqual([{ ...h1, secret: "whsec_1" }, { ...h2, secret: "whsec_2" }]);
        const p1 = await tenancy.listHooks("a", { limit: 1 });
        expect(p1.data).toEqual([h1]);
        expect(await tenancy.listHooks("a", { limit: 5, cursor: p1.next_cursor! })).toEqual({ data: [h2], next_cursor: null });
        expect(await tenancy.deleteHook("b", h1.id)).toBe(false);
        expect(await tenancy.deleteHook("a", h1.id)).toBe(true);
        expect((await tenancy.allHooks("a")).map((h) => h.id)).toEqual([h2.id]);
        expect((await tenancy.allHooks("b")).map((h) => h.id)).toEqual([h3.id]);
      }));
  });
}
