/** `authbus/authjs`: the Auth.js (@auth/core, NextAuth v5) integration. */
export { withAuthbus } from "./with-authbus.js";
export { UnknownLoginIdError, WrongPasswordError, AuthbusAccessDenied } from "./errors.js";
export { runWithRequest, contextFromRequest } from "../shared/request-context.js";
export type { RequestLike, RequestContext } from "../shared/request-context.js";
export type { WithAuthbusOptions } from "../shared/authjs-family/types.js";
export type { UnknownLoginIdInit, WrongPasswordInit } from "../shared/authjs-family/credentials.js";
export type { IntegrationErrorHandler, IntegrationErrorInfo } from "../shared/event-sink.js";
