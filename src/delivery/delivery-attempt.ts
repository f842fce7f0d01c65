import { classifyResponse } from "../core/delivery/classify.js";
import { nextAttemptDelayMs } from "../core/delivery/retry-schedule.js";
import { disableReason, shouldDisable } from "../core/delivery/disable-policy.js";
import { buildWebhookRequest } from "../core/delivery/webhook-request.js";
import { buildNatsMessage, classifyPublish } from "../core/delivery/nats-message.js";
import type { Envelope } from "../core/envelope.js";
import type { AttemptResult, Subscription } from "../core/ports/deliveries.js";
import type { Slot } from "./claimed-queue.js";
import type { WebhookSendResult } from "../core/ports/destinations.js";
import type { RunnerDeps } from "./subscription-runner.js";

/** What an attempt needs from the runner it belongs to. */
export interface AttemptHost {
  /** The subscription as it is now (it may change while an attempt is in flight). */
  sub(): Subscription;
  /** The attempt's result: settle the slot and record it. */
  finish(s: Slot, r: AttemptResult): void;
  /** The subscription was disabled by a failing attempt. */
  replaced(sub: Subscription): void;
}

/**
 * Sends single deliveries of one subscription: renders the webhook request or NATS message, sends it,
 * classifies the outcome, decides on a retry, and disables the subscription when the destination keeps
 * failing (which needs the subscription's failing/success history, kept here).
 */
export class DeliveryAttempts {
  private secrets: { at: number; values: string[] } | undefined;
  private failingSince: number | null = null;
  private lastSuccess: number | null = null;

  constructor(
    private readonly d: RunnerDeps,
    private readonly host: AttemptHost,
  ) {}

  async loadHealth(): Promise<void> {
    const sub = this.host.sub();
    const h = await this.d.deliveries.health(sub.app_id, sub.id, this.d.now());
    this.failingSince = h?.failing_since ? Date.parse(h.failing_since) : null;
    this.lastSuccess = h?.last_success_at ? Date.parse(h.last_success_at) : null;
  }

  /** The subscription changed: its secrets may have too. */
  forgetSecrets(): void {
    this.secrets = undefined;
  }

  /** The cached list while fresh (no await: this runs for every attempt), else undefined. */
  private freshSecrets(now: number): string[] | undefined {
    return this.secrets && now - this.secrets.at <= 1000 ? this.secrets.values : undefined;
  }

  private async loadSecrets(now: number): Promise<string[]> {
    const sub = this.host.sub();
    const list = await this.d.deliveries.getSecrets(sub.app_id, sub.id, now);
    this.secrets = { at: now, values: list.map((x) => x.secret) };
    return this.secrets.values;
  }

  async attempt(s: Slot): Promise<void> {
    const sub = this.host.sub();
    const event = s.event ?? (await this.d.events.getEvent(sub.app_id, s.event_id));
    const n = s.attempts + 1;
    const at = this.d.now();
    if (!event) return this.host.finish(s, attemptResult(sub, s, n, at, { state: "dead", reason: "the event is no longer in the log" }));
    let res: WebhookSendResult;
    if (sub.destination.type === "nats") {
      // Nats-Msg-Id is the event id, so a retry after a lost PubAck is dropped by JetStream as a duplicate.
      const m = buildNatsMessage(event as Envelope, { id: sub.id, format: sub.format, subject: sub.destination.subject });
      if (!m.ok) return this.host.finish(s, attemptResult(sub, s, n, at, { state: "dead", reason: m.skip }));
      res = this.d.publishNats ? await this.d.publishNats(m) : { latencyMs: 0, error: "NATS is not configured (nats.url / AUTHBUS_NATS_URL)" };
    } else {
      const request = buildWebhookRequest(event as Envelope, {
        id: sub.id,
        format: sub.format,
        secrets: this.freshSecrets(at) ?? (await this.loadSecrets(at)),
        headers: sub.destination.headers,
        authgearSignature: sub.authgear_signature,
      }, { nowSeconds: Math.floor(at / 1000), userAgent: this.d.userAgent });
      if (!request.ok) return this.host.finish(s, attemptResult(sub, s, n, at, { state: "dead", reason: request.skip }));
      res = await this.d.send(sub.destination.url, request);
    }
    const done = this.d.now();
    const c = sub.destination.type === "nats" ? classifyPublish(res) : classifyResponse({ status: res.status, error: res.error, retryAfterHeader: res.retryAfter, locationHeader: res.location, now: done });
    let state: AttemptResult["state"] = "delivered";
    let next: number | null = null;
    if (c.outcome !== "delivered") {
      const delay = nextAttemptDelayMs(sub.retry_schedule, n, { retryAfterMs: c.retryAfterMs });
      if (delay === undefined) state = "dead";
      else (state = "pending"), (next = done + delay);
    }
    // A retry due within a third of the lease stays with this worker (its timer); a later one goes back to every worker.
    const keep = next !== null && next - done <= this.d.leaseMs / 3;
    const result = attemptResult(sub, s, n, at, { state, reason: c.outcome === "delivered" ? null : c.reason });
    result.status_code = res.status ?? null;
    result.latency_ms = res.latencyMs;
    result.error = res.error ?? null;
    result.response_head = res.responseHead ?? null;
    result.next_attempt_at_ms = next;
    result.flagged = c.flagged ?? null;
    if (keep) result.keep_claim = true;
    this.host.finish(s, result);
    if (c.outcome === "delivered") {
      this.failingSince = null;
      this.lastSuccess = done;
    } else {
      this.failingSince ??= at;
      if (c.outcome === "disable") await this.disable(c.reason);
      else if (shouldDisable({ failingSinceMs: this.failingSince, lastSuccessMs: this.lastSuccess, nowMs: done, windowMs: this.d.disableAfterMs })) {
        await this.disable(disableReason({ failingSinceMs: this.failingSince, lastSuccessMs: this.lastSuccess, nowMs: done, windowMs: this.d.disableAfterMs, lastError: c.reason }));
      }
    }
  }

  private async disable(reason: string): Promise<void> {
    const sub = this.host.sub();
    const updated = await this.d.deliveries.updateSubscription(sub.app_id, sub.id, { state: "disabled", disabled_reason: reason });
    if (updated) this.host.replaced(updated);
  }
}

function attemptResult(sub: Subscription, s: Slot, n: number, at: number, o: { state: AttemptResult["state"]; reason: string | null }): AttemptResult {
  return {
    app_id: sub.app_id,
    subscription_id: sub.id,
    delivery_id: s.id,
    delivery_pos: s.pos,
    n,
    at_ms: at,
    status_code: null,
    latency_ms: 0,
    error: o.state === "dead" && o.reason ? o.reason : null,
    response_head: null,
    state: o.state,
    next_attempt_at_ms: null,
    flagged: null,
    reason: o.reason,
  };
}
