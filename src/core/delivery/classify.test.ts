import { describe, expect, it } from "vitest";
import { classifyResponse, parseRetryAfter } from "./classify.js";

const now = Date.UTC(2025, 1, 1, 12, 0, 0);

describe("classifyResponse", () => {
  it.each([
    [200, "delivered", undefined],
    [204, "delivered", undefined],
    [299, "delivered", undefined],
    [301, "retry", "redirect"],
    [302, "retry", "redirect"],
    [400, "retry", "client_error"],
    [404, "retry", "client_error"],
    [410, "disable", undefined],
    [429, "retry", undefined],
    [500, "retry", undefined],
    [503, "retry", undefined],
    [199, "retry", undefined],
  ] as const)("HTTP %i → %s (flag %s)", (status, outcome, flagged) => {
    const c = classifyResponse({ status, now });
    expect(c.outcome).toBe(outcome);
    expect(c.flagged).toBe(flagged);
    expect(c.reason).toContain(String(status));
  });

  it("retries network errors and timeouts, with the error in the reason", () => {
    expect(classifyResponse({ error: "connect ECONNREFUSED 203.0.113.9:443", now })).toEqual({ outcome: "retry", reason: "network error: connect ECONNREFUSED 203.0.113.9:443" });
    expect(classifyResponse({ error: "timeout: no complete response within 15000 ms", now })).toMatchObject({ outcome: "retry", reason: expect.stringContaining("timeout") });
    expect(classifyResponse({ now })).toEqual({ outcome: "retry", reason: "no response" });
  });

  it("lets a status that arrived win over a later body error", () => {
    expect(classifyResponse({ status: 200, error: "other side closed", now }).outcome).toBe("delivered");
  });

  it("honours Retry-After in seconds and as an HTTP-date on 429 and 5xx", () => {
    expect(classifyResponse({ status: 429, retryAfterHeader: "120", now }).retryAfterMs).toBe(120_000);
    expect(classifyResponse({ status: 503, retryAfterHeader: new Date(now + 90_000).toUTCString(), now }).retryAfterMs).toBe(90_000);
    expect(classifyResponse({ status: 500, now }).retryAfterMs).toBeUndefined();
    expect(classifyResponse({ status: 429, retryAfterHeader: "soon", now })).not.toHaveProperty("retryAfterMs");
    expect(classifyResponse({ status: 200, retryAfterHeader: "120", now })).not.toHaveProperty("retryAfterMs");
  });

  it("names the redirect target so the operator can fix the URL", () => {
    expect(classifyResponse({ status: 308, locationHeader: "https://new.example.com/hook", now }).reason).toContain("https://new.example.com/hook");
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter(" 30 ", now)).toBe(30_000);
  });

  it("reads the three HTTP-date forms as UTC", () => {
    expect(parseRetryAfter("Sat, 01 Feb 2025 12:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Saturday, 01-Feb-25 12:02:00 GMT", now)).toBe(120_000);
    expect(parseRetryAfter("Sat Feb  1 12:03:00 2025", now)).toBe(180_000);
  });

  it("treats a past date as now and refuses anything else", () => {
    expect(parseRetryAfter("Sat, 01 Feb 2025 11:00:00 GMT", now)).toBe(0);
    for (const bad of ["", "-5", "1.5", "5s", "2025-02-01T12:01:00Z", "tomorrow", "Sat, 01 Feb 2025 12:01:00 PST"]) {
      expect(parseRetryAfter(bad, now), bad).toBeUndefined();
    }
  });
});
