/**
 * What one webhook attempt's result means for the delivery (SPEC §4, Standard Webhooks' sender
 * table): 2xx delivered; 410 disables the subscription; everything else is retried, with 3xx
 * (never followed) and other 4xx flagged so the dashboard can say "your endpoint is misconfigured"
 * rather than "your endpoint is down".
 */

export type DeliveryOutcome = "delivered" | "retry" | "disable";
export type DeliveryFlag = "client_error" | "redirect";

export interface AttemptResult {
  /** Final HTTP status, when a response arrived. It wins over `error` (the receiver did answer). */
  status?: number | undefined;
  /** Network error, timeout, SSRF refusal: no status. */
  error?: string | undefined;
  retryAfterHeader?: string | undefined;
  /** The `Location` of a 3xx, shown in the reason. */
  locationHeader?: string | undefined;
  /** Milliseconds since the epoch; resolves HTTP-date `Retry-After` values. */
  now: number;
}

export interface Classification {
  outcome: DeliveryOutcome;
  flagged?: DeliveryFlag;
  /** The receiver's `Retry-After` in ms from `now` (0 for a date in the past). */
  retryAfterMs?: number;
  /** One line for the attempt log and the dashboard. */
  reason: string;
}

export function classifyResponse(result: AttemptResult): Classification {
  const { status } = result;
  if (status === undefined) {
    return { outcome: "retry", reason: result.error ? `network error: ${result.error}` : "no response" };
  }
  if (status >= 200 && status <= 299) return { outcome: "delivered", reason: `HTTP ${status}` };
  if (status === 410) return { outcome: "disable", reason: "HTTP 410 Gone: the receiver asked to stop deliveries" };
  // Retry-After is honoured on every retried status, not only 429/503: the receiver said when, and
  // coming back earlier cannot help.
  const retryAfterMs = result.retryAfterHeader === undefined ? undefined : parseRetryAfter(result.retryAfterHeader, result.now);
  const withRetryAfter = (c: Classification): Classification => (retryAfterMs === undefined ? c : { ...c, retryAfterMs });
  if (status >= 300 && status <= 399) {
    const where = result.locationHeader ? ` to ${result.locationHeader.slice(0, 200)}` : "";
    return withRetryAfter({ outcome: "retry", flagged: "redirect", reason: `HTTP ${status}: redirect${where} not followed; point the subscription at the final URL` });
  }
  if (status === 429) return withRetryAfter({ outcome: "retry", reason: "HTTP 429: the receiver is throttling" });
  if (status >= 500 && status <= 599) return withRetryAfter({ outcome: "retry", reason: `HTTP ${status}: receiver error` });
  if (status >= 400 && status <= 499) {
    return withRetryAfter({ outcome: "retry", flagged: "client_error", reason: `HTTP ${status}: the receiver refused the request (check its URL, authentication and secret)` });
  }
  return withRetryAfter({ outcome: "retry", reason: `HTTP ${status}: unexpected status` });
}

const DELAY_SECONDS = /^\d+$/;
// RFC 9110 §5.6.7: IMF-fixdate, plus the obsolete RFC 850 and asctime forms recipients must accept.
const HTTP_DATE =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/**
 * A `Retry-After` value (delay-seconds or HTTP-date) as ms from `now`, or undefined when it is
 * neither. The date forms are matched strictly first because `Date.parse` accepts almost
 * anything, and a misread header must not become a delay.
 */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const v = value.trim();
  if (DELAY_SECONDS.test(v)) return Number(v) * 1000;
  if (!HTTP_DATE.test(v)) return undefined;
  // asctime has no zone but is defined as UTC; Date.parse would read it as local time.
  const at = Date.parse(v.endsWith("GMT") ? v : `${v} GMT`);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
