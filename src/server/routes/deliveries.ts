/** The delivery log: every delivery with its attempts; one delivery retried on demand. */
import { Type } from "@sinclair/typebox";
import { NotFoundError } from "../../core/errors.js";
import type { DeliveryState } from "../../core/ports/deliveries.js";
import { defineRoutes, json } from "../route-table.js";
import { limitOf } from "../paging.js";
import { Delivery, Q, page } from "../schemas.js";

export const deliveryRoutes = defineRoutes([
  {
    method: "GET",
    path: "/v1/deliveries",
    operationId: "listDeliveries",
    summary: "Deliveries in creation order, with every attempt.",
    tag: "deliveries",
    access: "read",
    query: Type.Object({
      subscription_id: Type.Optional(Q.text),
      event_id: Type.Optional(Q.text),
      state: Type.Optional(Type.Union(["pending", "delivered", "dead", "skipped"].map((s) => Type.Literal(s)))),
      limit: Type.Optional(Q.limit),
      cursor: Type.Optional(Q.cursor),
    }),
    responses: { 200: { description: "A page of deliveries.", schema: page(Delivery) } },
    async handle({ bus, query }) {
      return json(
        await bus.deliveries.query({
          subscription_id: query.subscription_id,
          event_id: query.event_id,
          state: query.state as DeliveryState | undefined,
          cursor: query.cursor,
          limit: limitOf(query),
        }),
      );
    },
  },
  {
    method: "GET",
    path: "/v1/deliveries/{id}",
    operationId: "getDelivery",
    summary: "One delivery with its attempts.",
    tag: "deliveries",
    access: "read",
    responses: { 200: { description: "The delivery.", schema: Delivery } },
    async handle({ bus, params }) {
      const d = await bus.deliveries.get(params.id!);
      if (!d) throw new NotFoundError("delivery", params.id!);
      return json(d);
    },
  },
  {
    method: "POST",
    path: "/v1/deliveries/{id}/retry",
    operationId: "retryDelivery",
    summary: "Send a dead (or delivered) delivery again, now.",
    tag: "deliveries",
    access: "admin",
    responses: { 202: { description: "Pending again.", schema: Delivery } },
    async handle({ bus, params }) {
      return json(await bus.deliveries.retry(params.id!), 202);
    },
  },
]);
