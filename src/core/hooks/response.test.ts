import { describe, expect, it } from "vitest";
import { jsonCopyOfAnswer, MUTATION_RULES, parseHookResponse } from "./response.js";
import { EVENT_TYPES, isBlockingType } from "../catalog/catalog.js";

const pointers = (r: ReturnType<typeof parseHookResponse>) => (r.ok ? [] : r.issues.map((i) => i.pointer));

describe("parseHookResponse", () => {
  it("accepts the documented shapes", () => {
    expect(parseHookResponse("user.pre_create", { is_allowed: true }).ok).toBe(true);
    expect(parseHookResponse("user.pre_create", { is_allowed: false, title: "No", reason: "Because" }).ok).toBe(true);
    expect(
      parseHookResponse("user.profile.pre_update", {
        is_allowed: true,
        mutations: { user: { standard_attributes: { name: "Ada", email_verified: true, address: { country: "FR" }, updated_at: 1 }, custom_attributes: { tier: "gold", n: [1] } } },
      }).ok,
    ).toBe(true);
    expect(parseHookResponse("oidc.jwt.pre_create", { is_allowed: true, mutations: { jwt: { payload: { "https://x/roles": ["a"] } } } }).ok).toBe(true);
    expect(parseHookResponse("user.pre_schedule_deletion", { is_allowed: true, mutations: {} }).ok).toBe(true);
  });

  it("refuses anything outside the schema, with a pointer to it", () => {
    expect(pointers(parseHookResponse("user.pre_create", null))).toEqual([""]);
    expect(pointers(parseHookResponse("user.pre_create", [true]))).toEqual([""]);
    expect(pointers(parseHookResponse("user.pre_create", {}))).toEqual(["/is_allowed"]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: "true" }))).toEqual(["/is_allowed"]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: true, allowed: true }))).toEqual(["/allowed"]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: true, title: 3 }))).toEqual(["/title"]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: true, mutations: { user: { standard_attributes: { favourite_colour: "red" } } } }))).toEqual([
      "/mutations/user/standard_attributes/favourite_colour",
    ]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: true, mutations: { user: { standard_attributes: { email_verified: "yes" } } } }))).toEqual([
      "/mutations/user/standard_attributes/email_verified",
    ]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: true, mutations: { user: { custom_attributes: [1] } } }))).toEqual(["/mutations/user/custom_attributes"]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: true, mutations: { user: { id: "other" } } }))).toEqual(["/mutations/user/id"]);
    expect(pointers(parseHookResponse("oidc.jwt.pre_create", { is_allowed: true, mutations: { jwt: { payload: "x" } } }))).toEqual(["/mutations/jwt/payload"]);
    expect(pointers(parseHookResponse("oidc.jwt.pre_create", { is_allowed: true, mutations: { jwt: { header: {} } } }))).toContain("/mutations/jwt/header");
  });

  it("refuses mutations the type does not allow", () => {
    expect(pointers(parseHookResponse("oidc.jwt.pre_create", { is_allowed: true, mutations: { user: { custom_attributes: {} } } }))).toEqual(["/mutations/user"]);
    expect(pointers(parseHookResponse("user.pre_create", { is_allowed: true, mutations: { jwt: { payload: {} } } }))).toEqual(["/mutations/jwt"]);
    expect(pointers(parseHookResponse("user.pre_schedule_deletion", { is_allowed: true, mutations: { user: {} } }))).toEqual(["/mutations/user"]);
    expect(pointers(parseHookResponse("user.pre_schedule_anonymization", { is_allowed: true, mutations: { user: { custom_attributes: {} } } }))).toEqual(["/mutations/user"]);
  });

  it("has a rule for every blocking type and none for the others", () => {
    expect(Object.keys(MUTATION_RULES).sort()).toEqual(EVENT_TYPES.filter(isBlockingType).sort());
  });
});

describe("jsonCopyOfAnswer", () => {
  it("copies, so a hook cannot change its answer afterwards", () => {
    const answer = { is_allowed: true, mutations: { user: { custom_attributes: { a: 1 } } } };
    const copy = jsonCopyOfAnswer(answer);
    answer.mutations.user.custom_attributes.a = 2;
    expect(copy).toEqual({ ok: true, value: { is_allowed: true, mutations: { user: { custom_attributes: { a: 1 } } } } });
  });

  it("refuses values JSON would rewrite and a missing answer", () => {
    expect(jsonCopyOfAnswer(undefined).ok).toBe(false);
    const withDate = jsonCopyOfAnswer({ is_allowed: true, mutations: { user: { custom_attributes: { at: new Date(0) } } } });
    expect(withDate.ok ? [] : withDate.issues.map((i) => i.pointer)).toEqual(["/mutations/user/custom_attributes/at"]);
    expect(jsonCopyOfAnswer({ is_allowed: true, title: Number.NaN }).ok).toBe(false);
  });
});
