/** One event: its envelope, each rendering a subscription could receive, and its deliveries. */
import { useState } from "react";
import { api, allPages, type Delivery, type Envelope, type Subscription } from "../api.js";
import { ErrorText, Json, Loading, Time, useLoad } from "../ui.js";
import { DeliveryTable } from "./DeliveryTable.js";

interface Rendering {
  content_type: string | null;
  body: unknown;
  skipped: string | null;
}
type Renderings = Record<"native" | "cloudevents" | "auth0", Rendering>;
const TABS = [
  ["native", "Native (the envelope)"],
  ["cloudevents", "CloudEvents"],
  ["auth0", "Auth0"],
] as const;

export function EventDetail({ id }: { id: string }) {
  const path = encodeURIComponent(id);
  const event = useLoad((signal) => api<Envelope>(`/v1/events/${path}`, { signal }), [id]);
  const renderings = useLoad((signal) => api<Renderings>(`/v1/events/${path}/renderings`, { signal }), [id]);
  const deliveries = useLoad(
    async (signal) => {
      const [d, subs] = await Promise.all([allPages<Delivery>(`/v1/deliveries?event_id=${path}`, 1000, signal), allPages<Subscription>("/v1/subscriptions", 1000, signal)]);
      return { deliveries: d.data, subs: new Map(subs.data.map((s) => [s.id, s])) };
    },
    [id],
  );
  const [tab, setTab] = useState<(typeof TABS)[number][0]>("native");

  if (event.error) return <ErrorText error={event.error} />;
  if (!event.data) return <Loading what="the event" />;
  const e = event.data;
  const r = renderings.data?.[tab];
  return (
    <section aria-labelledby="event-title">
      <p>
        <a href="#/events">← Events</a>
      </p>
      <h1 id="event-title" className="mono">
        {e.type}
      </h1>
      <dl className="facts">
        <dt>Id</dt>
        <dd className="mono">{e.id}</dd>
        <dt>Seq</dt>
        <dd className="mono">{e.seq}</dd>
        <dt>Recorded</dt>
        <dd>
          <Time value={e.context.timestamp} />
        </dd>
        <dt>User</dt>
        <dd className="mono">{e.context.user_id ?? "none"}</dd>
      </dl>

      <h2>Deliveries</h2>
      <ErrorText error={deliveries.error} />
      {!deliveries.data && !deliveries.error && <Loading what="deliveries" />}
      {deliveries.data && deliveries.data.deliveries.length === 0 && <p className="muted">No subscription received this event.</p>}
      {deliveries.data && deliveries.data.deliveries.length > 0 && <DeliveryTable deliveries={deliveries.data.deliveries} subs={deliveries.data.subs} onChange={deliveries.reload} show="subscription" />}

      <h2>Renderings</h2>
      <div role="tablist" aria-label="Renderings" className="tabs">
        {TABS.map(([k, label]) => (
          <button key={k} type="button" role="tab" id={`tab-${k}`} aria-selected={tab === k} aria-controls="rendering-panel" onClick={() => setTab(k)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="rendering-panel" aria-labelledby={`tab-${tab}`} className="panel">
        <ErrorText error={renderings.error} />
        {!renderings.data && !renderings.error && <Loading what="renderings" />}
        {r && r.skipped !== null && <p className="muted">A subscription in this format skips this event: {r.skipped}</p>}
        {r && r.skipped === null && (
          <>
            <p className="muted">
              <code>content-type: {r.content_type}</code>
            </p>
            <Json value={r.body} label={`${tab} rendering`} />
          </>
        )}
      </div>

    </section>
  );
}
