/**
 * The decision ledger port: where hook evaluations are kept for the audit log. Each store
 * adapter (SQLite now, PostgreSQL later) implements it next to its event store.
 */
import type { DecisionRecord, HookOutcome } from "../hooks/decision.js";

export interface DecisionQuery {
  app_id: string;
  type?: string;
  /** Only evaluations this hook took part in; `outcome` then filters on this hook's answer. */
  hook_id?: string;
  /**
   * With `hook_id`: that hook's outcome. Without: `allow`/`deny` filter on the final decision,
   * `error` selects evaluations in which any hook (enforced or shadow) failed.
   */
  outcome?: HookOutcome;
  /** Exclusive cursor: a decision id; only decisions recorded after it. */
  after?: string;
  limit: number;
}

export interface DecisionStore {
  /** Records a batch of evaluations (one transaction). */
  recordDecisions(records: readonly DecisionRecord[]): Promise<void>;
  /** Decisions in the order they were recorded. */
  queryDecisions(q: DecisionQuery): Promise<DecisionRecord[]>;
}
