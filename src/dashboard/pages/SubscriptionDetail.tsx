/** One subscription: health, chart, every operator action, and its recent deliveries. */
import { useRef, useState, type FormEvent } from "react";
import { api, qs, type Delivery, type Health, type Page, type Subscription } from "../api.js";
import { navigate } from "../router.js";
import { Badge, DeliveryChart, ErrorText, Loading, useInterval, useLoad } from "../ui.js";
import { DeliveryTable } from "./DeliveryTable.js";
import { destinationOf, HealthFacts, loadView } from "./Subscriptions.js";

const RECENT = 50;
const MAX_PAGES = 50;

/**
 * The newest deliveries of a subscription. The log pages oldest first, so this reads pages from
 * `from` to the end and keeps the last two (enough for RECENT); `tail` is where they start.
 */
async function newestDeliveries(id: string, from: string | undefined, signal: AbortSignal) {
  let cursor = from;
  let prev: { cursor: string | undefined; data: Delivery[] } | undefined;
  let last: { cursor: string | undefined; data: Delivery[] } | undefined;
  for (let n = 0; ; n++) {
    const page = await api<Page<Delivery>>(`/v1/deliveries${qs({ subscription_id: id, cursor, limit: 1000 })}`, { signal });
    prev = last;
    last = { cursor, data: page.data };
    if (!page.next_cursor) return { data: [...(prev?.data ?? []), ...last.data].slice(-RECENT).reverse(), tail: (prev ?? last).cursor, truncated: false };
    // A very long log: show what was read and go on from there at the next refresh.
    if (n + 1 >= MAX_PAGES) return { data: last.data.slice(-RECENT).reverse(), tail: page.next_cursor, truncated: true };
    cursor = page.next_cursor;
  }
}

interface Replay {
  queued: number;
  baseline: number;
  done: number;
  finished: boolean;
  note?: string;
}

