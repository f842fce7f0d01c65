/**
 * The runtime side of blocking hooks: the registry, calling hooks under deadlines (in process or
 * over HTTP through the guarded client), the decision ledger, and `before()` itself. The chain's
 * rules live in src/core/hooks; this file only supplies time, I/O and bookkeeping.
 */
import { uuidv7 } from "../core/ids.js";
import type { Agent } from "undici";
import { isBlockingType, isEventType, type BlockingEventType, type PayloadOf } from "../core/catalog/catalog.js";
import type { ContextInputT, EventContext } from "../core/envelope.js";
import { BusClosedError, HookDeniedError, InvalidHookError, InvalidQueryError, NonBlockingEventTypeError, UnknownEventTypeError } from "../core/errors.js";
import { round3, runHookChain, type HookEvent, type InvokeHook } from "../core/hooks/chain.js";
import type { DecisionRecord, HookOutcome } from "../core/hooks/decision.js";
import { deepFreeze } from "../core/hooks/mutations.js";
import type { DecisionStore } from "../core/ports/decisions.js";
import { validateEmit } from "../core/validate.js";
import { createGuardedAgent } from "../net/http-client.js";
import { DecisionRecorder } from "./decision-recorder.js";
import { callHttpHook } from "./http-hook.js";
import { describeHook, normalizeHook, runtimeHookId, type HookFunction, type HookInfo, type HookOptions, type HooksOption, type HttpHookSpec, type InProcessHookSpec, type RegisteredHook } from "./hook-spec.js";
import { withDeadline } from "./timeout.js";

export interface HooksApi {
  /** Registers an in-process hook after the existing ones for `type`; returns its id. */
  add<T extends BlockingEventType>(type: T, hook: HookFunction<T> | InProcessHookSpec<T>, options?: HookOptions): string;
  /** Registers an HTTP hook; returns its id and signing secret (generated when not given). */
  add(type: BlockingEventType, hook: HttpHookSpec, options?: HookOptions): { id: string; secret: string };
  /** Unregisters a hook; false when no hook has this id. Evaluations already running keep their chain. */
  remove(id: string): boolean;
  /** Registered hooks in run order (secrets are never listed). */
  list(type?: BlockingEventType): HookInfo[];
}

export interface DecisionFilter {
  type?: BlockingEventType;
  hook_id?: string;
  /** With `hook_id`, that hook's outcome; without, the decision (`allow`/`deny`) or `error` for evaluations in which any hook failed. */
  outcome?: HookOutcome;
  /** A decision id: only decisions recorded after it (paging). */
  after?: string;
  /** 1..1000, default 100. */
  limit?: number;
}

export interface DecisionsApi {
  /** The ledger in recording order. Waits for this process's pending records first (read your writes). */
  query(filter?: DecisionFilter): Promise<DecisionRecord[]>;
}

export interface HookServiceOptions {
  app: string;
  hooks: HooksOption | undefined;
  hookTimeoutMs: number;
  hookChainBudgetMs: number;
  allowPrivateNetworks: boolean;
  /** Wall clock, milliseconds. */
  now: () => number;
  makeContext: (payload: unknown, context: ContextInputT | undefined, timestampSeconds: number) => EventContext;
  decisions: DecisionStore;
  onLedgerError: (error: unknown, lost: number) => void;
  /** Told of every decision as it is made (server metrics); must not throw. */
  onDecision?: (type: BlockingEventType, decision: "allow" | "deny") => void;
}

export interface HookService {
  before<T extends BlockingEventType>(type: T, payload: PayloadOf<T>, context?: ContextInputT): Promise<PayloadOf<T>>;
  readonly hooks: HooksApi;
  readonly decisions: DecisionsApi;
  close(): Promise<void>;
}

interface Chain {
  readonly hooks: readonly RegisteredHook[];
  readonly hasShadow: boolean;
}

const monotonic = () => performance.now();
const EMPTY: Chain = Object.freeze({ hooks: Object.freeze([]) as readonly RegisteredHook[], hasShadow: false });

