import { describe, expect, it } from "vitest";
import { DISABLE_AFTER_FAILING_MS, disableReason, shouldDisable } from "./disable-policy.js";

const DAY = 86_400_000;
const t0 = Date.UTC(2025, 1, 1);

describe("shouldDisable", () => {
  it("disables once every delivery has failed for 5 days, not a moment before", () => {
    expect(DISABLE_AFTER_FAILING_MS).toBe(5 * DAY);
    expect(shouldDisable({ failingSinceMs: t0, lastSuccessMs: t0 - DAY, nowMs: t0 + 5 * DAY - 1 })).toBe(false);
    expect(shouldDisable({ failingSinceMs: t0, lastSuccessMs: t0 - DAY, nowMs: t0 + 5 * DAY })).toBe(true);
    expect(shouldDisable({ failingSinceMs: t0, lastSuccessMs: null, nowMs: t0 + 6 * DAY })).toBe(true);
  });

  it("never disables a subscription that is not failing or has succeeded since", () => {
    expect(shouldDisable({ failingSinceMs: null, lastSuccessMs: t0, nowMs: t0 + 30 * DAY })).toBe(false);
    expect(shouldDisable({ failingSinceMs: undefined, lastSuccessMs: undefined, nowMs: t0 + 30 * DAY })).toBe(false);
    expect(shouldDisable({ failingSinceMs: t0, lastSuccessMs: t0 + DAY, nowMs: t0 + 30 * DAY })).toBe(false);
  });

  it("takes a custom window", () => {
    expect(shouldDisable({ failingSinceMs: t0, lastSuccessMs: null, nowMs: t0 + 60_000, windowMs: 60_000 })).toBe(true);
  });
});

describe("disableReason", () => {
  it("says how long, since when, the last success and the last error", () => {
    expect(disableReason({ failingSinceMs: t0, lastSuccessMs: null, nowMs: t0 + 5 * DAY, lastError: "HTTP 503: receiver error" })).toBe(
      "every delivery failed for 5 days (failing since 2025-02-01T00:00:00.000Z; last success: never); last error: HTTP 503: receiver error",
    );
    expect(disableReason({ failingSinceMs: t0, lastSuccessMs: t0 - DAY, nowMs: t0, windowMs: 90_000 })).toBe(
      "every delivery failed for 90 seconds (failing since 2025-02-01T00:00:00.000Z; last success: 2025-01-31T00:00:00.000Z)",
    );
  });
});
