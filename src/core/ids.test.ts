import { describe, expect, it } from "vitest";
import { validate, version } from "uuid";
import { uuidv7 } from "./ids.js";

const RFC9562_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7", () => {
  it("makes RFC 9562 version-7 ids carrying the time they were made", () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(id).toMatch(RFC9562_V7);
    expect(validate(id) && version(id)).toBe(7);
    const ms = parseInt(id.replace(/-/g, "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it("is unique and strictly increasing within a millisecond and across the random pool's refills", () => {
    const ids = Array.from({ length: 50_000 }, () => uuidv7(1_700_000_000_000));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${ids[i - 1]} then ${ids[i]}`).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    ids.forEach((id) => expect(id).toMatch(RFC9562_V7));
    // A clock that steps back does not make an earlier id.
    const later = uuidv7(1_600_000_000_000);
    expect(later > ids[ids.length - 1]!).toBe(true);
  });

  // Last: these times are ahead of the clock, and the ids stay monotonic from here on.
  it("starts each millisecond at a random point", () => {
    const ids = Array.from({ length: 200 }, (_, k) => uuidv7(0x1a3185c5000 + k));
    expect(ids[0]!.startsWith("01a3185c-5000-7")).toBe(true);
    expect(new Set(ids.map((id) => id.slice(14, 23))).size).toBeGreaterThan(190);
  });
});
