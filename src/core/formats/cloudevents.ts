/**
 * The `cloudevents` and `cloudevents-binary` renderings (SPEC §2): CloudEvents 1.0 in HTTP
 * structured mode (JSON event format) and binary mode (`ce-*` headers, body = data).
 * See notes/wire-formats.md §4 for the attribute rules and the SDK pitfalls avoided here.
 */
import { subjectOf, type Envelope, type EventContext } from "../envelope.js";

export const DEFAULT_SCHEMA_BASE_URL = "urn:authbus:catalog:";
export const CLOUDEVENTS_STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";

export interface CloudEventOptions {
  /** Prefix of `dataschema`; the type name is appended. Default `urn:authbus:catalog:`. */
  schemaBaseUrl?: string;
}

export interface AuthbusCloudEventData {
  object: unknown;
  context: EventContext;
}

export interface AuthbusCloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  datacontenttype: "application/json";
  dataschema: string;
  /** Extension attribute: the event's per-app `seq`, so consumers can page and detect gaps. */
  authbusseq: number;
  data: AuthbusCloudEventData;
}

export interface CloudEventsStructuredRendering {
  headers: { "content-type": typeof CLOUDEVENTS_STRUCTURED_CONTENT_TYPE };
  body: string;
}

/** The required binary-mode headers; `ce-subject` is present only when the event has a subject. */
export type CloudEventsBinaryHeaders = {
  "content-type": "application/json";
  "ce-specversion": string;
  "ce-id": string;
  "ce-source": string;
  "ce-type": string;
  "ce-time": string;
  "ce-dataschema": string;
  "ce-authbusseq": string;
} & Record<string, string>;

export interface CloudEventsBinaryRendering {
  headers: CloudEventsBinaryHeaders;
  body: string;
}

/**
 * `urn:authbus:<app_id>`. The app id is percent-encoded (a no-op for the usual slug ids) so
 * `source` stays a valid URI-reference whatever the app id contains; the SDK rejects it otherwise.
 */
export function authbusSource(appId: string): string {
  return `urn:authbus:${encodeURIComponent(appId)}`;
}

/**
 * RFC 3339 from UNIX seconds, in exactly the form `Date#toISOString` gives (milliseconds, `Z`),
 * because the cloudevents SDK rewrites `time` that way: any other form would change between
 * what we sign and what an SDK-based relay re-serialises.
 */
export function eventTime(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString();
}

export function toCloudEvent(envelope: Envelope, options: CloudEventOptions = {}): AuthbusCloudEvent {
  const { context } = envelope;
  const subject = subjectOf(envelope.payload, context);
  return {
    specversion: "1.0",
    id: envelope.id,
    source: authbusSource(context.app_id),
    type: envelope.type,
    time: eventTime(context.timestamp),
    ...(subject !== undefined ? { subject } : {}),
    datacontenttype: "application/json",
    dataschema: `${options.schemaBaseUrl ?? DEFAULT_SCHEMA_BASE_URL}${envelope.type}`,
    authbusseq: envelope.seq,
    data: { object: envelope.payload, context },
  };
}

export function renderCloudEventsStructured(envelope: Envelope, options?: CloudEventOptions): CloudEventsStructuredRendering {
  return {
    headers: { "content-type": CLOUDEVENTS_STRUCTURED_CONTENT_TYPE },
    body: JSON.stringify(toCloudEvent(envelope, options)),
  };
}

export function renderCloudEventsBinary(envelope: Envelope, options?: CloudEventOptions): CloudEventsBinaryRendering {
  const ce = toCloudEvent(envelope, options);
  const h = encodeCloudEventsHeaderValue;
  const headers: CloudEventsBinaryHeaders = {
    // Binary mode carries datacontenttype as Content-Type and must not repeat it as ce-datacontenttype.
    "content-type": ce.datacontenttype,
    "ce-specversion": h(ce.specversion),
    "ce-id": h(ce.id),
    "ce-source": h(ce.source),
    "ce-type": h(ce.type),
    "ce-time": h(ce.time),
    "ce-dataschema": h(ce.dataschema),
    "ce-authbusseq": h(String(ce.authbusseq)),
  };
  if (ce.subject !== undefined) headers["ce-subject"] = h(ce.subject);
  return { headers, body: JSON.stringify(ce.data) };
}

const utf8 = new TextEncoder();

/**
 * Percent-encodes a header value per the CloudEvents HTTP binding: space, `"`, `%` and every
 * character outside U+0021–U+007E become their UTF-8 bytes as `%XY` (uppercase hex).
 * The JS SDK does not do this itself (cloudevents/spec#1397), so we must.
 */
export function encodeCloudEventsHeaderValue(value: string): string {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x21 && cp <= 0x7e && ch !== '"' && ch !== "%") {
      out += ch;
      continue;
    }
    for (const byte of utf8.encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Decodes a `ce-*` header value as the binding prescribes: unquote an RFC 7230 quoted-string,
 * then exactly one percent-decoding round. Throws URIError (as `decodeURIComponent` does) on a
 * malformed escape or invalid UTF-8, including overlong forms such as `%C0%A0`.
 */
export function decodeCloudEventsHeaderValue(raw: string): string {
  let value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value.slice(1, -1).replace(/\\([\s\S])/g, "$1");
  }
  return decodeURIComponent(value);
}
