/** Ingest (single or batch, idempotent by id) and the log: paged query and one event by id. */
import { NotFoundError } from "../../core/errors.js";
import type { Envelope as EnvelopeT } from "../../core/envelope.js";
import type { BatchItem } from "../../app-bus.js";
import { defineRoutes, json, schemaIssues } from "../route-table.js";
import { decodeSeqCursor, encodeTagged, intOf, limitOf, listOf } from "../paging.js";
import { BatchReceipt, Envelope, EventBatchInput, EventInput, IngestBody, Q, Receipt, page } from "../schemas.js";
import { Type } from "@sinclair/typebox";

const EventsQuery = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: "Type pattern(s): `user.*`, `authentication.**`; comma-separated or repeated." })),
  user_id: Type.Optional(Q.text),
  after_seq: Type.Optional(Q.seq),
  since: Type.Optional(Q.time),
  until: Type.Optional(Q.time),
  limit: Type.Optional(Q.limit),
  cursor: Type.Optional(Q.cursor),
});

export const eventRoutes = defineRoutes([
  {
    method: "POST",
    path: "/v1/events",
    operationId: "ingestEvents",
    summary: "Record one event, or a batch of up to 1000 (all or nothing); answers once durable. The same id twice records one event.",
    tag: "events",
    access: "ingest",
    body: {
      schema: IngestBody,
      required: true,
      // A union's errors say only "expected union value": check the branch the body chose instead.
      check: (v) => (typeof v === "object" && v !== null && "events" in v ? schemaIssues(EventBatchInput, v) : schemaIssues(EventInput, v)),
    },
    responses: { 202: { description: "Recorded durably.", schema: Type.Union([Receipt, BatchReceipt]) } },
    async handle({ bus, body }) {
      const b = body as BatchItem | { events: BatchItem[] };
      if ("events" in b) return json({ events: await bus.emitMany(b.events) }, 202);
      const [receipt] = await bus.emitMany([b]).catch((e: unknown) => {
        // A single event's pointers are relative to the body itself, not to /events/0.
        throw (e as { cause?: unknown; index?: number }).index === 0 ? (e as { cause: unknown }).cause : e;
      });
      return json(receipt, 202);
    },
  },
  {
    method: "GET",
    path: "/v1/events",
    operationId: "listEvents",
    summary: "The log in ascending seq order.",
    tag: "events",
    access: "read",
    query: EventsQuery,
    repeatable: ["type"],
    responses: { 200: { description: "A page of envelopes.", schema: page(Envelope) } },
    async handle({ bus, query }) {
      const limit = limitOf(query);
      const after = Math.max(intOf(query, "after_seq") ?? 0, decodeSeqCursor(query.cursor) ?? 0);
      const filter = { type: listOf(query.type), user_id: query.user_id, since: query.since, until: query.until };
      const data = (await bus.query({ ...filter, after_seq: after, limit })) as EnvelopeT[];
      let next: string | null = null;
      if (data.length === limit) {
        const last = data[data.length - 1]!.seq;
        // Probe, so the last page says null rather than leading to an empty one.
        if ((await bus.query({ ...filter, after_seq: last, limit: 1 })).length > 0) next = encodeTagged("s", last);
      }
      return json({ data, next_cursor: next });
    },
  },
]);

/** After the stream route: `/v1/events/stream` must not be taken for an event id. */
export const eventByIdRoutes = defineRoutes([
  {
    method: "GET",
    path: "/v1/events/{id}",
    operationId: "getEvent",
    summary: "One recorded event.",
    tag: "events",
    access: "read",
    responses: { 200: { description: "The envelope.", schema: Envelope } },
    async handle({ bus, params }) {
      const e = await bus.getEvent(params.id!);
      if (!e) throw new NotFoundError("event", params.id!);
      return json(e);
    },
  },
]);
