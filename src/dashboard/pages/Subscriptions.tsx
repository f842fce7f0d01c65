/** Every subscription with its health at a glance and a chart of the last hour. */
import { api, allPages, type Health, type Stats, type Subscription } from "../api.js";
import { Badge, DeliveryChart, duration, ErrorText, Loading, ms, pct, Time, useInterval, useLoad } from "../ui.js";

export interface SubscriptionView {
  sub: Subscription;
  health?: Health;
  stats?: Stats;
  error?: unknown;
}

export async function loadView(sub: Subscription, signal?: AbortSignal): Promise<SubscriptionView> {
  const id = encodeURIComponent(sub.id);
  try {
    const [health, stats] = await Promise.all([api<Health>(`/v1/subscriptions/${id}/health`, { signal }), api<Stats>(`/v1/subscriptions/${id}/stats?window=1h`, { signal })]);
    return { sub, health, stats };
  } catch (error) {
    return { sub, error };
  }
}

export const destinationOf = (s: Subscription): string => (s.destination.type === "webhook" ? s.destination.url : `nats: ${s.destination.subject}`);

export function HealthFacts({ v }: { v: SubscriptionView }) {
  const h = v.health;
  const st = v.stats;
  if (v.error) return <ErrorText error={v.error} />;
  if (!h || !st) return <Loading what="health" />;
  return (
    <dl className="facts compact">
      <dt>Success (1 h)</dt>
      <dd data-testid="success-rate">
        {pct(st.success_rate)} <span className="muted">of {st.attempts}</span>
      </dd>
      <dt>Backlog</dt>
      <dd data-testid="backlog">{h.backlog}</dd>
      <dt>Lag</dt>
      <dd>{duration(h.lag_seconds)}</dd>
      <dt>Latency</dt>
      <dd>
        {ms(st.avg_latency_ms)} <span className="muted">p95 {ms(st.p95_latency_ms)}</span>
      </dd>
      <dt>Last error</dt>
      <dd className="wrap" data-testid="last-error">
        {h.last_error ? <span className="error-text">{h.last_error}</span> : <span className="muted">none</span>}
        {h.last_error && h.last_failure_at && (
          <span className="muted">
            {" "}
            at <Time value={h.last_failure_at} />
          </span>
        )}
        {h.consecutive_failures > 0 ? <strong className="warn"> ({h.consecutive_failures} failing in a row)</strong> : h.last_error ? <span className="muted"> (succeeded since)</span> : null}
      </dd>
    </dl>
  );
}

export function SubscriptionsPage() {
  const list = useLoad(async (signal) => {
    const { data } = await allPages<Subscription>("/v1/subscriptions", 1000, signal);
    return Promise.all(data.map((s) => loadView(s, signal)));
  }, []);
  useInterval(list.reload, 10_000);
  return (
    <section aria-labelledby="subs-title">
      <div className="title-row">
        <h1 id="subs-title">Subscriptions</h1>
        <a className="button" href="#/subscriptions/new">
          New subscription
        </a>
      </div>
      <ErrorText error={list.error} />
      {!list.data && !list.error && <Loading what="subscriptions" />}
      {list.data && list.data.length === 0 && (
        <p className="muted">
          No subscriptions yet. <a href="#/subscriptions/new">Create one</a> to send events to a webhook.
        </p>
      )}
      <ul className="cards">
        {list.data?.map((v) => (
          <li key={v.sub.id} className="panel card" data-testid="subscription-card">
            <div className="card-head">
              <h2>
                <a href={`#/subscriptions/${encodeURIComponent(v.sub.id)}`}>{v.sub.name}</a>
              </h2>
              <Badge state={v.sub.state} />
            </div>
            <p className="mono muted wrap">{destinationOf(v.sub)}</p>
            <p className="mono small-text">{v.sub.filter.join(", ")}</p>
            <HealthFacts v={v} />
            {v.stats && <DeliveryChart buckets={v.stats.buckets} label={`Deliveries of ${v.sub.name} over the last hour`} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
