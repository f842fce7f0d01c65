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
} from "./core/errors.js";
export type { ErrorCode, ValidationIssue } from "./core/errors.js";
export type { HandlerErrorInfo } from "./consumers/handler-consumer.js";
export { renderNative } from "./core/formats/native.js";
export { toCloudEvent, renderCloudEventsStructured, renderCloudEventsBinary, encodeCloudEventsHeaderValue, decodeCloudEventsHeaderValue } from "./core/formats/cloudevents.js";
export type { AuthbusCloudEvent, CloudEventOptions } from "./core/formats/cloudevents.js";
export { renderAuth0, auth0TypeFor } from "./core/formats/auth0.js";
export type { Auth0Event, Auth0EventType, Auth0Rendering } from "./core/formats/auth0.js";
