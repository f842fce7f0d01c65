/** Subscriptions (event streams) and every operator action on them. */
import { InvalidSubscriptionError, NotFoundError } from "../../core/errors.js";
import type { CreateSubscriptionInputT, UpdateSubscriptionInputT } from "../../delivery/subscription-input.js";
import { toUnixSeconds } from "../../bus.js";
import { defineRoutes, json, noContent, type RouteDef } from "../route-table.js";
import { limitOf } from "../paging.js";
import { CreateSubscriptionInput, Queued, ReplayBody, Secret, Subscription, SubscriptionHealth, SubscriptionWithSecret, TestBody, TestResult, UpdateSubscriptionInput, page, PageQuery } from "../schemas.js";

const subscriptionError = (issues: { pointer: string; message: string }[]) => new InvalidSubscriptionError(issues);

/** POST /v1/subscriptions/{id}/<action> */
function action(name: string, operationId: string, summary: string, extra: Partial<RouteDef> & Pick<RouteDef, "handle" | "responses">): RouteDef {
  return { method: "POST", path: `/v1/subscriptions/{id}/${name}`, operationId, summary, tag: "subscriptions", access: "admin", ...extra };
}

export const subscriptionRoutes = defineRoutes([
  {
    method: "POST",
    path: "/v1/subscriptions",
    operationId: "createSubscription",
    summary: "Create a subscription; it receives the matching events recorded from now on. The answer carries its signing secret.",
    tag: "subscriptions",
    access: "admin",
    body: { schema: CreateSubscriptionInput, required: true, error: subscriptionError },
    responses: { 201: { description: "Created.", schema: SubscriptionWithSecret } },
    async handle({ bus, body }) {
      return json(await bus.subscriptions.create(body as CreateSubscriptionInputT), 201);
    },
  },
  {
    method: "GET",
    path: "/v1/subscriptions",
    operationId: "listSubscriptions",
    summary: "This app's subscriptions.",
    tag: "subscriptions",
    access: "read",
    query: PageQuery,
    responses: { 200: { description: "A page of subscriptions.", schema: page(Subscription) } },
    async handle({ bus, query }) {
      return json(await bus.subscriptions.list({ cursor: query.cursor, limit: limitOf(query) }));
    },
  },
  {
    method: "GET",
    path: "/v1/subscriptions/{id}",
    operationId: "getSubscription",
    summary: "One subscription.",
    tag: "subscriptions",
    access: "read",
    responses: { 200: { description: "The subscription.", schema: Subscription } },
    async handle({ bus, params }) {
      const s = await bus.subscriptions.get(params.id!);
      if (!s) throw new NotFoundError("subscription", params.id!);
      return json(s);
    },
  },
  {
    method: "PATCH",
    path: "/v1/subscriptions/{id}",
    operationId: "updateSubscription",
    summary: "Change some of a subscription's fields.",
    tag: "subscriptions",
    access: "admin",
    body: { schema: UpdateSubscriptionInput, required: true, error: subscriptionError },
    responses: { 200: { description: "The updated subscription.", schema: Subscription } },
    async handle({ bus, params, body }) {
      return json(await bus.subscriptions.update(params.id!, body as UpdateSubscriptionInputT));
    },
  },
  {
    method: "DELETE",
    path: "/v1/subscriptions/{id}",
    operationId: "deleteSubscription",
    summary: "Delete a subscription and its delivery log.",
    tag: "subscriptions",
    access: "admin",
    responses: { 204: { description: "Deleted." } },
    async handle({ bus, params }) {
      await bus.subscriptions.delete(params.id!);
      return noContent();
    },
  },
  {
    method: "GET",
    path: "/v1/subscriptions/{id}/secret",
    operationId: "getSubscriptionSecret",
    summary: "The current signing secret (admin keys only: it can sign webhooks).",
    tag: "subscriptions",
    access: "admin",
    responses: { 200: { description: "The secret.", schema: Secret } },
    async handle({ bus, params }) {
      return json(await bus.subscriptions.secret(params.id!));
    },
  },
  {
    method: "GET",
    path: "/v1/subscriptions/{id}/health",
    operationId: "getSubscriptionHealth",
    summary: "Backlog, lag and the current run of failures (what `authbus replay` polls for its progress).",
    tag: "subscriptions",
    access: "read",
    responses: { 200: { description: "The subscription's health.", schema: SubscriptionHealth } },
    async handle({ bus, params }) {
      return json(await bus.subscriptions.health(params.id!));
    },
  },
  action("rotate-secret", "rotateSubscriptionSecret", "A new secret; the old one keeps signing for 24 h.", {
    responses: { 200: { description: "The new secret.", schema: Secret } },
    handle: async ({ bus, params }) => json(await bus.subscriptions.rotateSecret(params.id!)),
  }),
  action("pause", "pauseSubscription", "Hold deliveries (events keep being queued for it).", {
    responses: { 200: { description: "The paused subscription.", schema: Subscription } },
    handle: async ({ bus, params }) => json(await bus.subscriptions.pause(params.id!)),
  }),
  action("resume", "resumeSubscription", "Deliver again, starting with what waited.", {
    responses: { 200: { description: "The enabled subscription.", schema: Subscription } },
    handle: async ({ bus, params }) => json(await bus.subscriptions.resume(params.id!)),
  }),
  action("test", "testSubscription", "Send one synthetic event (context.test: true, not recorded) and report the receiver's answer.", {
    body: { schema: TestBody, required: false },
    responses: { 200: { description: "What the receiver answered.", schema: TestResult } },
    handle: async ({ bus, params, body }) => json(await bus.subscriptions.test(params.id!, (body as { type?: string } | undefined) ?? {})),
  }),
  action("replay", "replaySubscription", "Send recorded events again (original ids and seqs) from a seq (inclusive) or a time range.", {
    body: { schema: ReplayBody, required: true },
    responses: { 202: { description: "Deliveries queued.", schema: Queued } },
    handle: async ({ bus, params, body }) => {
      const b = body as { from_seq?: number; since?: string | number; until?: string | number };
      const range = { from_seq: b.from_seq, since: toUnixSeconds(b.since, "since"), until: toUnixSeconds(b.until, "until") };
      return json(await bus.subscriptions.replay(params.id!, range), 202);
    },
  }),
  action("retry-dead", "retryDeadDeliveries", "Send every dead delivery of the subscription again.", {
    responses: { 202: { description: "Deliveries queued.", schema: Queued } },
    handle: async ({ bus, params }) => json(await bus.subscriptions.retryDead(params.id!), 202),
  }),
]);
