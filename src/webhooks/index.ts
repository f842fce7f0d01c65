/**
 * `authbus/webhooks`: what a receiver of Authbus webhooks imports. Kept apart from the main
 * entry so a receiver does not load the bus, its store or its drivers.
 */
export { verifyWebhook, verifyWebhookSync, DEFAULT_TOLERANCE_SECONDS, DEFAULT_MAX_BODY_BYTES } from "./verify.js";
export type { VerifyWebhookOptions, WebhookInput, WebhookParts, HeaderSource, FetchRequestLike, NodeRequestLike } from "./verify.js";
export {
  AuthbusError,
  WebhookVerificationError,
  WebhookMalformedError,
  WebhookSignatureInvalidError,
  WebhookTimestampStaleError,
} from "../core/errors.js";
export type { WebhookVerificationCode } from "../core/errors.js";
export type { Envelope, AnyEnvelope, EventContext } from "../core/envelope.js";
export type { AuthbusCloudEvent, AuthbusCloudEventData } from "../core/formats/cloudevents.js";
export type { Auth0Event } from "../core/formats/auth0.js";
