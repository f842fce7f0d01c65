/**
 * The decision ledger's records: one per evaluation of a blocking type, with every hook's answer,
 * so an operator can tell why a sign-up was refused or what a shadow hook would have done.
 */
import type { BlockingEventType } from "../catalog/catalog.js";

export type HookKind = "in_process" | "http";
export type HookOutcome = "allow" | "deny" | "error";

export interface HookAnswerRecord {
  hook_id: string;
  kind: HookKind;
  /** `error`: threw, timed out, was cut by the chain budget, unreachable, or answered invalidly. */
  outcome: HookOutcome;
  /** Run on real traffic, recorded, never enforced. */
  shadow: boolean;
  /** Set when an error was counted as allow because the hook is registered `failOpen`. */
  fail_open?: true;
  title?: string;
  reason?: string;
  /** The mutations the hook answered (applied only when it allowed and is not a shadow hook). */
  mutations?: unknown;
  /** What went wrong, for `error` (private detail: never shown to end users). */
  error?: string;
  /** The HookFailedError kind: threw, timeout, budget_exhausted, invalid_response, http_status, network, response_too_large, ssrf_refused. */
  error_kind?: string;
  latency_ms: number;
}

export interface DecisionRecord {
  /** The evaluation's id (UUIDv7); `HookDeniedError.decisionId`. */
  id: string;
  app_id: string;
  /** The id of the envelope the hooks received (`webhook-id` for HTTP hooks). */
  event_id: string;
  type: BlockingEventType;
  decision: "allow" | "deny";
  /** The hook that denied or failed closed. */
  denied_by?: string;
  title?: string;
  reason?: string;
  /** Enforced hooks in the order they ran, then shadow hooks. */
  hooks: HookAnswerRecord[];
  /** Time to the decision (shadow hooks excluded: they never delay it). */
  latency_ms: number;
  /** When the evaluation started, RFC 3339 with milliseconds. */
  at: string;
}
