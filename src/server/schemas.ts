/**
 * The HTTP API's schemas. Request bodies are validated with these very objects (compiled once in
 * route-table.ts) and the OpenAPI document is generated from them, so the two cannot disagree.
 * Schemas with an `$id` become named components of the OpenAPI document.
 */
import { Type, type TSchema } from "@sinclair/typebox";
import { ContextInput, TriggeredBy } from "../core/envelope.js";
import { EVENT_TYPES, isBlockingType } from "../core/catalog/catalog.js";
import { CreateSubscriptionInput, UpdateSubscriptionInput } from "../delivery/subscription-input.js";
import { MAX_HOOK_TIMEOUT_MS } from "../hooks/hook-spec.js";

export { CreateSubscriptionInput, UpdateSubscriptionInput };

const Uuid = Type.String({ pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description: "A UUID; the idempotency key." });
const Json = Type.Object({}, { additionalProperties: true });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Cursor = Nullable(Type.String({ description: "Pass as `cursor` for the next page; null at the end." }));
const Time = Type.String({ format: "date-time" });

export const Problem = Type.Object(
  {
    type: Type.String({ description: "`urn:authbus:error:<code>`." }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: "Safe to show; never a stack trace." }),
    code: Type.String({ description: "Stable error code (docs/reference/errors.md)." }),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String({ description: "RFC 6901 JSON pointer into the request body." }), message: Type.String() }))),
    request_id: Type.Optional(Type.String()),
  },
  { $id: "Problem", description: "RFC 9457 problem details." },
);

export const EventInput = Type.Object(
  {
    type: Type.String({ minLength: 1, description: "A non-blocking catalog type (see /v1/catalog)." }),
    payload: Type.Unknown({ description: "The type's payload; validated against its schema." }),
    context: Type.Optional(ContextInput),
    id: Type.Optional(Uuid),
  },
  { additionalProperties: false, $id: "EventInput" },
);
export const EventBatchInput = Type.Object(
  { events: Type.Array(EventInput, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false, $id: "EventBatchInput" },
);
export const IngestBody = Type.Union([EventInput, EventBatchInput]);

export const Receipt = Type.Object({ id: Type.String(), seq: Type.Integer() }, { $id: "Receipt" });
export const BatchReceipt = Type.Object({ events: Type.Array(Receipt) });

export const Envelope = Type.Object(
  {
    id: Type.String(),
    seq: Type.Integer(),
    subject_seq: Nullable(Type.Integer()),
    type: Type.String(),
    payload: Json,
    context: Type.Object(
      { app_id: Type.String(), timestamp: Type.Integer(), triggered_by: TriggeredBy, preferred_languages: Type.Array(Type.String()), language: Type.String(), user_id: Type.Optional(Type.String()) },
      { additionalProperties: true },
    ),
  },
  { $id: "Envelope" },
);

export const page = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item), next_cursor: Cursor });

export const CatalogEntry = Type.Object(
  { type: Type.String(), kind: Type.Union([Type.Literal("blocking"), Type.Literal("non_blocking")]), description: Type.String(), schema: Json },
  { $id: "CatalogEntry" },
);

const Destination = Type.Union([
  Type.Object({ type: Type.Literal("webhook"), url: Type.String(), headers: Type.Optional(Type.Record(Type.String(), Type.String())) }),
  Type.Object({ type: Type.Literal("nats"), subject: Type.String() }),
]);
export const Subscription = Type.Object(
  {
    id: Type.String(),
    app_id: Type.String(),
    name: Type.String(),
    filter: Type.Array(Type.String()),
    destination: Destination,
    format: Type.String(),
    ordering: Type.String(),
    retry_schedule: Type.Array(Type.Integer()),
    authgear_signature: Type.Boolean(),
    state: Type.Union([Type.Literal("enabled"), Type.Literal("paused"), Type.Literal("disabled")]),
    disabled_reason: Nullable(Type.String()),
    start_seq: Type.Integer(),
    created_at: Time,
    updated_at: Time,
  },
  { $id: "Subscription" },
);
export const SubscriptionWithSecret = Type.Composite([Subscription, Type.Object({ secret: Type.String({ description: "`whsec_...`: shown here and by GET .../secret." }) })]);
export const Secret = Type.Object({ secret: Type.String() });
export const SubscriptionHealth = Type.Object(
  {
    state: Type.Union([Type.Literal("enabled"), Type.Literal("paused"), Type.Literal("disabled")]),
    disabled_reason: Nullable(Type.String()),
    last_success_at: Nullable(Time),
    last_failure_at: Nullable(Time),
    consecutive_failures: Type.Integer(),
    backlog: Type.Integer({ description: "Deliveries not yet delivered, dead or skipped." }),
    lag_seconds: Type.Number({ description: "Age of the oldest pending delivery (0 when none)." }),
    last_error: Nullable(Type.String()),
    failing_since: Nullable(Time),
  },
  { $id: "SubscriptionHealth" },
);
export const Queued = Type.Object({ queued: Type.Integer() });
export const TestBody = Type.Object({ type: Type.Optional(Type.String({ description: "Catalog type of the synthetic event; default: the first the filter matches." })) }, { additionalProperties: false });
export const TestResult = Type.Object({ event_id: Type.String(), status_code: Nullable(Type.Integer()), latency_ms: Type.Number(), error: Type.Optional(Type.String()), response_head: Type.Optional(Type.String()) });
const TimeOrSeconds = Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })], { description: "RFC 3339 or UNIX seconds." });
export const ReplayBody = Type.Object(
  { from_seq: Type.Optional(Type.Integer({ minimum: 1, description: "Inclusive." })), since: Type.Optional(TimeOrSeconds), until: Type.Optional(TimeOrSeconds) },
  { additionalProperties: false },
);

