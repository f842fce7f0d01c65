/**
 * When the next delivery attempt happens (SPEC §4 "Retries"). A schedule lists, for attempt n,
 * the seconds to wait after the previous failure: entry 0 is the first attempt (0 = immediate),
 * so a schedule of k entries allows k attempts, then the delivery is dead.
 */
import type { ValidationIssue } from "../errors.js";

/** 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27.6 h from the first failure to dead. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = Object.freeze([0, 5, 300, 1800, 7200, 18000, 36000, 36000]);

/** ±20%: enough to spread a receiver's recovery burst, small enough to keep the schedule recognisable. */
export const RETRY_JITTER = 0.2;

/** A receiver's `Retry-After` is honoured up to this; beyond it a hostile or buggy value would park deliveries for ever. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export const RETRY_SCHEDULE_MAX_ENTRIES = 20;
export const RETRY_SCHEDULE_MAX_SECONDS = 3 * 86_400;

export interface NextAttemptOptions {
  /** The receiver's `Retry-After`, already parsed (see `parseRetryAfter`). */
  retryAfterMs?: number | undefined;
  /** Source of jitter in [0, 1); injectable so tests are deterministic. Default Math.random. */
  random?: () => number;
  /** Ceiling for `retryAfterMs`. Default 24 h. */
  maxRetryAfterMs?: number;
}

/**
 * Milliseconds until the next attempt, given how many attempts were already made, or `undefined`
 * when the schedule is exhausted (the delivery becomes dead). `attemptsMade = 0` asks for the
 * first attempt. A `Retry-After` lengthens the wait (never shortens it) and is not jittered:
 * the receiver named a time, and arriving early would only earn another 429.
 */
export function nextAttemptDelayMs(schedule: readonly number[], attemptsMade: number, options: NextAttemptOptions = {}): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) throw new TypeError("attemptsMade must be a non-negative integer");
  if (attemptsMade >= schedule.length) return undefined;
  const seconds = schedule[attemptsMade]!;
  const random = options.random ?? Math.random;
  const base = seconds * 1000;
  const jittered = base === 0 ? 0 : Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * clampUnit(random())));
  const retryAfter = options.retryAfterMs;
  if (retryAfter === undefined || !Number.isFinite(retryAfter) || retryAfter <= 0) return jittered;
  return Math.max(jittered, Math.min(Math.ceil(retryAfter), options.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS));
}

/** A `random` that misbehaves (returns 1, NaN, negative) must not push a delay outside the ±20% band. */
function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0.5;
}

/**
 * Problems with a retry schedule as JSON pointers relative to it (empty when valid): 1 to 20
 * entries, each whole seconds from 0 to 3 days. Short schedules (`[0, 1, 1]`) are valid on purpose:
 * tests and local development need deliveries to die in seconds.
 */
export function validateRetrySchedule(schedule: unknown): ValidationIssue[] {
  if (!Array.isArray(schedule)) return [{ pointer: "", message: "must be an array of seconds" }];
  const issues: ValidationIssue[] = [];
  if (schedule.length < 1 || schedule.length > RETRY_SCHEDULE_MAX_ENTRIES) {
    issues.push({ pointer: "", message: `must have 1 to ${RETRY_SCHEDULE_MAX_ENTRIES} entries (has ${schedule.length})` });
  }
  schedule.forEach((entry: unknown, i) => {
    if (typeof entry !== "number" || !Number.isInteger(entry) || entry < 0 || entry > RETRY_SCHEDULE_MAX_SECONDS) {
      issues.push({ pointer: `/${i}`, message: `must be whole seconds from 0 to ${RETRY_SCHEDULE_MAX_SECONDS}` });
    }
  });
  return issues;
}
