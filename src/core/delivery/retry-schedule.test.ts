import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, MAX_RETRY_AFTER_MS, nextAttemptDelayMs, validateRetrySchedule } from "./retry-schedule.js";

const low = () => 0;
const high = () => 0.999_999;
const mid = () => 0.5;

describe("nextAttemptDelayMs", () => {
  it("follows the default schedule: first attempt immediate, then 5 s ... 10 h, then dead", () => {
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);
    const delays = DEFAULT_RETRY_SCHEDULE_SECONDS.map((_, made) => nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, made, { random: mid }));
    expect(delays).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 8, { random: mid })).toBeUndefined();
    expect(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 100)).toBeUndefined();
  });

  it("jitters non-zero delays within ±20% and never jitters an immediate attempt", () => {
    expect(nextAttemptDelayMs([0, 300], 1, { random: low })).toBe(240_000);
    expect(nextAttemptDelayMs([0, 300], 1, { random: high })).toBe(360_000);
    expect(nextAttemptDelayMs([0, 300], 0, { random: high })).toBe(0);
    for (let i = 0; i < 200; i++) {
      const d = nextAttemptDelayMs([0, 5], 1)!;
      expect(d).toBeGreaterThanOrEqual(4_000);
      expect(d).toBeLessThanOrEqual(6_000);
    }
    // A broken random source cannot push the delay out of the band.
    expect(nextAttemptDelayMs([10], 0, { random: () => 7 })).toBe(12_000);
    expect(nextAttemptDelayMs([10], 0, { random: () => Number.NaN })).toBe(10_000);
  });

  it("works on seconds-scale schedules (tests, local development)", () => {
    const schedule = [0, 1, 1];
    expect(nextAttemptDelayMs(schedule, 0)).toBe(0);
    expect(nextAttemptDelayMs(schedule, 1, { random: low })).toBe(800);
    expect(nextAttemptDelayMs(schedule, 2, { random: high })).toBe(1_200);
    expect(nextAttemptDelayMs(schedule, 3)).toBeUndefined();
  });

  it("honours Retry-After: waits at least that long, unjittered, capped at 24 h", () => {
    expect(nextAttemptDelayMs([0, 5], 1, { random: mid, retryAfterMs: 120_000 })).toBe(120_000);
    // A shorter Retry-After never shortens the schedule.
    expect(nextAttemptDelayMs([0, 300], 1, { random: mid, retryAfterMs: 1_000 })).toBe(300_000);
    expect(nextAttemptDelayMs([0, 5], 1, { random: mid, retryAfterMs: 7 * 86_400_000 })).toBe(MAX_RETRY_AFTER_MS);
    expect(nextAttemptDelayMs([0, 5], 1, { random: mid, retryAfterMs: 7 * 86_400_000, maxRetryAfterMs: 60_000 })).toBe(60_000);
    expect(nextAttemptDelayMs([0, 5], 1, { random: mid, retryAfterMs: 0 })).toBe(5_000);
    // An exhausted schedule stays exhausted whatever the receiver asks.
    expect(nextAttemptDelayMs([0, 5], 2, { retryAfterMs: 1_000 })).toBeUndefined();
  });

  it("refuses a nonsensical attempt count", () => {
    expect(() => nextAttemptDelayMs([0], -1)).toThrow(TypeError);
    expect(() => nextAttemptDelayMs([0], 1.5)).toThrow(TypeError);
  });
});

describe("validateRetrySchedule", () => {
  it("accepts the default, short and long schedules", () => {
    expect(validateRetrySchedule(DEFAULT_RETRY_SCHEDULE_SECONDS)).toEqual([]);
    expect(validateRetrySchedule([0])).toEqual([]);
    expect(validateRetrySchedule([0, 1, 1])).toEqual([]);
    expect(validateRetrySchedule(Array.from({ length: 20 }, () => 259_200))).toEqual([]);
  });

  it("points at every bad entry", () => {
    expect(validateRetrySchedule([])).toEqual([{ pointer: "", message: "must have 1 to 20 entries (has 0)" }]);
    expect(validateRetrySchedule(Array.from({ length: 21 }, () => 1))).toHaveLength(1);
    expect(validateRetrySchedule([0, 1.5, -1, 259_201, "5", null]).map((i) => i.pointer)).toEqual(["/1", "/2", "/3", "/4", "/5"]);
    expect(validateRetrySchedule("0,5")).toEqual([{ pointer: "", message: "must be an array of seconds" }]);
  });
});
