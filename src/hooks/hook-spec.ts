/**
 * How users describe hooks (constructor options and `bus.hooks.add`), and their normalisation
 * into registered hooks. Every registration mistake is an InvalidHookError at registration time,
 * not a surprise on the first sign-up.
 */
import { Type } from "@sinclair/typebox";
import { uuidv7 } from "../core/ids.js";
import { EVENT_TYPES, isBlockingType, isEventType, type BlockingEventType } from "../core/catalog/catalog.js";
import { InvalidHookError } from "../core/errors.js";
import type { ChainHook, HookEvent } from "../core/hooks/chain.js";
import type { HookResponse } from "../core/hooks/response.js";
import { generateSecret, isValidSecret } from "../core/signing/standard-webhooks.js";
import { classifyAddress, ipLiteralOf } from "../net/ssrf-guard.js";

export interface HookCallInfo {
  /** Aborted when the hook's time is up; pass it to fetch/db calls so abandoned work stops. */
  signal: AbortSignal;
  hookId: string;
}

export type HookFunction<T extends BlockingEventType = BlockingEventType> = (
  event: HookEvent<T>,
  info: HookCallInfo,
) => HookResponse<T> | Promise<HookResponse<T>>;

export interface HookOptions {
  /** A stable id for the hook (unique per bus), used in the decision ledger. Default: `<type>#<n>` for constructor hooks, `hook_<uuid>` otherwise. */
  name?: string;
  /** Default: the bus's `hookTimeoutMs` (5 s). */
  timeoutMs?: number;
  /** Count a failure (throw, timeout, invalid answer, unreachable) as allow instead of deny. */
  failOpen?: boolean;
  /** Run and record, never enforce (deny, mutations, failures are all ignored). */
  shadow?: boolean;
}

export interface InProcessHookSpec<T extends BlockingEventType = BlockingEventType> extends HookOptions {
  handler: HookFunction<T>;
}

export interface HttpHookSpec extends HookOptions {
  /** https:// (plain http only with `allowPrivateNetworks`, for development). */
  url: string;
  /** `whsec_...` signing secret; generated (and returned by `hooks.add`) when absent. */
  secret?: string;
  /** Also send Authgear's `x-authgear-body-signature`. */
  authgearSignature?: boolean;
}

export type HookEntry<T extends BlockingEventType = BlockingEventType> = HookFunction<T> | InProcessHookSpec<T> | HttpHookSpec;

/** The `hooks` option of createAuthbus: blocking type → hooks in the order they run. */
export type HooksOption = { [T in BlockingEventType]?: HookEntry<T>[] };

export interface HookInfo {
  id: string;
  type: BlockingEventType;
  kind: "in_process" | "http";
  url?: string;
  timeoutMs: number;
  failOpen: boolean;
  shadow: boolean;
  authgearSignature?: boolean;
  /** `options` for constructor hooks, `runtime` for `hooks.add`. */
  source: "options" | "runtime";
}

export interface RegisteredHook extends ChainHook {
  readonly type: BlockingEventType;
  readonly source: "options" | "runtime";
  readonly fn?: HookFunction;
  readonly http?: { readonly url: string; readonly secret: string; readonly authgearSignature: boolean };
}

export interface NormalizeContext {
  defaultTimeoutMs: number;
  allowPrivateNetworks: boolean;
  source: "options" | "runtime";
  /** The id to use when the hook has no name. */
  defaultId: () => string;
}

export const MAX_HOOK_TIMEOUT_MS = 600_000;

const Fn = Type.Function([], Type.Unknown());
const common = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "Stable hook id (unique per bus) for the decision ledger." })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HOOK_TIMEOUT_MS, description: "Default: hookTimeoutMs." })),
  failOpen: Type.Optional(Type.Boolean({ description: "A failure counts as allow instead of deny." })),
  shadow: Type.Optional(Type.Boolean({ description: "Run and record, never enforce." })),
};
const HookEntrySchema = Type.Union([
  Fn,
  Type.Object({ handler: Fn, ...common }, { additionalProperties: false }),
  Type.Object(
    {
      url: Type.String({ minLength: 1, description: "https:// endpoint (http only with allowPrivateNetworks)." }),
      secret: Type.String({ pattern: "^whsec_", description: "whsec_ signing secret; the receiver verifies with it." }),
      authgearSignature: Type.Optional(Type.Boolean({ description: "Also send x-authgear-body-signature." })),
      ...common,
    },
    { additionalProperties: false },
  ),
]);

/** The `hooks` constructor option: blocking type → hooks in run order. Details (URL, secret) are checked by normalizeHook. */
export const HooksOptionSchema = Type.Object(
  Object.fromEntries(EVENT_TYPES.filter(isBlockingType).map((t) => [t, Type.Optional(Type.Array(HookEntrySchema))])),
  { additionalProperties: false, description: "Blocking hooks by type, in the order they run." },
);