const Attempt = Type.Object({ at: Time, status_code: Nullable(Type.Integer()), latency_ms: Type.Number(), error: Type.Optional(Type.String()), response_head: Type.Optional(Type.String()) });
export const Delivery = Type.Object(
  {
    id: Type.String(),
    subscription_id: Type.String(),
    event_id: Type.String(),
    seq: Type.Integer(),
    state: Type.Union(["pending", "delivered", "dead", "skipped"].map((s) => Type.Literal(s))),
    reason: Nullable(Type.String()),
    flagged: Nullable(Type.String()),
    next_attempt_at: Nullable(Time),
    created_at: Time,
    updated_at: Time,
    attempts: Type.Array(Attempt),
  },
  { $id: "Delivery" },
);

const BlockingType = Type.Union(EVENT_TYPES.filter(isBlockingType).map((t) => Type.Literal(t)));
export const HookInput = Type.Object(
  {
    type: BlockingType,
    url: Type.String({ minLength: 1, maxLength: 2048, description: "https:// endpoint (http only with --allow-private-networks)." }),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HOOK_TIMEOUT_MS, description: "Default 5000." })),
    fail_open: Type.Optional(Type.Boolean({ description: "A failure counts as allow instead of deny." })),
    shadow: Type.Optional(Type.Boolean({ description: "Run and record, never enforce." })),
  },
  { additionalProperties: false },
);
export const Hook = Type.Object(
  { id: Type.String(), app_id: Type.String(), type: Type.String(), url: Type.String(), timeout_ms: Nullable(Type.Integer()), fail_open: Type.Boolean(), shadow: Type.Boolean(), created_at: Time },
  { $id: "Hook" },
);
export const HookWithSecret = Type.Composite([Hook, Type.Object({ secret: Type.String({ description: "`whsec_...`: the hook verifies requests with it. Shown only here." }) })]);
export const Decision = Type.Object(
  { id: Type.String(), event_id: Type.String(), type: Type.String(), decision: Type.Union([Type.Literal("allow"), Type.Literal("deny")]), hooks: Type.Array(Json), latency_ms: Type.Number(), at: Time },
  { additionalProperties: true, $id: "Decision" },
);
export const EvaluateBody = Type.Object(
  { payload: Type.Unknown({ description: "The blocking type's payload." }), context: Type.Optional(ContextInput) },
  { additionalProperties: false },
);
export const EvaluateResult = Type.Object({
  is_allowed: Type.Boolean(),
  title: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  payload: Type.Unknown({ description: "The payload with the hooks' mutations applied." }),
});

const Scope = Type.Union([Type.Literal("admin"), Type.Literal("ingest"), Type.Literal("read")]);
export const KeyInput = Type.Object({ scope: Scope, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false });
export const Key = Type.Object(
  { id: Type.String(), app_id: Type.String(), scope: Scope, name: Nullable(Type.String()), prefix: Type.String(), created_at: Time, revoked_at: Nullable(Time) },
  { $id: "Key" },
);
export const CreatedKey = Type.Object({ id: Type.String(), key: Type.String({ description: "Shown only in this answer." }), scope: Scope, name: Nullable(Type.String()) });

export const Status = Type.Object({ status: Type.String() });

/** Query parameters are strings on the wire; these patterns validate them before parsing. */
export const Q = {
  limit: Type.String({ pattern: "^[0-9]{1,4}$", description: "1..1000, default 100." }),
  cursor: Type.String({ maxLength: 200, description: "`next_cursor` of the previous page." }),
  seq: Type.String({ pattern: "^[0-9]{1,15}$" }),
  time: Type.String({ minLength: 1, maxLength: 40, description: "RFC 3339 or UNIX seconds." }),
  text: Type.String({ minLength: 1, maxLength: 500 }),
};

/** The query of every plain list endpoint. */
export const PageQuery = Type.Object({ limit: Type.Optional(Q.limit), cursor: Type.Optional(Q.cursor) });
