/**
 * The hook chain (SPEC §3), free of I/O: how hooks are called and timed out is the runtime's
 * business (`invoke`); the order, the budget, what an answer means, mutations and the failure
 * policy are decided here, so every runtime (library, server) behaves the same.
 */
import type { BlockingEventType, PayloadOf } from "../catalog/catalog.js";
import type { EventContext } from "../envelope.js";
import { AuthbusError, HookFailedError } from "../errors.js";
import type { HookAnswerRecord, HookKind } from "./decision.js";
import { applyMutations, deepFreeze } from "./mutations.js";
import { formatResponseIssues, jsonCopyOfAnswer, parseHookResponse } from "./response.js";

/**
 * What a hook receives: the seed 002 envelope. Blocking events are not in the log, so `seq` is
 * always 0 and there is no `subject_seq`; `id` is fresh per evaluation (the `webhook-id`).
 */
export interface HookEvent<T extends BlockingEventType = BlockingEventType> {
  id: string;
  seq: 0;
  type: T;
  payload: PayloadOf<T>;
  context: EventContext;
}

export interface ChainHook {
  readonly id: string;
  readonly kind: HookKind;
  readonly timeoutMs: number;
  readonly failOpen: boolean;
  readonly shadow: boolean;
}

/** The limit the runtime must enforce for one call; `byBudget` when the chain budget, not the hook's timeout, is the tighter one. */
export interface InvokeLimit {
  readonly timeoutMs: number;
  readonly byBudget: boolean;
}

/** Calls one hook and resolves with its raw answer; rejects (ideally with a HookFailedError) on failure or timeout. */
export type InvokeHook = (hook: ChainHook, event: HookEvent, limit: InvokeLimit) => Promise<unknown>;

export interface ChainInput {
  event: HookEvent;
  hooks: readonly ChainHook[];
  budgetMs: number;
  /** Monotonic milliseconds. */
  clock: () => number;
  invoke: InvokeHook;
}

export interface ChainResult {
  allowed: boolean;
  /** The payload with every enforced mutation applied (frozen). */
  payload: unknown;
  deniedBy?: string;
  title?: string;
  reason?: string;
  /** Why the chain was denied when a hook failed closed. */
  failure?: unknown;
  /** Enforced hooks' answers, in order. */
  answers: HookAnswerRecord[];
  /** Shadow hooks' answers, once they have all settled; they never hold the decision back. */
  shadow: Promise<HookAnswerRecord[]>;
  latencyMs: number;
}

interface Evaluated {
  record: HookAnswerRecord;
  payload?: unknown;
  error?: unknown;
}

export async function runHookChain(input: ChainInput): Promise<ChainResult> {
  const { hooks, budgetMs, clock, invoke } = input;
  const start = clock();
  let event: HookEvent = { ...input.event, payload: deepFreeze(input.event.payload) };
  const answers: HookAnswerRecord[] = [];
  const shadows: Promise<HookAnswerRecord>[] = [];
  const done = (r: Omit<ChainResult, "answers" | "shadow" | "latencyMs">): ChainResult => ({
    ...r,
    answers,
    shadow: Promise.all(shadows),
    latencyMs: clock() - start,
  });

  let budgetSpent = false;
  for (const hook of hooks) {
    if (hook.shadow) {
      // Not awaited and outside the budget: a slow or failing shadow hook must not change the real outcome, not even its latency.
      shadows.push(evaluate(hook, event, { timeoutMs: hook.timeoutMs, byBudget: false }, clock, invoke).then((e) => e.record));
      continue;
    }
    const remaining = budgetMs - (clock() - start);
    let evaluated: Evaluated;
    // Once a hook was cut by the budget, the budget is spent, whatever a coarse clock says about the last millisecond.
    if (remaining <= 0 || budgetSpent) {
      const error = new HookFailedError("budget_exhausted", `not run: the chain budget of ${budgetMs} ms was used up by earlier hooks`);
      evaluated = { record: errorRecord(hook, error, 0), error };
    } else {
      const limit = hook.timeoutMs <= remaining ? { timeoutMs: hook.timeoutMs, byBudget: false } : { timeoutMs: remaining, byBudget: true };
      evaluated = await evaluate(hook, event, limit, clock, invoke);
      if (limit.byBudget && evaluated.error instanceof HookFailedError && evaluated.error.failure === "budget_exhausted") budgetSpent = true;
    }
    const { record } = evaluated;
    answers.push(record);
    if (record.outcome === "error") {
      if (hook.failOpen) {
        record.fail_open = true;
        continue;
      }
      return done({ allowed: false, payload: event.payload, deniedBy: hook.id, failure: evaluated.error });
    }
    if (record.outcome === "deny") {
      return done({ allowed: false, payload: event.payload, deniedBy: hook.id, title: record.title, reason: record.reason });
    }
    if (evaluated.payload !== event.payload) event = { ...event, payload: deepFreeze(evaluated.payload) as never };
  }
  return done({ allowed: true, payload: event.payload });
}

async function evaluate(hook: ChainHook, event: HookEvent, limit: InvokeLimit, clock: () => number, invoke: InvokeHook): Promise<Evaluated> {
  const t0 = clock();
  let raw: unknown;
  try {
    raw = await invoke(hook, event, limit);
  } catch (e) {
    const error = e instanceof AuthbusError ? e : new HookFailedError("threw", `the hook threw: ${messageOf(e)}`, { cause: e });
    return { record: errorRecord(hook, error, clock() - t0), error };
  }
  const latency = clock() - t0;
  const fail = (issues: Parameters<typeof formatResponseIssues>[0]): Evaluated => {
    const error = new HookFailedError("invalid_response", formatResponseIssues(issues), { issues });
    return { record: errorRecord(hook, error, latency), error };
  };
  let answer = raw;
  if (hook.kind === "in_process") {
    const copy = jsonCopyOfAnswer(raw);
    if (!copy.ok) return fail(copy.issues);
    answer = copy.value;
  }
  const parsed = parseHookResponse(event.type, answer);
  if (!parsed.ok) return fail(parsed.issues);
  const { response } = parsed;
  const applied = applyMutations(event.payload, response.mutations);
  if (!applied.ok) return fail(applied.issues);
  const record: HookAnswerRecord = {
    hook_id: hook.id,
    kind: hook.kind,
    outcome: response.is_allowed ? "allow" : "deny",
    shadow: hook.shadow,
    latency_ms: round3(latency),
  };
  if (response.title !== undefined) record.title = response.title;
  if (response.reason !== undefined) record.reason = response.reason;
  if (response.mutations !== undefined) record.mutations = response.mutations;
  return { record, payload: applied.payload };
}

function errorRecord(hook: ChainHook, error: unknown, latency: number): HookAnswerRecord {
  const record: HookAnswerRecord = { hook_id: hook.id, kind: hook.kind, outcome: "error", shadow: hook.shadow, latency_ms: round3(latency), error: messageOf(error) };
  if (error instanceof HookFailedError) record.error_kind = error.failure;
  return record;
}

export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
