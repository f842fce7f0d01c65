/**
 * What callers send to create or change a subscription (library and HTTP API alike): one TypeBox
 * schema for the types, the runtime check and the published OpenAPI document.
 */
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { assertValidPattern } from "../core/pattern.js";
import { validateRetrySchedule } from "../core/delivery/retry-schedule.js";
import { validateWebhookHeaders } from "../core/delivery/webhook-request.js";
import { InvalidSubscriptionError } from "../core/errors.js";
import type { ValidationIssue } from "../core/errors.js";

export const WebhookDestinationInput = Type.Object(
  {
    type: Type.Literal("webhook"),
    url: Type.String({ minLength: 1, maxLength: 2048, description: "http(s) URL the events are POSTed to." }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Extra request headers, e.g. `authorization: Bearer ...`." })),
  },
  { additionalProperties: false },
);
export const NatsDestinationInput = Type.Object(
  { type: Type.Literal("nats"), subject: Type.String({ minLength: 1, maxLength: 255, description: "JetStream subject." }) },
  { additionalProperties: false },
);
const Format = Type.Union([Type.Literal("native"), Type.Literal("cloudevents"), Type.Literal("cloudevents-binary"), Type.Literal("auth0")], {
  description: "How each event is rendered. Default: native.",
});
const Ordering = Type.Union([Type.Literal("none"), Type.Literal("seq"), Type.Literal("subject")], {
  description: "none: in parallel (default); seq: strictly in seq order; subject: in order per user.",
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  filter: Type.Array(Type.String(), { minItems: 1, maxItems: 50, description: "Type patterns: `user.created`, `user.*`, `authentication.**`." }),
  destination: Type.Union([WebhookDestinationInput, NatsDestinationInput]),
  format: Type.Optional(Format),
  ordering: Type.Optional(Ordering),
  retry_schedule: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { description: "Seconds to wait before each attempt; default 0, 5, 300, 1800, 7200, 18000, 36000, 36000." })),
  authgear_signature: Type.Optional(Type.Boolean({ description: "Also send `x-authgear-body-signature`." })),
};

export const CreateSubscriptionInput = Type.Object(fields, { additionalProperties: false });
export type CreateSubscriptionInputT = Static<typeof CreateSubscriptionInput>;
export const UpdateSubscriptionInput = Type.Partial(Type.Object(fields), { additionalProperties: false });
export type UpdateSubscriptionInputT = Static<typeof UpdateSubscriptionInput>;

const createCheck = TypeCompiler.Compile(CreateSubscriptionInput);
const updateCheck = TypeCompiler.Compile(UpdateSubscriptionInput);

/** Validates the input; throws InvalidSubscriptionError with JSON pointers. */
export function validateSubscriptionInput(input: unknown, mode: "create" | "update"): void {
  const check = mode === "create" ? createCheck : updateCheck;
  const issues: ValidationIssue[] = check.Check(input) ? [] : [...check.Errors(input)].slice(0, 20).map((e) => ({ pointer: e.path, message: e.message }));
  if (issues.length === 0) {
    const i = input as UpdateSubscriptionInputT;
    i.filter?.forEach((p, n) => {
      try {
        assertValidPattern(p);
      } catch (e) {
        issues.push({ pointer: `/filter/${n}`, message: (e as Error).message });
      }
    });
    if (i.retry_schedule) issues.push(...validateRetrySchedule(i.retry_schedule).map((x) => ({ ...x, pointer: `/retry_schedule${x.pointer}` })));
    if (i.destination?.type === "webhook") {
      if (!isHttpUrl(i.destination.url)) issues.push({ pointer: "/destination/url", message: "must be an absolute http:// or https:// URL" });
      if (i.destination.headers) issues.push(...validateWebhookHeaders(i.destination.headers).map((x) => ({ ...x, pointer: `/destination/headers${x.pointer}` })));
    }
  }
  if (issues.length > 0) throw new InvalidSubscriptionError(issues);
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname.length > 0 && !u.username && !u.password;
  } catch {
    return false;
  }
}
