/**
 * `GET /v1/events/stream`: server-sent events, one per recorded event (`id: <seq>`,
 * `event: <type>`, `data: <envelope>`). A client that reconnects with `Last-Event-ID` gets every
 * matching event after that seq: the stream is a read of the log, not a live feed, so nothing
 * is lost between connections. It wakes when this process records events and polls for those
 * recorded by other processes (the CLI, another server) on the same database.
 */
import { Type } from "@sinclair/typebox";
import { streamSSE } from "hono/streaming";
import { InvalidQueryError } from "../../core/errors.js";
import { compilePatterns } from "../../core/pattern.js";
import type { Envelope } from "../../core/envelope.js";
import { defineRoutes } from "../route-table.js";
import { intOf, listOf } from "../paging.js";
import { Q } from "../schemas.js";

const PAGE = 500;
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;

export const streamRoutes = defineRoutes([
  {
    method: "GET",
    path: "/v1/events/stream",
    operationId: "streamEvents",
    summary: "Server-sent events of the log, resumable with Last-Event-ID (the last seq received). Without it (or after_seq), starts at the current head.",
    tag: "events",
    access: "read",
    query: Type.Object({
      filter: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: "Type pattern(s), comma-separated or repeated." })),
      after_seq: Type.Optional(Q.seq),
    }),
    repeatable: ["filter"],
    responses: { 200: { description: "`text/event-stream`: `id: <seq>`, `event: <type>`, `data: <envelope JSON>`; `: keep-alive` comments.", contentType: "text/event-stream", schema: Type.String() } },
    async handle({ c, bus, query, closing }) {
      const types = listOf(query.filter);
      if (types) compilePatterns(types);
      const header = c.req.header("last-event-id");
      if (header !== undefined && !/^\d{1,15}$/.test(header.trim())) throw new InvalidQueryError("Last-Event-ID must be the seq of the last event received");
      let after = header !== undefined ? Number(header.trim()) : (intOf(query, "after_seq") ?? (await bus.headSeq()));
      c.header("cache-control", "no-cache");
      c.header("x-accel-buffering", "no");
      return streamSSE(c, async (stream) => {
        let wake: (() => void) | undefined;
        // Set by a nudge that lands while the log is being read, so it is not slept through.
        let dirty = false;
        const nudge = () => {
          dirty = true;
          wake?.();
        };
        const off = bus.onAppended(nudge);
        stream.onAbort(nudge);
        closing.addEventListener("abort", nudge);
        let lastWrite = Date.now();
        try {
          while (!stream.aborted && !stream.closed && !closing.aborted) {
            dirty = false;
            // The head first: every event up to it is visible now, so a short page covers it all.
            const head = await bus.headSeq();
            const events = (await bus.query({ type: types, after_seq: after, limit: PAGE })) as Envelope[];
            for (const e of events) {
              await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify(e) });
              after = e.seq;
            }
            if (events.length > 0) lastWrite = Date.now();
            if (events.length === PAGE) continue;
            after = Math.max(after, head);
            if (dirty) continue;
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, POLL_MS);
              wake = () => {
                clearTimeout(t);
                resolve();
              };
            });
            wake = undefined;
            if (Date.now() - lastWrite >= KEEPALIVE_MS) {
              await stream.write(": keep-alive\n\n");
              lastWrite = Date.now();
            }
          }
        } catch {
          // The store closed under a shutdown, or the client went away mid-write: the stream just
          // ends; a client resumes with Last-Event-ID.
        } finally {
          off();
          closing.removeEventListener("abort", nudge);
        }
      });
    },
  },
]);
