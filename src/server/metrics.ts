/**
 * Prometheus metrics, on a registry of this server's own (no global state: two servers in one
 * process, as in tests, do not mix). Counters are fed by the runtime's observer; backlog and lag
 * are read from the database at scrape time, so they are right for every process on it.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Runtime } from "../runtime.js";

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  render(): Promise<string>;
  request(method: string, route: string, status: number, seconds: number): void;
  close(): void;
}

export function createMetrics(runtime: Runtime): Metrics {
  const registry = new Registry();
  const events = new Counter({ name: "authbus_events_recorded_total", help: "Events recorded by this process.", labelNames: ["app"], registers: [registry] });
  const deliveries = new Counter({
    name: "authbus_deliveries_total",
    help: "Delivery attempts by outcome: delivered, retry (failed, will be tried again) or dead (failed, schedule exhausted).",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "authbus_delivery_latency_seconds",
    help: "Webhook attempt latency, request to response head.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const decisions = new Counter({ name: "authbus_hook_decisions_total", help: "Blocking hook evaluations by type and decision.", labelNames: ["type", "decision"], registers: [registry] });
  const requests = new Counter({ name: "authbus_http_requests_total", help: "HTTP requests by method, route and status.", labelNames: ["method", "route", "status"], registers: [registry] });
  const requestSeconds = new Histogram({ name: "authbus_http_request_duration_seconds", help: "HTTP request duration.", labelNames: ["route"], registers: [registry] });

  // Backlog and lag come from one read of the database per scrape, shared by both gauges.
  let health: ReturnType<Runtime["subscriptionHealth"]> | undefined;
  const healthOnce = () => health ?? runtime.subscriptionHealth();
  new Gauge({
    name: "authbus_subscription_backlog",
    help: "Deliveries pending per subscription.",
    labelNames: ["app", "subscription"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { subscription: s, health: h } of await healthOnce()) this.set({ app: s.app_id, subscription: s.id }, h.backlog);
    },
  });
  new Gauge({
    name: "authbus_subscription_lag_seconds",
    help: "Age of the oldest pending delivery per subscription (0 when none).",
    labelNames: ["app", "subscription"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { subscription: s, health: h } of await healthOnce()) this.set({ app: s.app_id, subscription: s.id }, h.lag_seconds);
    },
  });

  const stop = runtime.observe({
    recorded: (app, n) => events.inc({ app }, n),
    delivered(info) {
      deliveries.inc({ outcome: info.state === "pending" ? "retry" : info.state });
      if (info.status_code !== null || info.latency_ms > 0) latency.observe(info.latency_ms / 1000);
    },
    decided: (_app, type, decision) => decisions.inc({ type, decision }),
  });

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      health = runtime.subscriptionHealth();
      try {
        return await registry.metrics();
      } finally {
        health = undefined;
      }
    },
    request(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      requestSeconds.observe({ route }, seconds);
    },
    close: stop as () => void,
  };
}
