/** The delivery log, by subscription and state (per event: the event's page). */
import { useState, type FormEvent } from "react";
import { api, allPages, qs, type Delivery, type Page, type Subscription } from "../api.js";
import { navigate } from "../router.js";
import { ErrorText, Loading, useInterval, useLoad } from "../ui.js";
import { DeliveryTable } from "./DeliveryTable.js";

export function DeliveriesPage({ query }: { query: URLSearchParams }) {
  const sub = query.get("subscription_id") ?? "";
  const state = query.get("state") ?? "";
  const [cursor, setCursor] = useState<string | undefined>();
  const subs = useLoad((signal) => allPages<Subscription>("/v1/subscriptions", 1000, signal), []);
  const page = useLoad((signal) => api<Page<Delivery>>(`/v1/deliveries${qs({ subscription_id: sub, state, cursor, limit: 50 })}`, { signal }), [sub, state, cursor]);
  useInterval(page.reload, 5000);
  const map = new Map((subs.data?.data ?? []).map((s) => [s.id, s]));
  function apply(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setCursor(undefined);
    navigate("/deliveries", { subscription_id: String(f.get("subscription_id") ?? ""), state: String(f.get("state") ?? "") });
  }
  return (
    <section aria-labelledby="deliveries-title">
      <h1 id="deliveries-title">Deliveries</h1>
      <form className="filters" onSubmit={apply} aria-label="Filter deliveries" key={`${sub}|${state}`}>
        <div>
          <label htmlFor="d-sub">Subscription</label>
          <select id="d-sub" name="subscription_id" defaultValue={sub}>
            <option value="">All</option>
            {subs.data?.data.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="d-state">State</label>
          <select id="d-state" name="state" defaultValue={state}>
            <option value="">Any</option>
            {["pending", "delivered", "dead", "skipped"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="filter-actions">
          <button type="submit">Apply</button>
        </div>
      </form>
      <p className="muted">Oldest first, 50 per page; refreshed every 5 seconds.</p>
      <ErrorText error={page.error} />
      {!page.data && !page.error && <Loading what="deliveries" />}
      {page.data && page.data.data.length === 0 && <p className="muted">No deliveries.</p>}
      {page.data && page.data.data.length > 0 && <DeliveryTable deliveries={page.data.data} subs={map} onChange={page.reload} show="subscription" />}
      <p>
        {cursor && (
          <button type="button" className="secondary" onClick={() => setCursor(undefined)}>
            First page
          </button>
        )}{" "}
        {page.data?.next_cursor && (
          <button type="button" className="secondary" onClick={() => setCursor(page.data!.next_cursor!)}>
            Next page
          </button>
        )}
      </p>
    </section>
  );
}
