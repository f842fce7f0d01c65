/**
 * Blocking hooks for stacks in other languages: register HTTP hooks (kept in the database),
 * evaluate a blocking type through the app's chain, and read the decision ledger.
 */
import { Type } from "@sinclair/typebox";
import { HookDeniedError } from "../../core/errors.js";
import type { BlockingEventType } from "../../core/catalog/catalog.js";
import type { ContextInputT } from "../../core/envelope.js";
import type { HookOutcome } from "../../core/hooks/decision.js";
import type { StoredHookInput } from "../../hooks/stored-hooks.js";
import { defineRoutes, json, noContent } from "../route-table.js";
import { decodeTagged, encodeTagged, limitOf } from "../paging.js";
import { Decision, EvaluateBody, EvaluateResult, Hook, HookInput, HookWithSecret, Q, page, PageQuery } from "../schemas.js";

export const hookRoutes = defineRoutes([
  {
    method: "GET",
    path: "/v1/hooks",
    operationId: "listHooks",
    summary: "This app's HTTP hooks in run order (never their secrets).",
    tag: "hooks",
    access: "read",
    query: PageQuery,
    responses: { 200: { description: "A page of hooks.", schema: page(Hook) } },
    async handle({ bus, query }) {
      return json(await bus.storedHooks.list({ cursor: query.cursor, limit: limitOf(query) }));
    },
  },
  {
    method: "POST",
    path: "/v1/hooks",
    operationId: "createHook",
    summary: "Register an HTTP hook after this app's other hooks for the type. The answer carries its signing secret.",
    tag: "hooks",
    access: "admin",
    body: { schema: HookInput, required: true },
    responses: { 201: { description: "Registered.", schema: HookWithSecret } },
    async handle({ bus, body }) {
      return json(await bus.storedHooks.create(body as StoredHookInput), 201);
    },
  },
  {
    method: "DELETE",
    path: "/v1/hooks/{id}",
    operationId: "deleteHook",
    summary: "Unregister a hook.",
    tag: "hooks",
    access: "admin",
    responses: { 204: { description: "Removed." } },
    async handle({ bus, params }) {
      await bus.storedHooks.delete(params.id!);
      return noContent();
    },
  },
  {
    method: "GET",
    path: "/v1/decisions",
    operationId: "listDecisions",
    summary: "The decision ledger: every evaluation with each hook's answer, in recording order.",
    tag: "hooks",
    access: "read",
    query: Type.Object({
      type: Type.Optional(Q.text),
      hook_id: Type.Optional(Q.text),
      outcome: Type.Optional(Type.Union([Type.Literal("allow"), Type.Literal("deny"), Type.Literal("error")])),
      limit: Type.Optional(Q.limit),
      cursor: Type.Optional(Q.cursor),
    }),
    responses: { 200: { description: "A page of decisions.", schema: page(Decision) } },
    async handle({ bus, query }) {
      const limit = limitOf(query);
      const filter = { type: query.type as BlockingEventType | undefined, hook_id: query.hook_id, outcome: query.outcome as HookOutcome | undefined };
      const data = await bus.decisions.query({ ...filter, after: decodeTagged("d", query.cursor), limit });
      let next: string | null = null;
      if (data.length === limit) {
        const last = data[data.length - 1]!.id;
        if ((await bus.decisions.query({ ...filter, after: last, limit: 1 })).length > 0) next = encodeTagged("d", last);
      }
      return json({ data, next_cursor: next });
    },
  },
  {
    method: "POST",
    path: "/v1/evaluate/{type}",
    operationId: "evaluate",
    summary: "Run this app's hooks for a blocking type. A deny is an answer (200, is_allowed false), not an error.",
    tag: "hooks",
    access: "ingest",
    body: { schema: EvaluateBody, required: true },
    responses: { 200: { description: "The decision and the payload with the mutations applied.", schema: EvaluateResult } },
    async handle({ bus, params, body }) {
      const b = body as { payload: unknown; context?: ContextInputT };
      try {
        const payload = await bus.before(params.type as BlockingEventType, b.payload as never, b.context);
        return json({ is_allowed: true, payload });
      } catch (e) {
        if (!(e instanceof HookDeniedError)) throw e;
        return json({ is_allowed: false, ...(e.title !== undefined ? { title: e.title } : {}), ...(e.reason !== undefined ? { reason: e.reason } : {}), payload: b.payload });
      }
    },
  },
]);
