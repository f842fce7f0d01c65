/**
 * SPEC §4: "A subscription whose every delivery has failed for 5 days is disabled with a reason."
 * The store keeps two times per subscription: when the current run of failures started
 * (cleared by any success) and the last success. This decides from those alone.
 */

export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 60 * 60 * 1000;

export interface FailureStreak {
  /** First failed attempt since the last success; undefined or null when the last attempt succeeded. */
  failingSinceMs: number | null | undefined;
  lastSuccessMs: number | null | undefined;
  nowMs: number;
  /** Default 5 days. */
  windowMs?: number;
}

export function shouldDisable(streak: FailureStreak): boolean {
  const { failingSinceMs, lastSuccessMs, nowMs } = streak;
  if (failingSinceMs === undefined || failingSinceMs === null) return false;
  // A success at or after the streak's start means the streak is over (the store has not reset it yet).
  if (lastSuccessMs !== undefined && lastSuccessMs !== null && lastSuccessMs >= failingSinceMs) return false;
  return nowMs - failingSinceMs >= (streak.windowMs ?? DISABLE_AFTER_FAILING_MS);
}

/** The reason stored with the disabled state and shown to operators. */
export function disableReason(streak: FailureStreak & { lastError?: string | undefined }): string {
  const window = streak.windowMs ?? DISABLE_AFTER_FAILING_MS;
  const since = streak.failingSinceMs === undefined || streak.failingSinceMs === null ? "unknown" : new Date(streak.failingSinceMs).toISOString();
  const last = streak.lastSuccessMs === undefined || streak.lastSuccessMs === null ? "never" : new Date(streak.lastSuccessMs).toISOString();
  const error = streak.lastError ? `; last error: ${streak.lastError.slice(0, 300)}` : "";
  return `every delivery failed for ${formatDuration(window)} (failing since ${since}; last success: ${last})${error}`;
}

function formatDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1000, "second"],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? "" : "s"}`;
  }
  return `${ms} ms`;
}
