/**
 * The message one NATS JetStream delivery publishes: subject, body in the subscription's format,
 * headers with `Nats-Msg-Id`. Pure, like the webhook request: the publisher only moves it.
 *
 * Subject templates: `{app}` and `{type}` are replaced by the app id and the event type, so
 * `authbus.{app}.{type}` gives `authbus.acme.user.created`. The dots of a type are kept: they
 * become subject tokens, so consumers filter with NATS wildcards (`authbus.acme.user.>`,
 * `authbus.*.session.revoked`). App ids and catalog types only hold [a-z0-9_-.], which are valid
 * subject characters, so substitution never makes a subject invalid.
 */
import type { Envelope } from "../envelope.js";
import type { ValidationIssue } from "../errors.js";
import type { CloudEventOptions } from "../formats/cloudevents.js";
import type { Classification } from "./classify.js";
import { renderBody, type Rendered, type WebhookFormat } from "./webhook-request.js";

export interface NatsTarget {
  /** The subscription id; Auth0's `a0stream` seed. */
  id: string;
  format: WebhookFormat;
  /** Subject template with optional `{app}` and `{type}` tokens. */
  subject: string;
  cloudEvents?: CloudEventOptions | undefined;
}

export interface NatsMessage {
  subject: string;
  body: string;
  /** Includes `Nats-Msg-Id`, which JetStream dedupes on within the stream's duplicate window. */
  headers: Record<string, string>;
}

export type NatsMessageResult = ({ ok: true } & NatsMessage) | { ok: false; skip: string };

/** Accepted by {@link classifyPublish}: what the publisher reports (no HTTP status, ever). */
export interface NatsPublishOutcome {
  error?: string | undefined;
}

const PLACEHOLDER = /\{([^}]*)\}/g;
const KNOWN_PLACEHOLDERS = new Set(["app", "type"]);
// NATS subjects: tokens separated by dots, no whitespace; `*` and `>` are wildcards, which a
// published subject must not contain.
const BAD_TOKEN_CHAR = /[\s*>{}\u0000-\u001f\u007f]/;

/** Problems with a subject template, as pointers relative to the subject (empty when valid). */
export function validateNatsSubject(template: unknown): ValidationIssue[] {
  if (typeof template !== "string" || template.length === 0) return [{ pointer: "", message: "must be a non-empty string" }];
  const issues: ValidationIssue[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!KNOWN_PLACEHOLDERS.has(m[1]!)) issues.push({ pointer: "", message: `unknown token {${m[1]}}: use {app} or {type}` });
  }
  if (issues.length > 0) return issues;
  const sample = template.replace(PLACEHOLDER, "x");
  const tokens = sample.split(".");
  if (tokens.some((t) => t.length === 0)) issues.push({ pointer: "", message: "must not start or end with a dot or contain empty tokens (..)" });
  if (tokens.some((t) => BAD_TOKEN_CHAR.test(t))) issues.push({ pointer: "", message: "must not contain whitespace, control characters, braces or the wildcards * and >" });
  if (sample.startsWith("$")) issues.push({ pointer: "", message: "subjects starting with $ are reserved for NATS ($JS, $SYS, $KV ...)" });
  return issues;
}

export function natsSubjectFor(template: string, envelope: Pick<Envelope, "type" | "context">): string {
  return template.replace(PLACEHOLDER, (_, name: string) => (name === "app" ? envelope.context.app_id : name === "type" ? envelope.type : `{${name}}`));
}

/**
 * `msgId` defaults to the event id: a retry after a lost PubAck (timeout, NATS restart) carries the
 * same id and JetStream drops the copy.
 */
export function buildNatsMessage(envelope: Envelope, target: NatsTarget, options: { msgId?: string } = {}): NatsMessageResult {
  const rendered = render(envelope, target);
  if (!rendered.ok) return rendered;
  return {
    ok: true,
    subject: natsSubjectFor(target.subject, envelope),
    body: rendered.body,
    headers: { ...rendered.headers, "Nats-Msg-Id": options.msgId ?? envelope.id },
  };
}

/** The delivery outcome of one publish: the PubAck (duplicate or not) is delivered, anything else is retried. */
export function classifyPublish(result: NatsPublishOutcome): Classification {
  if (result.error === undefined) return { outcome: "delivered", reason: "JetStream acknowledged" };
  return { outcome: "retry", reason: `NATS: ${result.error}` };
}

/** As over HTTP; binary CloudEvents also get `ce-datacontenttype`, which the CloudEvents NATS binding (NATS 2.2+ headers) maps to a header of its own. */
function render(envelope: Envelope, target: NatsTarget): Rendered {
  const r = renderBody(envelope, target);
  if (!r.ok || target.format !== "cloudevents-binary") return r;
  return { ok: true, body: r.body, headers: { ...r.headers, "ce-datacontenttype": r.headers["content-type"]! } };
}