export function createHookService(o: HookServiceOptions): HookService {
  // Copy-on-write chains: an evaluation keeps the snapshot it started with, whatever add/remove do meanwhile.
  const chains = new Map<BlockingEventType, Chain>();
  const byId = new Map<string, RegisteredHook>();
  const recorder = new DecisionRecorder(o.decisions, o.onLedgerError);
  let agent: Agent | undefined;
  let closed = false;

  function register(hook: RegisteredHook): void {
    if (byId.has(hook.id)) throw new InvalidHookError(`A hook named ${JSON.stringify(hook.id)} is already registered`);
    byId.set(hook.id, hook);
    const hooks = [...(chains.get(hook.type)?.hooks ?? []), hook];
    chains.set(hook.type, Object.freeze({ hooks: Object.freeze(hooks), hasShadow: hooks.some((h) => h.shadow) }));
  }

  for (const [type, entries] of Object.entries(o.hooks ?? {})) {
    (entries ?? []).forEach((entry, i) => {
      const ctx = { defaultTimeoutMs: o.hookTimeoutMs, allowPrivateNetworks: o.allowPrivateNetworks, source: "options" as const, defaultId: () => `${type}#${i + 1}` };
      register(normalizeHook(type, entry, undefined, ctx));
    });
  }

  const invoke: InvokeHook = (hook, event, limit) => {
    const h = hook as RegisteredHook;
    if (h.fn) {
      const fn = h.fn;
      return withDeadline(limit, (signal) =>
        fn(event, {
          hookId: h.id,
          get signal() {
            return signal();
          },
        }),
      );
    }
    agent ??= createGuardedAgent({ allowPrivateNetworks: o.allowPrivateNetworks });
    const dispatcher = agent;
    const timestampSeconds = Math.floor(o.now() / 1000);
    return withDeadline(limit, (signal) => callHttpHook(dispatcher, h.http!, event, { signal: signal(), timestampSeconds }));
  };

  async function before<T extends BlockingEventType>(type: T, payload: PayloadOf<T>, context?: ContextInputT): Promise<PayloadOf<T>> {
    if (closed) throw new BusClosedError();
    if (typeof type !== "string" || !isEventType(type)) throw new UnknownEventTypeError(String(type));
    if (!isBlockingType(type)) throw new NonBlockingEventTypeError(type);
    const { payloadJson } = validateEmit(type, payload, context);
    const chain = chains.get(type) ?? EMPTY;
    // Nothing to evaluate, nothing to record: the caller still gets its own copy, as when hooks run.
    if (chain.hooks.length === 0) return JSON.parse(payloadJson) as PayloadOf<T>;
    const startedAt = o.now();
    const own = JSON.parse(payloadJson) as PayloadOf<T>;
    const event: HookEvent = {
      id: uuidv7(),
      seq: 0,
      type,
      payload: own,
      context: deepFreeze(o.makeContext(own, context, Math.floor(startedAt / 1000))),
    };
    const result = await runHookChain({ event, hooks: chain.hooks, budgetMs: o.hookChainBudgetMs, clock: monotonic, invoke });
    const record: DecisionRecord = {
      id: uuidv7(),
      app_id: o.app,
      event_id: event.id,
      type,
      decision: result.allowed ? "allow" : "deny",
      hooks: result.answers,
      latency_ms: round3(result.latencyMs),
      at: new Date(startedAt).toISOString(),
    };
    if (result.deniedBy !== undefined) record.denied_by = result.deniedBy;
    if (result.title !== undefined) record.title = result.title;
    if (result.reason !== undefined) record.reason = result.reason;
    o.onDecision?.(type, record.decision);
    if (chain.hasShadow) recorder.addWhenReady(result.shadow.then((shadow) => ({ ...record, hooks: [...record.hooks, ...shadow] })));
    else recorder.add(record);
    if (!result.allowed) {
      throw new HookDeniedError({ type, hookId: result.deniedBy!, decisionId: record.id, title: result.title, reason: result.reason }, result.failure);
    }
    // The chain's payload is frozen (hooks must answer mutations, not edit); the caller gets a plain copy.
    return JSON.parse(result.payload === own ? payloadJson : JSON.stringify(result.payload)) as PayloadOf<T>;
  }

  const hooks: HooksApi = {
    add(type: BlockingEventType, hook: unknown, options?: HookOptions): never {
      if (closed) throw new BusClosedError();
      const ctx = { defaultTimeoutMs: o.hookTimeoutMs, allowPrivateNetworks: o.allowPrivateNetworks, source: "runtime" as const, defaultId: runtimeHookId };
      const registered = normalizeHook(type, hook, options, ctx);
      register(registered);
      return (registered.http ? { id: registered.id, secret: registered.http.secret } : registered.id) as never;
    },
    remove(id) {
      const hook = byId.get(id);
      if (!hook) return false;
      byId.delete(id);
      const rest = (chains.get(hook.type)?.hooks ?? []).filter((h) => h.id !== id);
      chains.set(hook.type, Object.freeze({ hooks: Object.freeze(rest), hasShadow: rest.some((h) => h.shadow) }));
      return true;
    },
    list(type) {
      const types = type === undefined ? [...chains.keys()] : [type];
      return types.flatMap((t) => (chains.get(t)?.hooks ?? []).map(describeHook));
    },
  };

  const decisions: DecisionsApi = {
    async query(filter: DecisionFilter = {}) {
      if (closed) throw new BusClosedError();
      const limit = filter.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidQueryError("limit must be an integer from 1 to 1000");
      if (filter.outcome !== undefined && !["allow", "deny", "error"].includes(filter.outcome)) throw new InvalidQueryError("outcome must be allow, deny or error");
      await recorder.flush();
      return o.decisions.queryDecisions({ app_id: o.app, type: filter.type, hook_id: filter.hook_id, outcome: filter.outcome, after: filter.after, limit });
    },
  };

  return {
    before,
    hooks,
    decisions,
    async close() {
      if (closed) return;
      closed = true;
      await recorder.flush();
      await agent?.close();
    },
  };
}