export function SubscriptionDetail({ id }: { id: string }) {
  const path = `/v1/subscriptions/${encodeURIComponent(id)}`;
  const view = useLoad(async (signal) => loadView(await api<Subscription>(path, { signal }), signal), [id]);
  // Where the newest deliveries start: the first load walks the log, refreshes read from here on.
  const tail = useRef<{ id: string; cursor: string | undefined }>({ id, cursor: undefined });
  const deliveries = useLoad(
    async (signal) => {
      if (tail.current.id !== id) tail.current = { id, cursor: undefined };
      const r = await newestDeliveries(id, tail.current.cursor, signal);
      tail.current.cursor = r.tail;
      return r;
    },
    [id],
  );
  const [message, setMessage] = useState<{ text: string; error?: unknown } | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [replay, setReplay] = useState<Replay | undefined>();
  const [replayFrom, setReplayFrom] = useState<{ mode: "seq" | "time"; seq: string; since: string }>({ mode: "seq", seq: "1", since: "" });

  const refresh = () => {
    view.reload();
    deliveries.reload();
  };
  useInterval(refresh, replay && !replay.finished ? null : 5000);
  useInterval(
    async () => {
      if (!replay || replay.finished) return;
      const h = await api<Health>(`${path}/health`).catch(() => undefined);
      if (!h) return;
      const remaining = Math.min(replay.queued, Math.max(0, h.backlog - replay.baseline));
      const finished = remaining === 0;
      const note = !finished && h.state !== "enabled" ? `the subscription is ${h.state}: the replayed deliveries wait until it is resumed` : undefined;
      setReplay({ ...replay, done: replay.queued - remaining, finished, note });
      if (finished) refresh();
    },
    replay && !replay.finished ? 500 : null,
  );

  async function act(name: string, f: () => Promise<string>) {
    setBusy(name);
    setMessage(undefined);
    try {
      setMessage({ text: await f() });
      refresh();
    } catch (error) {
      setMessage({ text: `${name} failed`, error });
    } finally {
      setBusy(undefined);
    }
  }

  async function startReplay(e: FormEvent) {
    e.preventDefault();
    await act("Replay", async () => {
      const body = replayFrom.mode === "seq" ? { from_seq: Number(replayFrom.seq) } : { since: Math.floor(new Date(replayFrom.since).getTime() / 1000) };
      const before = await api<Health>(`${path}/health`);
      const { queued } = await api<{ queued: number }>(`${path}/replay`, { method: "POST", body });
      if (queued === 0) {
        setReplay(undefined);
        return "Nothing to replay: no recorded event in that range matches this subscription.";
      }
      setReplay({ queued, baseline: before.backlog, done: 0, finished: false });
      return `Replaying ${queued} event${queued === 1 ? "" : "s"}.`;
    });
  }

  if (view.error && !view.data) return <ErrorText error={view.error} />;
  if (!view.data) return <Loading what="the subscription" />;
  const v = view.data;
  const s = v.sub;
  return (
    <section aria-labelledby="sub-title">
      <p>
        <a href="#/subscriptions">← Subscriptions</a>
      </p>
      <div className="title-row">
        <h1 id="sub-title">{s.name}</h1>
        <Badge state={s.state} />
      </div>
      {s.disabled_reason && <p className="warn">Disabled: {s.disabled_reason}</p>}
      <dl className="facts">
        <dt>Id</dt>
        <dd className="mono">{s.id}</dd>
        <dt>Destination</dt>
        <dd className="mono wrap">{destinationOf(s)}</dd>
        <dt>Event types</dt>
        <dd className="mono">{s.filter.join(", ")}</dd>
        <dt>Rendering</dt>
        <dd>{s.format}</dd>
        <dt>Ordering</dt>
        <dd>{s.ordering}</dd>
        <dt>Retry schedule</dt>
        <dd className="mono">{s.retry_schedule.join(", ")} s</dd>
      </dl>

      <h2>Health</h2>
      <div className="panel">
        <HealthFacts v={v} />
        {v.stats && <DeliveryChart buckets={v.stats.buckets} label="Deliveries over the last hour" />}
      </div>

      <h2>Actions</h2>
      <div className="actions">
        <a className="button secondary" href={`#/subscriptions/${encodeURIComponent(id)}/edit`}>
          Edit
        </a>
        {s.state === "enabled" ? (
          <button type="button" className="secondary" disabled={!!busy} onClick={() => act("Pause", async () => (await api(`${path}/pause`, { method: "POST" }), "Paused: events keep queueing for it."))}>
            Pause
          </button>
        ) : (
          <button type="button" className="secondary" disabled={!!busy} onClick={() => act("Resume", async () => (await api(`${path}/resume`, { method: "POST" }), "Resumed: waiting deliveries go out now."))}>
            Resume
          </button>
        )}
        <button
          type="button"
          className="secondary"
          disabled={!!busy}
          onClick={() =>
            act("Send test event", async () => {
              const r = await api<{ event_id: string; status_code: number | null; latency_ms: number; error?: string; response_head?: string }>(`${path}/test`, { method: "POST" });
              return `Test event: ${r.status_code === null ? "no answer" : `HTTP ${r.status_code}`} in ${Math.round(r.latency_ms)} ms${r.error ? `, ${r.error}` : ""}${r.response_head ? `, answered “${r.response_head.slice(0, 80)}”` : ""}.`;
            })
          }
        >
          Send test event
        </button>
        <button type="button" className="secondary" disabled={!!busy} onClick={() => act("Retry all dead", async () => `Retrying ${(await api<{ queued: number }>(`${path}/retry-dead`, { method: "POST" })).queued} dead deliveries.`)}>
          Retry all dead
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!!busy}
          onClick={() => act("Rotate secret", async () => `New secret: ${(await api<{ secret: string }>(`${path}/rotate-secret`, { method: "POST" })).secret} (the old one keeps signing for 24 hours).`)}
        >
          Rotate secret
        </button>
        <button
          type="button"
          className="danger"
          disabled={!!busy}
          onClick={() => {
            if (!window.confirm(`Delete subscription “${s.name}” and its delivery log?`)) return;
            void act("Delete", async () => {
              await api(path, { method: "DELETE" });
              navigate("/subscriptions");
              return "Deleted.";
            });
          }}
        >
          Delete
        </button>
      </div>
      {message && (
        <div className="panel" role="status" data-testid="action-message">
          {message.error ? <ErrorText error={message.error} /> : <p className="wrap">{message.text}</p>}
        </div>
      )}

      <h2>Replay</h2>
      <form className="panel form replay" onSubmit={startReplay} aria-label="Replay">
        <fieldset>
          <legend>Send recorded events again, from</legend>
          <label className="inline">
            <input type="radio" name="replay-mode" checked={replayFrom.mode === "seq"} onChange={() => setReplayFrom({ ...replayFrom, mode: "seq" })} /> a seq
          </label>
          <label className="inline">
            <input type="radio" name="replay-mode" checked={replayFrom.mode === "time"} onChange={() => setReplayFrom({ ...replayFrom, mode: "time" })} /> a time
          </label>
        </fieldset>
        {replayFrom.mode === "seq" ? (
          <>
            <label htmlFor="r-seq">From seq (inclusive)</label>
            <input id="r-seq" type="number" min={1} required value={replayFrom.seq} onChange={(e) => setReplayFrom({ ...replayFrom, seq: e.target.value })} />
          </>
        ) : (
          <>
            <label htmlFor="r-since">From time</label>
            <input id="r-since" type="datetime-local" required value={replayFrom.since} onChange={(e) => setReplayFrom({ ...replayFrom, since: e.target.value })} />
          </>
        )}
        <button type="submit" disabled={!!busy || (replay !== undefined && !replay.finished)}>
          Replay
        </button>
        {replay && (
          <div className="progress" data-testid="replay-progress" aria-live="polite">
            <progress max={replay.queued} value={replay.done} aria-label="Replay progress" />
            <span>
              {replay.finished ? `Replay complete: ${replay.queued} of ${replay.queued} delivered or settled.` : `${replay.done} of ${replay.queued} done`}
              {replay.note ? ` (${replay.note})` : ""}
            </span>
          </div>
        )}
      </form>

      <h2>Recent deliveries</h2>
      <p className="muted">
        The newest {RECENT}; all of them on the <a href={`#/deliveries?subscription_id=${encodeURIComponent(id)}`}>deliveries page</a>.
      </p>
      <ErrorText error={deliveries.error} />
      {!deliveries.data && !deliveries.error && <Loading what="deliveries" />}
      {deliveries.data?.truncated && <p className="muted">A long delivery log: still reading towards the newest deliveries (the deliveries page pages through all of them).</p>}
      {deliveries.data && deliveries.data.data.length === 0 && <p className="muted">No deliveries yet.</p>}
      {deliveries.data && deliveries.data.data.length > 0 && <DeliveryTable deliveries={deliveries.data.data} onChange={refresh} show="event" />}
    </section>
  );
}
