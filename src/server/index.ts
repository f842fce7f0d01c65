/** `authbus/server`: the HTTP server and the shared runtime it runs on. */
export { serve, serveOptionsFromEnv, DEFAULT_PORT, DEFAULT_DATABASE } from "./serve.js";
export type { ServeOptions, RunningServer } from "./serve.js";
export { createServer, MAX_BODY_BYTES } from "./server.js";
export type { AuthbusServer, ServerOptions } from "./server.js";
export { createLogger } from "./logger.js";
export type { Logger } from "./logger.js";
export { buildOpenApi } from "./openapi.js";
export type { RouteDef, Access } from "./route-table.js";
export { createRuntime } from "../runtime.js";
export type { Runtime, RuntimeOptions, RuntimeObserver } from "../runtime.js";
export type { AppBus, BatchItem } from "../app-bus.js";
export { generateApiKey, hashApiKey, KEY_SCOPES, APP_ID_PATTERN } from "../tenancy/tenancy.js";
export type { AppsApi, KeysApi, Principal, CreatedKey } from "../tenancy/tenancy.js";
export type { KeyScope, ApiKeyRecord, AppRecord, StoredHook } from "../core/ports/tenancy.js";
