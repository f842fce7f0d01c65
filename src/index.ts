export { createAuthbus, toUnixSeconds } from "./bus.js";
export type { Authbus, EmitOptions, QueryFilter, OnOptions, Handler, EnvelopeOf } from "./bus.js";
export type { AuthbusOptions, NextAuthEventHandlers } from "./options.js";
export { fromBetterSqlite3 } from "./stores/sqlite/transaction.js";
export { CATALOG } from "./core/catalog/definitions.js";
export type { EventDefinition, EventKind, EventSource } from "./core/catalog/definitions.js";
export { EVENT_TYPES, isEventType, isBlockingType, describeCatalog, payloadJsonSchema } from "./core/catalog/catalog.js";
export type { EventType, BlockingEventType, NonBlockingEventType, PayloadOf, CatalogEntry } from "./core/catalog/catalog.js";
export type { Envelope, AnyEnvelope, EventContext, ContextInputT as ContextInput, EmitReceipt } from "./core/envelope.js";
export { compilePattern } from "./core/pattern.js";
export type { TypesMatching } from "./core/pattern.js";
export { MAX_EVENT_BYTES } from "./core/validate.js";
export { NEXTAUTH_EVENTS, toNextAuthMessage } from "./core/formats/nextauth.js";
export type { NextAuthEventName, NextAuthShape } from "./core/formats/nextauth.js";
export {
  ERROR_CODES,
  AuthbusError,
  InvalidOptionsError,
  UnknownEventTypeError,
  BlockingEventTypeError,
  InvalidEventIdError,
  ValidationError,
  NotJsonValueError,
  PayloadTooLargeError,
  IdempotencyConflictError,
  InvalidPatternError,
  InvalidQueryError,
  TransactionRequiredError,
  StoreError,
  BusClosedError,
  DuplicateHandlerError,
  NonBlockingEventTypeError,
  HookDeniedError,
  HookFailedError,
  InvalidHookError,
  SsrfRefusedError,
} from "./core/errors.js";
export type { ErrorCode, ValidationIssue, HookFailure } from "./core/errors.js";
export type { HookEvent } from "./core/hooks/chain.js";
export type { HookResponse, MutationsFor, UserMutationsT as UserMutations, JwtMutationsT as JwtMutations } from "./core/hooks/response.js";
export { MUTATION_RULES } from "./core/hooks/response.js";
export { RESERVED_JWT_CLAIMS } from "./core/hooks/mutations.js";
export type { DecisionRecord, HookAnswerRecord, HookOutcome, HookKind } from "./core/hooks/decision.js";
export type { HookFunction, HookCallInfo, HookOptions, InProcessHookSpec, HttpHookSpec, HookEntry, HooksOption, HookInfo } from "./hooks/hook-spec.js";
export type { HooksApi, DecisionsApi, DecisionFilter } from "./hooks/hook-service.js";
export type { GuardControl, GuardOptions, GuardOperation } from "./hooks/guard.js";
export { MAX_HOOK_RESPONSE_BYTES } from "./hooks/http-hook.js";
export { signStandardWebhook, signAuthgearBody, generateSecret, verifyStandardWebhookSignature } from "./core/signing/standard-webhooks.js";
export type { HandlerErrorInfo } from "./consumers/handler-consumer.js";
export { renderNative } from "./core/formats/native.js";
export { toCloudEvent, renderCloudEventsStructured, renderCloudEventsBinary, encodeCloudEventsHeaderValue, decodeCloudEventsHeaderValue } from "./core/formats/cloudevents.js";
export type { AuthbusCloudEvent, CloudEventOptions } from "./core/formats/cloudevents.js";
export { renderAuth0, auth0TypeFor } from "./core/formats/auth0.js";
export type { Auth0Event, Auth0EventType, Auth0Rendering } from "./core/formats/auth0.js";
export { NotFoundError, InvalidSubscriptionError } from "./core/errors.js";
export type { SubscriptionsApi, DeliveriesApi, TestResult, SubscriptionStats, StatsBucket } from "./delivery/subscriptions-api.js";
export type { CreateSubscriptionInputT as CreateSubscriptionInput, UpdateSubscriptionInputT as UpdateSubscriptionInput } from "./delivery/subscription-input.js";
export type {
  Subscription,
  SubscriptionFormat,
  SubscriptionOrdering,
  SubscriptionState,
  SubscriptionHealth,
  Destination,
  WebhookDestination,
  NatsDestination,
  Delivery,
  DeliveryAttempt,
  DeliveryState,
  Page,
} from "./core/ports/deliveries.js";
export { DEFAULT_RETRY_SCHEDULE_SECONDS } from "./core/delivery/retry-schedule.js";
export { samplePayload } from "./core/catalog/samples.js";
export { fromPg } from "./stores/postgres/transaction.js";
