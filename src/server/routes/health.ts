/** Liveness, readiness, metrics, the OpenAPI document and the dashboard's place. */
import { Type } from "@sinclair/typebox";
import { BusClosedError } from "../../core/errors.js";
import { defineRoutes, json, type RouteDef } from "../route-table.js";
import { Status } from "../schemas.js";
import { dashboardIndex } from "../dashboard.js";
import type { Metrics } from "../metrics.js";

export interface HealthDeps {
  metrics: Metrics;
  openapi: () => unknown;
  /** True once shutdown began: not ready for new work. */
  closing: () => boolean;
}

export function healthRoutes(d: HealthDeps): RouteDef[] {
  return defineRoutes([
    {
      method: "GET",
      path: "/healthz",
      operationId: "health",
      summary: "The process is up.",
      tag: "operations",
      access: "public",
      responses: { 200: { description: "Up.", schema: Status } },
      handle: () => json({ status: "ok" }),
    },
    {
      method: "GET",
      path: "/readyz",
      operationId: "ready",
      summary: "The database is reachable and the server is not shutting down.",
      tag: "operations",
      access: "public",
      responses: { 200: { description: "Ready.", schema: Status }, 503: { description: "Not ready (problem+json `store_failed` or `bus_closed`)." } },
      async handle({ runtime }) {
        if (d.closing() || runtime.closed) throw new BusClosedError();
        await runtime.ping();
        return json({ status: "ready" });
      },
    },
    {
      method: "GET",
      path: "/metrics",
      operationId: "metrics",
      summary: "Prometheus metrics (names prefixed authbus_). Needs `Authorization: Bearer <AUTHBUS_METRICS_KEY>` when that is set.",
      tag: "operations",
      access: "metrics",
      responses: { 200: { description: "Prometheus text format.", contentType: "text/plain", schema: Type.String() } },
      async handle() {
        return new Response(await d.metrics.render(), { status: 200, headers: { "content-type": d.metrics.contentType } });
      },
    },
    {
      method: "GET",
      path: "/openapi.json",
      operationId: "openapi",
      summary: "This document (OpenAPI 3.1).",
      tag: "operations",
      access: "public",
      responses: { 200: { description: "OpenAPI 3.1 document.", schema: Type.Object({}, { additionalProperties: true }) } },
      handle: () => json(d.openapi()),
    },
    {
      method: "GET",
      path: "/",
      operationId: "dashboard",
      summary: "The dashboard: sign in with an API key to see events, subscriptions, deliveries, hooks and the catalog. 503 when it was not built.",
      tag: "operations",
      access: "public",
      responses: { 200: { description: "HTML.", contentType: "text/html", schema: Type.String() }, 503: { description: "HTML saying how to build the dashboard.", contentType: "text/html", schema: Type.String() } },
      handle: () => dashboardIndex(),
    },
  ]);
}
