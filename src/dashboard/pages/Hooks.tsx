/** Registered hooks and the decision ledger: allow/deny counts, latency, shadow disagreements. */
import { allPages, type Decision, type Hook, type HookAnswer } from "../api.js";
import { Badge, ErrorText, Loading, ms, Time, useInterval, useLoad } from "../ui.js";

const RECENT = 50;

/** What a shadow hook would have decided had it been enforced (an error counts as its fail mode). */
const wouldDecide = (h: HookAnswer): "allow" | "deny" => (h.outcome === "error" ? (h.fail_open ? "allow" : "deny") : h.outcome);
const disagreements = (d: Decision): HookAnswer[] => d.hooks.filter((h) => h.shadow && wouldDecide(h) !== d.decision);

function summarize(decisions: Decision[]) {
  const lat = decisions.map((d) => d.latency_ms).sort((a, b) => a - b);
  return {
    allow: decisions.filter((d) => d.decision === "allow").length,
    deny: decisions.filter((d) => d.decision === "deny").length,
    errors: decisions.filter((d) => d.hooks.some((h) => h.outcome === "error")).length,
    disagree: decisions.filter((d) => disagreements(d).length > 0).length,
    avg: lat.length ? lat.reduce((s, x) => s + x, 0) / lat.length : null,
    p95: lat.length ? lat[Math.min(lat.length - 1, Math.ceil(lat.length * 0.95) - 1)]! : null,
  };
}

export function HooksPage() {
  const hooks = useLoad((signal) => allPages<Hook>("/v1/hooks", 1000, signal), []);
  const ledger = useLoad((signal) => allPages<Decision>("/v1/decisions", 10_000, signal), []);
  useInterval(ledger.reload, 5000);
  const all = ledger.data?.data ?? [];
  const sum = summarize(all);
  const recent = all.slice(-RECENT).reverse();
  return (
    <section aria-labelledby="hooks-title">
      <h1 id="hooks-title">Hooks</h1>
      <h2>Registered HTTP hooks</h2>
      <p className="muted">Hooks registered in code (in-process) appear in the ledger only.</p>
      <ErrorText error={hooks.error} />
      {!hooks.data && !hooks.error && <Loading what="hooks" />}
      {hooks.data && hooks.data.data.length === 0 && <p className="muted">No HTTP hooks registered (POST /v1/hooks).</p>}
      {hooks.data && hooks.data.data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">URL</th>
                <th scope="col">Mode</th>
                <th scope="col">Timeout</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {hooks.data.data.map((h) => (
                <tr key={h.id}>
                  <td className="mono">{h.type}</td>
                  <td className="mono wrap">{h.url}</td>
                  <td>
                    {h.shadow ? <Badge state="shadow" /> : <Badge state="enforced" />} {h.fail_open ? "fail open" : "fail closed"}
                  </td>
                  <td>{h.timeout_ms === null ? "default" : `${h.timeout_ms} ms`}</td>
                  <td className="mono small-text">{h.id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Decision ledger</h2>
      <ErrorText error={ledger.error} />
      {!ledger.data && !ledger.error && <Loading what="decisions" />}
      {ledger.data && (
        <dl className="stats" data-testid="decision-summary">
          <div>
            <dt>Allowed</dt>
            <dd>{sum.allow}</dd>
          </div>
          <div>
            <dt>Denied</dt>
            <dd>{sum.deny}</dd>
          </div>
          <div>
            <dt>With a hook error</dt>
            <dd>{sum.errors}</dd>
          </div>
          <div>
            <dt>Shadow disagreed</dt>
            <dd>{sum.disagree}</dd>
          </div>
          <div>
            <dt>Latency avg / p95</dt>
            <dd>
              {ms(sum.avg)} / {ms(sum.p95)}
            </dd>
          </div>
        </dl>
      )}
      {ledger.data?.truncated && <p className="muted">Counted over the first 10,000 decisions.</p>}
      {ledger.data && all.length === 0 && <p className="muted">No evaluations recorded yet (POST /v1/evaluate/&lt;type&gt; or bus.before()).</p>}
      {recent.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">The newest {RECENT} decisions</caption>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Type</th>
                <th scope="col">Decision</th>
                <th scope="col">Latency</th>
                <th scope="col">Hooks</th>
              </tr>
            </thead>
            <tbody>
              {recent.map((d) => {
                const off = disagreements(d);
                return (
                  <tr key={d.id} className={off.length ? "disagree" : undefined}>
                    <td>
                      <Time value={d.at} />
                    </td>
                    <td className="mono">{d.type}</td>
                    <td>
                      <Badge state={d.decision} />
                      {d.reason && <span className="muted small-text"> {d.reason}</span>}
                    </td>
                    <td>{ms(d.latency_ms)}</td>
                    <td className="small-text">
                      {d.hooks.map((h, i) => (
                        <div key={i}>
                          <span className="mono">{h.hook_id}</span>
                          {h.shadow ? " (shadow)" : ""}: {h.outcome}
                          {h.error ? ` (${h.error})` : ""} · {ms(h.latency_ms)}
                          {off.includes(h) && <strong className="warn"> disagrees</strong>}
                        </div>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
