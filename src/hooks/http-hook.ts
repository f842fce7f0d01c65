/**
 * Calling an HTTP hook: POST the envelope, signed like a webhook (Standard Webhooks, optionally
 * Authgear's body signature too), and read the answer strictly. Every way this can go wrong
 * becomes a HookFailedError whose message is what the decision ledger shows.
 */
import type { Dispatcher } from "undici";
import { HookFailedError } from "../core/errors.js";
import type { HookEvent } from "../core/hooks/chain.js";
import { signAuthgearBody, signStandardWebhook } from "../core/signing/standard-webhooks.js";
import { findSsrfRefusal, ResponseTooLargeError, sendRequest } from "../net/http-client.js";

/** Hook answers are small; anything larger is refused without being buffered. */
export const MAX_HOOK_RESPONSE_BYTES = 1024 * 1024;

export interface HttpHookTarget {
  url: string;
  secret: string;
  authgearSignature: boolean;
}

const USER_AGENT = "authbus-hooks/1";
const utf8 = new TextDecoder("utf-8", { fatal: true });

export async function callHttpHook(
  dispatcher: Dispatcher,
  target: HttpHookTarget,
  event: HookEvent,
  options: { signal: AbortSignal; timestampSeconds: number },
): Promise<unknown> {
  const body = JSON.stringify(event);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": event.id,
    "webhook-timestamp": String(options.timestampSeconds),
    "webhook-signature": signStandardWebhook(target.secret, event.id, options.timestampSeconds, body),
  };
  if (target.authgearSignature) headers["x-authgear-body-signature"] = signAuthgearBody(target.secret, body);

  let res;
  try {
    res = await sendRequest(dispatcher, { url: target.url, method: "POST", headers, body, signal: options.signal, maxResponseBytes: MAX_HOOK_RESPONSE_BYTES });
  } catch (e) {
    if (options.signal.aborted) throw options.signal.reason ?? e;
    const ssrf = findSsrfRefusal(e);
    if (ssrf) throw new HookFailedError("ssrf_refused", ssrf.message, { cause: e });
    if (e instanceof ResponseTooLargeError) throw new HookFailedError("response_too_large", `the answer is larger than ${MAX_HOOK_RESPONSE_BYTES} bytes`, { cause: e });
    throw new HookFailedError("network", `request failed: ${describeNetworkError(e)}`, { cause: e });
  }
  const { status } = res;
  if (status >= 300 && status < 400) {
    throw new HookFailedError("http_status", `HTTP ${status}: redirects are not followed${res.headers.location ? ` (location: ${String(res.headers.location).slice(0, 200)})` : ""}`);
  }
  if (status < 200 || status >= 300) throw new HookFailedError("http_status", `HTTP ${status}${bodyHead(res.body)}`);
  let text: string;
  try {
    text = utf8.decode(res.body);
  } catch {
    throw new HookFailedError("invalid_response", `HTTP ${status} with a body that is not UTF-8`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new HookFailedError("invalid_response", `HTTP ${status} with a body that is not JSON (${(e as Error).message})${bodyHead(res.body)}`);
  }
  return parsed;
}

function bodyHead(body: Buffer): string {
  if (body.length === 0) return "";
  const head = body.subarray(0, 200).toString("utf8").replace(/\s+/g, " ");
  return `: ${head}${body.length > 200 ? "…" : ""}`;
}

function describeNetworkError(e: unknown): string {
  const err = e as { message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code;
  const message = err.message ?? String(e);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