export function assertHookType(type: unknown): asserts type is BlockingEventType {
  if (typeof type !== "string" || !isEventType(type)) throw new InvalidHookError(`Cannot register a hook for ${JSON.stringify(String(type))}: not an event type`);
  if (!isBlockingType(type)) throw new InvalidHookError(`Cannot register a hook for ${type}: it is not a blocking type (hooks run for user.pre_create, user.profile.pre_update, user.pre_schedule_deletion, user.pre_schedule_anonymization, oidc.jwt.pre_create)`);
}

export function normalizeHook(type: unknown, entry: unknown, overrides: HookOptions | undefined, ctx: NormalizeContext): RegisteredHook {
  assertHookType(type);
  const spec: Record<string, unknown> = typeof entry === "function" ? { handler: entry } : isObject(entry) ? { ...entry } : {};
  if (!("handler" in spec) && !("url" in spec)) throw new InvalidHookError(`A ${type} hook must be a function, { handler } or { url, secret? }`);
  if ("handler" in spec && "url" in spec) throw new InvalidHookError(`A ${type} hook has both handler and url; choose one`);
  if (overrides !== undefined) {
    if (!isObject(overrides)) throw new InvalidHookError("hook options must be an object");
    Object.assign(spec, overrides);
  }
  const allowed = new Set(["handler", "url", "secret", "authgearSignature", "name", "timeoutMs", "failOpen", "shadow"]);
  const unknown = Object.keys(spec).filter((k) => !allowed.has(k));
  if (unknown.length > 0) throw new InvalidHookError(`Unknown hook option(s): ${unknown.join(", ")}`);

  const name = spec.name;
  if (name !== undefined && (typeof name !== "string" || name.length === 0 || name.length > 200)) throw new InvalidHookError("hook name must be a string of 1 to 200 characters");
  const timeoutMs = spec.timeoutMs ?? ctx.defaultTimeoutMs;
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_HOOK_TIMEOUT_MS) {
    throw new InvalidHookError(`hook timeoutMs must be an integer from 1 to ${MAX_HOOK_TIMEOUT_MS}`);
  }
  for (const flag of ["failOpen", "shadow", "authgearSignature"] as const) {
    if (spec[flag] !== undefined && typeof spec[flag] !== "boolean") throw new InvalidHookError(`hook ${flag} must be a boolean`);
  }
  const base = {
    id: (name as string | undefined) ?? ctx.defaultId(),
    type,
    source: ctx.source,
    timeoutMs,
    failOpen: spec.failOpen === true,
    shadow: spec.shadow === true,
  };
  if ("handler" in spec) {
    if (typeof spec.handler !== "function") throw new InvalidHookError(`A ${type} hook's handler must be a function`);
    if (spec.secret !== undefined || spec.authgearSignature !== undefined) throw new InvalidHookError("secret and authgearSignature apply to HTTP hooks only");
    return { ...base, kind: "in_process", fn: spec.handler as HookFunction };
  }
  const url = checkHookUrl(spec.url, ctx.allowPrivateNetworks);
  let secret = spec.secret;
  if (secret === undefined) {
    if (ctx.source === "options") throw new InvalidHookError(`The HTTP hook ${url} needs a secret (whsec_...) in the options; its receiver verifies signatures with it`);
    secret = generateSecret();
  }
  if (!isValidSecret(secret)) throw new InvalidHookError("hook secret must be whsec_ followed by the base64 of 24 to 64 random bytes (see generateSecret())");
  return { ...base, kind: "http", http: { url, secret, authgearSignature: spec.authgearSignature === true } };
}

/**
 * Refuses what can be refused before any DNS: not http(s), credentials in the URL (they would
 * leak into logs), plain http in production, and non-public IP literals. Names are judged at
 * connect time, after DNS.
 */
export function checkHookUrl(raw: unknown, allowPrivateNetworks: boolean): string {
  if (typeof raw !== "string") throw new InvalidHookError("hook url must be a string");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidHookError(`hook url ${JSON.stringify(raw.slice(0, 200))} is not a valid URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new InvalidHookError(`hook url must be https:// (got ${url.protocol})`);
  if (url.protocol === "http:" && !allowPrivateNetworks) {
    throw new InvalidHookError("hook url must be https:// (plain http is allowed only with allowPrivateNetworks, for development)");
  }
  if (url.username || url.password) throw new InvalidHookError("hook url must not carry credentials; the request is signed with the hook's secret");
  if (url.hash) throw new InvalidHookError("hook url must not have a #fragment");
  const literal = ipLiteralOf(url.hostname);
  if (literal !== undefined && !allowPrivateNetworks) {
    const v = classifyAddress(literal);
    if (!v.allowed) throw new InvalidHookError(`hook url ${url.origin} is a ${v.range} address; set allowPrivateNetworks: true to allow it in development and tests`);
  }
  return url.href;
}

export function runtimeHookId(): string {
  return `hook_${uuidv7()}`;
}

export function describeHook(h: RegisteredHook): HookInfo {
  const info: HookInfo = { id: h.id, type: h.type, kind: h.kind, timeoutMs: h.timeoutMs, failOpen: h.failOpen, shadow: h.shadow, source: h.source };
  if (h.http) {
    info.url = h.http.url;
    info.authgearSignature = h.http.authgearSignature;
  }
  return info;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
