/**
 * `GET /v1/events/{id}/renderings`: what each subscription format would send for one recorded
 * event, rendered by the same core functions the webhook sender uses (the dashboard shows them).
 */
import { Type } from "@sinclair/typebox";
import { NotFoundError } from "../../core/errors.js";
import type { Envelope } from "../../core/envelope.js";
import { renderNative } from "../../core/formats/native.js";
import { renderCloudEventsStructured } from "../../core/formats/cloudevents.js";
import { renderAuth0 } from "../../core/formats/auth0.js";
import { defineRoutes, json } from "../route-table.js";
import { Q } from "../schemas.js";

const Rendering = Type.Object({
  content_type: Type.Union([Type.String(), Type.Null()]),
  body: Type.Unknown({ description: "The JSON body; null when the format does not carry this type." }),
  skipped: Type.Union([Type.String(), Type.Null()], { description: "Why a subscription in this format would skip the event." }),
});
export const Renderings = Type.Object({ native: Rendering, cloudevents: Rendering, auth0: Rendering }, { $id: "Renderings" });

export const renderingRoutes = defineRoutes([
  {
    method: "GET",
    path: "/v1/events/{id}/renderings",
    operationId: "getEventRenderings",
    summary: "One recorded event as each subscription format would send it: native, CloudEvents (structured) and Auth0.",
    tag: "events",
    access: "read",
    query: Type.Object({ subscription_id: Type.Optional(Q.text) }),
    responses: { 200: { description: "The renderings. Auth0's ids derive from `subscription_id` (default `preview`).", schema: Renderings } },
    async handle({ bus, params, query }) {
      const e = (await bus.getEvent(params.id!)) as Envelope | undefined;
      if (!e) throw new NotFoundError("event", params.id!);
      const native = renderNative(e);
      const ce = renderCloudEventsStructured(e);
      const a0 = renderAuth0(e, { streamId: query.subscription_id ?? "preview" });
      return json({
        native: { content_type: native.contentType, body: JSON.parse(native.body) as unknown, skipped: null },
        cloudevents: { content_type: ce.headers["content-type"], body: JSON.parse(ce.body) as unknown, skipped: null },
        auth0: a0.ok ? { content_type: a0.headers["content-type"], body: JSON.parse(a0.body) as unknown, skipped: null } : { content_type: null, body: null, skipped: a0.reason },
      });
    },
  },
]);
