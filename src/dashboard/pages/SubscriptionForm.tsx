/** Create or edit a subscription: name, filter, URL, rendering, ordering and retry schedule. */
import { useEffect, useState, type FormEvent } from "react";
import { api, type Subscription } from "../api.js";
import { navigate } from "../router.js";
import { ErrorText, Loading } from "../ui.js";

const FORMATS = [
  ["native", "Native (the envelope)"],
  ["cloudevents", "CloudEvents, structured"],
  ["cloudevents-binary", "CloudEvents, binary"],
  ["auth0", "Auth0 event streams"],
] as const;
const ORDERINGS = [
  ["none", "None (parallel)"],
  ["subject", "Per user"],
  ["seq", "Strict seq order"],
] as const;

const list = (s: string): string[] =>
  s
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function SubscriptionForm({ id }: { id?: string }) {
  const [initial, setInitial] = useState<Subscription | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<{ id: string; secret: string } | undefined>();
  const [form, setForm] = useState({ name: "", filter: "user.*", url: "", format: "native", ordering: "none", retry: "" });

  useEffect(() => {
    if (!id) return;
    api<Subscription>(`/v1/subscriptions/${encodeURIComponent(id)}`).then((s) => {
      setInitial(s);
      setForm({ name: s.name, filter: s.filter.join(", "), url: s.destination.type === "webhook" ? s.destination.url : "", format: s.format, ordering: s.ordering, retry: s.retry_schedule.join(", ") });
    }, setError);
  }, [id]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const retry = list(form.retry).map(Number);
    const body: Record<string, unknown> = { name: form.name.trim(), filter: list(form.filter), format: form.format, ordering: form.ordering };
    if (!initial || initial.destination.type === "webhook") body.destination = { type: "webhook", url: form.url.trim(), ...(initial?.destination.type === "webhook" && initial.destination.headers ? { headers: initial.destination.headers } : {}) };
    if (retry.length > 0) body.retry_schedule = retry;
    try {
      if (id) {
        await api(`/v1/subscriptions/${encodeURIComponent(id)}`, { method: "PATCH", body });
        navigate(`/subscriptions/${id}`);
      } else {
        const created = await api<Subscription & { secret: string }>("/v1/subscriptions", { method: "POST", body });
        setSecret({ id: created.id, secret: created.secret });
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (secret) {
    return (
      <section className="panel" aria-labelledby="created-title">
        <h1 id="created-title">Subscription created</h1>
        <p>Receivers verify each request with this signing secret (Standard Webhooks). It is also shown on the subscription's page to admin keys.</p>
        <p>
          <code className="secret" data-testid="new-secret">
            {secret.secret}
          </code>
        </p>
        <a className="button" href={`#/subscriptions/${encodeURIComponent(secret.id)}`}>
          Open the subscription
        </a>
      </section>
    );
  }
  if (id && !initial && !error) return <Loading what="the subscription" />;
  const field = (k: keyof typeof form) => ({ value: form[k], onChange: (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value }) });
  return (
    <section aria-labelledby="form-title">
      <p>
        <a href={id ? `#/subscriptions/${encodeURIComponent(id)}` : "#/subscriptions"}>← Back</a>
      </p>
      <h1 id="form-title">{id ? `Edit ${initial?.name ?? "subscription"}` : "New subscription"}</h1>
      <form className="panel form" onSubmit={submit}>
        <label htmlFor="s-name">Name</label>
        <input id="s-name" required maxLength={200} {...field("name")} />
        <label htmlFor="s-filter">Event types</label>
        <input id="s-filter" required aria-describedby="s-filter-hint" {...field("filter")} />
        <p className="hint" id="s-filter-hint">
          Type patterns, comma-separated: <code>user.created</code>, <code>user.*</code>, <code>authentication.**</code>. See the <a href="#/catalog">catalog</a>.
        </p>
        {(!initial || initial.destination.type === "webhook") && (
          <>
            <label htmlFor="s-url">Webhook URL</label>
            <input id="s-url" type="url" required placeholder="https://example.com/hooks/authbus" {...field("url")} />
          </>
        )}
        <label htmlFor="s-format">Rendering</label>
        <select id="s-format" {...field("format")}>
          {FORMATS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
        <label htmlFor="s-ordering">Ordering</label>
        <select id="s-ordering" {...field("ordering")}>
          {ORDERINGS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
        <label htmlFor="s-retry">Retry schedule (seconds before each attempt)</label>
        <input id="s-retry" inputMode="numeric" aria-describedby="s-retry-hint" {...field("retry")} />
        <p className="hint" id="s-retry-hint">
          Comma-separated; empty keeps the default (0, 5, 300, 1800, 7200, 18000, 36000, 36000). <code>0</code> alone: one attempt, then dead.
        </p>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : id ? "Save" : "Create subscription"}
        </button>
      </form>
    </section>
  );
}
