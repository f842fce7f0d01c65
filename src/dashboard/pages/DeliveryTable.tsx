/** Deliveries with every attempt (status, latency, error, first bytes of the answer) and a retry button. */
import { useState } from "react";
import { api, type Delivery, type Subscription } from "../api.js";
import { Badge, ErrorText, ms, statusClass, Time } from "../ui.js";

export function DeliveryTable({ deliveries, subs, onChange, show }: { deliveries: Delivery[]; subs?: Map<string, Subscription>; onChange: () => void; show: "subscription" | "event" }) {
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  async function retry(id: string) {
    setBusy(id);
    setError(undefined);
    try {
      await api(`/v1/deliveries/${encodeURIComponent(id)}/retry`, { method: "POST" });
      onChange();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(undefined);
    }
  }
  return (
    <>
      <ErrorText error={error} />
      <ul className="deliveries" data-testid="deliveries">
        {deliveries.map((d) => {
          const last = d.attempts[d.attempts.length - 1];
          const sub = subs?.get(d.subscription_id);
          return (
            <li key={d.id} className="delivery panel" data-state={d.state} data-seq={d.seq} data-delivery-id={d.id}>
              <div className="delivery-head">
                <Badge state={d.state} />
                {show === "subscription" ? (
                  <a href={`#/subscriptions/${encodeURIComponent(d.subscription_id)}`}>{sub?.name ?? d.subscription_id}</a>
                ) : (
                  <a href={`#/events/${encodeURIComponent(d.event_id)}`} className="mono">
                    event seq {d.seq}
                  </a>
                )}
                <span className="muted">
                  {d.attempts.length} attempt{d.attempts.length === 1 ? "" : "s"}
                  {last ? `, last ${last.status_code ?? "no answer"}` : ""}
                </span>
                {d.next_attempt_at && d.state === "pending" && (
                  <span className="muted">
                    next <Time value={d.next_attempt_at} />
                  </span>
                )}
                {(d.state === "dead" || d.state === "delivered") && (
                  <button type="button" className="small" onClick={() => void retry(d.id)} disabled={busy === d.id} aria-label={`Retry delivery of seq ${d.seq}${sub ? ` to ${sub.name}` : ""}`}>
                    {busy === d.id ? "Retrying…" : "Retry"}
                  </button>
                )}
              </div>
              {(d.reason || d.flagged) && (
                <p className="muted small-text">
                  {d.reason}
                  {d.flagged ? ` (flagged: ${d.flagged})` : ""}
                </p>
              )}
              {d.attempts.length > 0 && (
                <div className="table-wrap">
                  <table className="attempts">
                    <thead>
                      <tr>
                        <th scope="col">#</th>
                        <th scope="col">At</th>
                        <th scope="col">Status</th>
                        <th scope="col">Latency</th>
                        <th scope="col">Error / response</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.attempts.map((a, i) => (
                        <tr key={i}>
                          <td>{i + 1}</td>
                          <td>
                            <Time value={a.at} />
                          </td>
                          <td>
                            <span className={`badge ${statusClass(a.status_code)}`} data-testid="attempt-status">
                              {a.status_code ?? "no answer"}
                            </span>
                          </td>
                          <td>{ms(a.latency_ms)}</td>
                          <td className="mono wrap">
                            {a.error && <span className="error-text">{a.error}</span>}
                            {a.error && a.response_head ? " · " : ""}
                            {a.response_head && <span title="First bytes of the response">{a.response_head}</span>}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}
