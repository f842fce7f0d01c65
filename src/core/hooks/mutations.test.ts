import { describe, expect, it } from "vitest";
import { applyMutations, deepFreeze, jsonEqual, mergeJwtPayload, RESERVED_JWT_CLAIMS } from "./mutations.js";
import { validateEmit } from "../validate.js";

const token = { iss: "https://auth.example.com", sub: "u1", aud: ["api"], exp: 2000, iat: 1000, amr: ["pwd"], scope: "openid" };

describe("applyMutations", () => {
  it("replaces standard_attributes and custom_attributes as a whole, leaving the rest of the user alone", () => {
    const payload = deepFreeze({
      user: { id: "u1", is_verified: true, standard_attributes: { email: "a@example.com", name: "A" }, custom_attributes: { tier: "free", keep: 1 } },
      identities: [],
    });
    const r = applyMutations(payload, { user: { standard_attributes: { name: "B" } } });
    expect(r).toEqual({
      ok: true,
      payload: { user: { id: "u1", is_verified: true, standard_attributes: { name: "B" }, custom_attributes: { tier: "free", keep: 1 } }, identities: [] },
    });
    const r2 = applyMutations(payload, { user: { custom_attributes: { tier: "gold" } } });
    expect(r2.ok && (r2.payload as typeof payload).user).toEqual({ id: "u1", is_verified: true, standard_attributes: { email: "a@example.com", name: "A" }, custom_attributes: { tier: "gold" } });
    // The input is frozen and untouched; the result still satisfies the type's schema.
    expect(payload.user.standard_attributes).toEqual({ email: "a@example.com", name: "A" });
    expect(() => validateEmit("user.created", r.ok ? r.payload : null, undefined)).not.toThrow();
  });

  it("is the identity without mutations", () => {
    const payload = { user: { id: "u1" } };
    expect(applyMutations(payload, undefined)).toEqual({ ok: true, payload });
    expect(applyMutations(payload, {})).toEqual({ ok: true, payload });
  });

  it("replaces the JWT claims set, keeping reserved claims", () => {
    const payload = deepFreeze({ user: { id: "u1" }, jwt: { payload: token } });
    const r = applyMutations(payload, { jwt: { payload: { ...token, scope: "openid profile", "https://example.com/roles": ["admin"] } } });
    expect(r.ok && (r.payload as { jwt: unknown }).jwt).toEqual({ payload: { ...token, scope: "openid profile", "https://example.com/roles": ["admin"] } });
    // Leaving reserved claims out keeps them; non-reserved ones left out are removed (the object is replaced).
    const r2 = applyMutations(payload, { jwt: { payload: { roles: ["x"] } } });
    expect(r2.ok && (r2.payload as { jwt: unknown }).jwt).toEqual({ payload: { roles: ["x"], iss: token.iss, sub: "u1", aud: ["api"], exp: 2000, iat: 1000, amr: ["pwd"] } });
    // The same value (also an equal array or object in another key order) is not a change.
    expect(mergeJwtPayload({ aud: ["api"], x: { a: 1, b: 2 } }, { aud: ["api"], x: { b: 2, a: 1 } }).ok).toBe(true);
  });

  it("refuses to change or set any reserved claim", () => {
    for (const claim of RESERVED_JWT_CLAIMS) {
      const current: Record<string, unknown> = { [claim]: "original" };
      const changed = mergeJwtPayload(current, { [claim]: "changed" });
      expect(changed.ok ? [] : changed.issues, claim).toEqual([{ pointer: `/mutations/jwt/payload/${claim}`, message: `reserved claim ${claim} cannot be changed` }]);
      const set = mergeJwtPayload({}, { [claim]: "new" });
      expect(set.ok ? [] : set.issues, claim).toEqual([{ pointer: `/mutations/jwt/payload/${claim}`, message: `reserved claim ${claim} cannot be set` }]);
    }
    expect(mergeJwtPayload({ aud: ["api"] }, { aud: ["api", "evil"] }).ok).toBe(false);
    expect(mergeJwtPayload({ exp: 2000 }, { exp: "2000" }).ok).toBe(false);
  });
});

describe("jsonEqual and deepFreeze", () => {
  it("compares JSON structurally", () => {
    expect(jsonEqual([1, { a: null }], [1, { a: null }])).toBe(true);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });

  it("freezes in depth", () => {
    const v = deepFreeze({ a: { b: [{ c: 1 }] } });
    expect(() => {
      (v.a.b[0] as { c: number }).c = 2;
    }).toThrow(TypeError);
  });
});
