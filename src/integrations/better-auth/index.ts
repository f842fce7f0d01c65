/** `authbus/better-auth`: the Better Auth plugin. */
export { authbusPlugin } from "./plugin.js";
export { authbusJwtPayload } from "./jwt.js";
export type { JwtSession } from "./jwt.js";
export type { AuthbusPluginOptions } from "./runtime.js";
export { runWithRequest, contextFromRequest } from "../shared/request-context.js";
export type { RequestLike, RequestContext } from "../shared/request-context.js";
export type { IntegrationErrorHandler, IntegrationErrorInfo } from "../shared/event-sink.js";
